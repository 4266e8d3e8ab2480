"""ModelBucket: a private Cloud Storage bucket of model weights, encrypted with a customer-managed key."""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import storage

from genai_platform.components.tagging import gcp_labels
from genai_platform.components.validation import check_range

_LOCATION = re.compile(r"^[a-z]+(-[a-z]+[0-9]+)?$")


@dataclass
class ModelBucketArgs:
    """Arguments of :class:`ModelBucket`. Every default is the secure, cheap one."""

    location: str
    """Region of the bucket: the Cloud Run region that mounts it (same-region reads are free and fastest)."""

    kms_key_name: pulumi.Input[str]
    """Cloud KMS key of the default encryption (``KmsKeyRing.key_ids[...]``, in ``location``); the Cloud Storage
    service agent must hold ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on it (``service_agent("storage", ...)``)."""

    project: str | None = None
    """Project of the bucket; default: the provider's ``gcp:project``."""

    noncurrent_version_retention_days: int = 30
    """Days a replaced weight file is kept (versioning on: a bad upload is rolled back), 1-3650."""

    protect: bool = False
    """Pulumi ``protect`` on the bucket (prod); ``force_destroy`` stays off, so a bucket with objects is never deleted."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra labels (lower-cased) on the bucket."""


class ModelBucket(pulumi.ComponentResource):
    """Uniform bucket-level access (no ACLs), public access prevention enforced, versioning, CMEK, noncurrent
    versions expired. The bucket grants nobody anything: readers are bound by their own components
    (``CloudRunServiceArgs.gcs_volumes`` grants ``roles/storage.objectViewer`` to the service's own account)."""

    bucket_name: pulumi.Output[str]
    """Name of the bucket (mount it with ``GcsVolume(bucket=...)``)."""

    def __init__(self, name: str, args: ModelBucketArgs, opts: pulumi.ResourceOptions | None = None):
        if not _LOCATION.match(args.location):
            raise ValueError(f"location={args.location!r} is not a Cloud Storage region: use the Cloud Run region, "
                             "e.g. 'europe-west4'.")
        check_range("noncurrent_version_retention_days", args.noncurrent_version_retention_days, 1, 3650, " days")
        super().__init__("genai:gcp:ModelBucket", name, None, opts)
        bucket = storage.Bucket(
            f"{name}-bucket",
            location=args.location.upper(),
            project=args.project,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=storage.BucketVersioningArgs(enabled=True),
            encryption=storage.BucketEncryptionArgs(default_kms_key_name=args.kms_key_name),
            lifecycle_rules=[storage.BucketLifecycleRuleArgs(
                action=storage.BucketLifecycleRuleActionArgs(type="Delete"),
                condition=storage.BucketLifecycleRuleConditionArgs(
                    days_since_noncurrent_time=args.noncurrent_version_retention_days, with_state="ARCHIVED"),
            )],
            force_destroy=False,
            labels=gcp_labels(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.bucket_name = bucket.name
        self.register_outputs({"bucket_name": self.bucket_name})
