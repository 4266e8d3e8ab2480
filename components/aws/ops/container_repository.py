"""ContainerRepository: an ECR repository with immutable tags, scan on push, KMS encryption and a lifecycle policy."""

import json
import re
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ecr

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.data_helpers import check_kms_key_arn, policy_json
from genai_platform.components.tagging import child_tags
from genai_platform.components.validation import check_range

PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
"""What ``docker pull`` needs on the repository; the puller's own IAM policy also needs
``ecr:GetAuthorizationToken`` (an account-level action, not granted here)."""

# ECR's repository name grammar: lower-case path components separated by '/', each joined by '.', '_' or '-'.
_REPOSITORY_NAME = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_MAX_REPOSITORY_NAME = 256
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass
class ContainerRepositoryArgs:
    """Arguments of :class:`ContainerRepository`. Every default is the secure, cheap one."""

    repository_name: str | None = None
    """Repository name (lower case; ``/`` allowed, e.g. ``rag/api``). Default: Pulumi's auto-name (component name
    plus a random suffix), unique even when several environments share an account; CI reads
    ``repository_url`` from the stack outputs instead of guessing it. ECR replaces the repository (and so
    loses its images) when the name changes."""

    kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed key for SSE-KMS. Default none: SSE-KMS with the AWS-managed ``aws/ecr`` key (no key
    cost, no key policy to maintain). Pass a key when auditors need key-level revocation; ECR cannot
    change the key of an existing repository (it is replaced)."""

    untagged_expiry_days: int = 7
    """Expire untagged images (layers left behind by re-builds, failed pushes) this many days after the
    push, 1-365. A week leaves time to inspect a failed build; storage is $0.10/GB-month."""

    keep_tagged_images: int = 50
    """Keep this many of the most recent images and expire older ones, 1-100000. Fifty covers weeks of
    deploys to roll back to. The rule counts every image (ECR allows a catch-all count rule only with
    ``tagStatus: any``), so untagged images younger than ``untagged_expiry_days`` count towards it too."""

    pull_account_ids: list[str] = field(default_factory=list)
    """Other AWS accounts (12-digit IDs) allowed to pull, e.g. a prod account pulling images built in a
    tooling account. Default none: only principals of this account whose IAM policies allow it. Those
    accounts still need ``ecr:GetAuthorizationToken`` and, with ``kms_key_arn``, use of the key."""

    protect: bool = False
    """Pulumi ``protect`` on the repository (ECR has no deletion protection of its own; ``force_delete`` is
    always off, so even an unprotected repository holding images cannot be deleted)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class ContainerRepository(pulumi.ComponentResource):
    """A private ECR repository for one service's images.

    Tags are immutable (a deployed tag always means the same image: push a git SHA, never re-push
    ``latest``), every push is scanned for CVEs, images are encrypted with KMS, and a lifecycle policy
    expires untagged images and all but the most recent ones, so storage does not grow forever.
    """

    repository_url: pulumi.Output[str]
    """``<account>.dkr.ecr.<region>.amazonaws.com/<name>``: what ``docker push`` and task definitions use."""
    repository_arn: pulumi.Output[str]
    """ARN of the repository (IAM policies for CI pushers and pullers)."""
    repository_name: pulumi.Output[str]
    """Name of the repository."""

    def __init__(self, name: str, args: ContainerRepositoryArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:aws:ContainerRepository", name, None, opts)

        repository = ecr.Repository(
            f"{name}-repo",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",  # checkov CKV_AWS_51
            image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            # KMS rather than AES256 (checkov CKV_AWS_136); no key_arn means the AWS-managed aws/ecr key.
            encryption_configurations=[ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=args.kms_key_arn)],
            force_delete=False,  # deleting a repository that still holds images fails instead of losing them
            tags=child_tags(f"{name}-repo", args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repository.name,
            policy=json.dumps(lifecycle_policy(args.untagged_expiry_days, args.keep_tagged_images)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        if args.pull_account_ids:
            partition = account_of(self).partition
            principals = [f"arn:{partition}:iam::{account}:root" for account in args.pull_account_ids]
            ecr.RepositoryPolicy(
                f"{name}-policy",
                repository=repository.name,
                # A repository policy's statements apply to its own repository: it takes no Resource element.
                policy=policy_json([{"Sid": "PullFromNamedAccounts", "Effect": "Allow",
                                     "Principal": {"AWS": principals}, "Action": PULL_ACTIONS}]),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.repository_url, self.repository_arn = repository.repository_url, repository.arn
        self.repository_name = repository.name
        self.register_outputs({"repository_url": self.repository_url, "repository_arn": self.repository_arn,
                               "repository_name": self.repository_name})

    def image(self, tag: pulumi.Input[str]) -> pulumi.Output[str]:
        """The image reference ``<repository_url>:<tag>`` for a task definition or pod spec."""
        if isinstance(tag, str) and not _IMAGE_TAG.match(tag):
            raise ValueError(f"tag={tag!r} is not a Docker image tag: use up to 128 letters, digits, '_', '.' or '-', "
                             "not starting with '.' or '-'.")
        return pulumi.Output.concat(self.repository_url, ":", tag)


def lifecycle_policy(untagged_expiry_days: int, keep_images: int) -> dict:
    """The ECR lifecycle policy document. Rules are listed in ascending ``rulePriority`` (ECR reorders them
    otherwise and the provider then sees a diff on every run); the ``any`` rule must have the highest."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images {untagged_expiry_days} days after push",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                              "countNumber": untagged_expiry_days},
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep only the {keep_images} most recent images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
                "action": {"type": "expire"},
            },
        ]
    }


def _validate(name: str, args: ContainerRepositoryArgs) -> None:
    if args.repository_name is not None:
        if len(args.repository_name) > _MAX_REPOSITORY_NAME or not _REPOSITORY_NAME.match(args.repository_name):
            raise ValueError(f"repository_name={args.repository_name!r} is not an ECR repository name: use lower-case "
                             "letters and digits separated by '.', '_', '-' or '/', at most 256 characters.")
    elif not _REPOSITORY_NAME.match(name) or "/" in name:
        raise ValueError(f"name={name!r} cannot prefix an auto-named ECR repository (lower-case letters and digits "
                         "separated by '.', '_' or '-'): pass repository_name or use a lower-case component name.")
    check_kms_key_arn("kms_key_arn", args.kms_key_arn)
    check_range("untagged_expiry_days", args.untagged_expiry_days, 1, 365)
    check_range("keep_tagged_images", args.keep_tagged_images, 1, 100_000,
                " (ECR's default images-per-repository quota)")
    for account in args.pull_account_ids:
        if not _ACCOUNT_ID.match(account):
            raise ValueError(f"pull_account_ids contains {account!r}, which is not a 12-digit AWS account ID.")
    if len(set(args.pull_account_ids)) != len(args.pull_account_ids):
        raise ValueError(f"pull_account_ids={args.pull_account_ids} lists an account twice: list each once.")
