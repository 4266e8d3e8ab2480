"""ArtifactRepository: a private Docker repository in Artifact Registry with immutable tags and cleanup policies."""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import artifactregistry

from genai_platform.components.gcp.iam_members import check_members, member_slug
from genai_platform.components.tagging import gcp_labels
from genai_platform.components.validation import check_range

READER_ROLE = "roles/artifactregistry.reader"
SECONDS_PER_DAY = 86_400

_LOCATION = re.compile(r"^[a-z]+(-[a-z]+[0-9]+)?$")
_REPOSITORY_ID = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_IMAGE_NAME = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass
class ArtifactRepositoryArgs:
    """Arguments of :class:`ArtifactRepository`. Every default is the secure, cheap one."""

    location: str
    """Region (``europe-west4``) or multi-region (``europe``, ``us``, ``asia``) of the repository. Required: the
    image prefix is built from it, and images pulled from the region Cloud Run runs in cost no egress."""

    repository_id: str | None = None
    """Repository ID (lower-case letters, digits, '-'; at most 63). Default: the component name. Changing it
    replaces the repository and loses its images."""

    project: str | None = None
    """Project ID of the repository; default: the provider's ``gcp:project``."""

    untagged_expiry_days: int = 7
    """Delete untagged versions (superseded pushes, failed builds) this many days after upload, 1-365."""

    keep_recent_versions: int = 50
    """Never delete the most recent this many versions of each image (at least 1), whatever the delete
    policies say: the rollback window."""

    delete_tagged_after_days: int | None = None
    """Also delete tagged versions older than this many days (1-3650), except the most recent
    ``keep_recent_versions``. Default none: a tagged image is never deleted, so every release stays
    deployable; storage costs ~$0.10/GB-month after the free 0.5 GB."""

    cleanup_policy_dry_run: bool = False
    """Only log what the cleanup policies would delete. Default False: they delete (the point of having them)."""

    reader_members: list[str] = field(default_factory=list)
    """Principals granted ``roles/artifactregistry.reader`` on this repository only, e.g. a Cloud Run service's
    service account or, for another project's services, its Cloud Run service agent
    (``serviceAccount:service-<project-number>@serverless-robot-prod.iam.gserviceaccount.com``). Cloud Run in
    this project pulls without a grant. ``allUsers``/``allAuthenticatedUsers`` are refused: images stay private."""

    kms_key_name: pulumi.Input[str] | None = None
    """Cloud KMS key encrypting the images (CMEK), in the repository's location; the Artifact Registry service
    agent needs ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on it first (``KmsKeyRing`` grants it). Default
    none: Google-managed encryption. Set only at creation: changing it replaces the repository and its images."""

    protect: bool = False
    """Pulumi ``protect`` and the provider's ``deletion_policy="PREVENT"`` on the repository (it holds the images)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra labels (lower-cased for GCP) on the repository (the stack passes ``Environment``)."""


class ArtifactRepository(pulumi.ComponentResource):
    """A private Docker repository in Artifact Registry.

    Tags are immutable (a tag cannot be moved or deleted, so a deployed tag always means the same image);
    cleanup policies delete untagged versions after a week while keeping the most recent versions; readers
    are granted on the repository, never project-wide.
    """

    repository_id: pulumi.Output[str]
    """ID of the repository."""
    image_prefix: pulumi.Output[str]
    """``<location>-docker.pkg.dev/<project>/<repository_id>``: prefix of every image name in the repository."""

    def __init__(self, name: str, args: ArtifactRepositoryArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:gcp:ArtifactRepository", name, None, opts)

        repository = artifactregistry.Repository(
            f"{name}-repo",
            repository_id=args.repository_id or name,
            location=args.location,
            project=args.project,
            format="DOCKER",
            description=f"Container images of {name}",
            docker_config=artifactregistry.RepositoryDockerConfigArgs(immutable_tags=True),
            cleanup_policies=cleanup_policies(args),
            cleanup_policy_dry_run=args.cleanup_policy_dry_run,
            kms_key_name=args.kms_key_name,
            deletion_policy="PREVENT" if args.protect else None,
            labels=gcp_labels(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        for member in args.reader_members:
            artifactregistry.RepositoryIamMember(
                f"{name}-reader-{member_slug(member)}",
                repository=repository.name,
                location=repository.location,
                project=repository.project,
                role=READER_ROLE,
                member=member,
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.repository_id = repository.repository_id
        self.image_prefix = pulumi.Output.concat(
            args.location, "-docker.pkg.dev/", repository.project, "/", repository.repository_id)
        self.register_outputs({"repository_id": self.repository_id, "image_prefix": self.image_prefix})

    def image(self, name: str, tag: pulumi.Input[str]) -> pulumi.Output[str]:
        """The image reference ``<image_prefix>/<name>:<tag>`` for a Cloud Run service or pod spec."""
        if not _IMAGE_NAME.match(name):
            raise ValueError(f"name={name!r} is not an image name: use lower-case letters and digits separated by "
                             "'.', '_', '-' or '/'.")
        if isinstance(tag, str) and not _IMAGE_TAG.match(tag):
            raise ValueError(f"tag={tag!r} is not a Docker image tag: use up to 128 letters, digits, '_', '.' or '-', "
                             "not starting with '.' or '-'.")
        return pulumi.Output.concat(self.image_prefix, "/", name, ":", tag)


def cleanup_policies(args: ArtifactRepositoryArgs) -> list[artifactregistry.RepositoryCleanupPolicyArgs]:
    """Delete untagged versions after ``untagged_expiry_days`` (and tagged ones after ``delete_tagged_after_days``
    when set); a KEEP policy wins over every DELETE for the most recent ``keep_recent_versions``."""
    policies = [
        artifactregistry.RepositoryCleanupPolicyArgs(
            id="delete-untagged",
            action="DELETE",
            condition=artifactregistry.RepositoryCleanupPolicyConditionArgs(
                tag_state="UNTAGGED", older_than=f"{args.untagged_expiry_days * SECONDS_PER_DAY}s"),
        ),
        artifactregistry.RepositoryCleanupPolicyArgs(
            id="keep-recent",
            action="KEEP",
            most_recent_versions=artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
                keep_count=args.keep_recent_versions),
        ),
    ]
    if args.delete_tagged_after_days is not None:
        policies.append(artifactregistry.RepositoryCleanupPolicyArgs(
            id="delete-old-tagged",
            action="DELETE",
            condition=artifactregistry.RepositoryCleanupPolicyConditionArgs(
                tag_state="TAGGED", older_than=f"{args.delete_tagged_after_days * SECONDS_PER_DAY}s"),
        ))
    return policies


def _validate(name: str, args: ArtifactRepositoryArgs) -> None:
    if not _LOCATION.match(args.location):
        raise ValueError(f"location={args.location!r} is not an Artifact Registry location: use a region such as "
                         "'europe-west4' or a multi-region: 'europe', 'us', 'asia'.")
    repository_id = args.repository_id or name
    if not _REPOSITORY_ID.match(repository_id):
        raise ValueError(f"repository_id={repository_id!r} is not a repository ID: use at most 63 lower-case letters, "
                         "digits and '-', starting with a letter (pass repository_id explicitly).")
    check_range("untagged_expiry_days", args.untagged_expiry_days, 1, 365)
    check_range("keep_recent_versions", args.keep_recent_versions, 1)
    if args.delete_tagged_after_days is not None and not 1 <= args.delete_tagged_after_days <= 3650:
        raise ValueError(f"delete_tagged_after_days={args.delete_tagged_after_days} is out of range: use 1 to 3650, "
                         "or None to keep tagged images.")
    check_members("reader_members", args.reader_members,
                  ", which would make every image public: name the service accounts or groups that pull.")
