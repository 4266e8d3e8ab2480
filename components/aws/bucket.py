"""Bucket: a private, versioned, KMS-encrypted, TLS-only S3 bucket with lifecycle hygiene."""

from dataclasses import dataclass, field

import pulumi
from pulumi_aws import elb, get_caller_identity, s3

from components.aws.data_helpers import (
    access_policy_json,
    check_kms_key_arn,
    deny_insecure_transport,
    policy_json,
    rotating_key,
)
from components.aws.limits import check_auto_name
from components.tagging import child_tags
from components.validation import check_range

_MAX_BUCKET_NAME = 63


@dataclass
class BucketArgs:
    """Arguments of :class:`Bucket`. Every default is the secure, cheap one."""

    noncurrent_version_expiration_days: int = 30
    """Days a replaced or deleted object version is kept before S3 expires it, 1-3650. Versioning protects
    against overwrites and deletes; this bounds what that protection costs."""

    object_expiration_days: int | None = None
    """Expire current objects this many days after creation (access logs, scratch data); they then become
    noncurrent and go after ``noncurrent_version_expiration_days``. Default none: objects are kept."""

    abort_incomplete_multipart_upload_days: int = 7
    """Days after which S3 aborts unfinished multipart uploads, whose parts are otherwise billed forever."""

    kms_key_arn: pulumi.Input[str] | None = None
    """Key for SSE-KMS default encryption. Default: a new customer-managed key with yearly rotation (~$1/month);
    the S3 Bucket Key keeps KMS request costs ~99% lower."""

    access_log_bucket: pulumi.Input[str] | None = None
    """Name of a bucket receiving S3 server access logs for this one (under ``<component name>/``). Default
    none. The target must allow ``logging.s3.amazonaws.com`` and use SSE-S3: create it with this component
    and ``access_log_target=True``."""

    access_log_target: bool = False
    """Make this bucket a server-access-log destination: SSE-S3 instead of SSE-KMS (S3 cannot deliver logs
    into an SSE-KMS bucket) and a policy statement letting the S3 logging service of this account write."""

    load_balancer_log_target: bool = False
    """Make this bucket the destination of ALB/NLB access logs: SSE-S3 (the only encryption ELB log delivery
    supports) and statements letting the region's Elastic Load Balancing account (older regions) and the
    ``logdelivery.elasticloadbalancing.amazonaws.com`` principal (newer regions) write under
    ``[<log prefix>/]AWSLogs/<this account>/``, so each load balancer may use its own prefix (``FargateAlbService``
    uses its name). Pair it with ``object_expiration_days`` to bound how long logs are kept."""

    protect: bool = False
    """Pulumi ``protect`` on the bucket and its key (S3 has no deletion protection; ``force_destroy`` stays off,
    so a bucket with objects cannot be deleted anyway)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class Bucket(pulumi.ComponentResource):
    """An S3 bucket that is private by construction.

    Public access blocked (all four settings), ACLs disabled (bucket owner enforced), default encryption
    SSE-KMS with a Bucket Key, versioning on, non-TLS and pre-TLS-1.2 requests denied, noncurrent
    versions and incomplete uploads expired, optional server access logging.
    """

    bucket_name: pulumi.Output[str]
    """Bucket name."""
    bucket_arn: pulumi.Output[str]
    """Bucket ARN."""
    bucket_regional_domain_name: pulumi.Output[str]
    """Regional endpoint host name (for CloudFront origins and VPC endpoint clients)."""
    kms_key_arn: pulumi.Output[str] | None
    """Key encrypting the objects (None for an access-log target, which uses SSE-S3)."""
    read_policy_json: pulumi.Output[str]
    """IAM policy to read: ``s3:ListBucket`` on the bucket, ``s3:GetObject`` on its objects, ``kms:Decrypt``."""
    write_policy_json: pulumi.Output[str]
    """IAM policy to write: ``s3:PutObject``, ``s3:AbortMultipartUpload``, ``s3:DeleteObject`` on the objects
    (a delete only adds a delete marker: versions stay ``noncurrent_version_expiration_days``), and
    ``kms:GenerateDataKey`` + ``kms:Decrypt`` (multipart uploads need both)."""

    def __init__(self, name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:aws:Bucket", name, None, opts)
        self._name = name
        tags = args.tags

        bucket = s3.Bucket(
            f"{name}-bucket",
            force_destroy=False,
            tags=child_tags(f"{name}-bucket", tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        public_access = s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._child(),
        )
        # ACLs off: objects belong to the bucket owner whoever uploads them; access is decided by policy only.
        s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=self._child(),
        )

        key_arn = None
        if not (args.access_log_target or args.load_balancer_log_target):
            key_arn = args.kms_key_arn
            if key_arn is None:
                key_arn = rotating_key(f"{name}-key", f"S3 bucket {name}: default object encryption", tags, self,
                                       args.protect).arn
        by_default = (
            s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=key_arn)
            if key_arn is not None
            else s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256")
        )
        s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=by_default, bucket_key_enabled=key_arn is not None)],
            opts=self._child(),
        )
        versioning = s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=self._child(),
        )
        self._lifecycle(bucket, versioning, args)

        statements = []
        if args.access_log_target or args.load_balancer_log_target:
            invoke = pulumi.InvokeOptions(parent=self)
            account = get_caller_identity(opts=invoke).account_id
            if args.access_log_target:
                statements += _s3_log_delivery(account)
            if args.load_balancer_log_target:
                statements += _load_balancer_log_delivery(account, elb.get_service_account(opts=invoke).arn)
        s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: policy_json(_bucket_statements(arn) + [
                {**statement, "Resource": [arn + path for path in statement["Resource"]]}
                for statement in statements])),
            # S3 rejects concurrent bucket-policy and public-access-block writes (OperationAborted).
            opts=self._child(depends_on=[public_access]),
        )
        if args.access_log_bucket is not None:
            s3.BucketLogging(
                f"{name}-logging",
                bucket=bucket.id,
                target_bucket=args.access_log_bucket,
                target_prefix=f"{name}/",
                opts=self._child(),
            )

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.bucket_regional_domain_name = bucket.bucket_regional_domain_name
        self.kms_key_arn = pulumi.Output.from_input(key_arn) if key_arn is not None else None
        objects = bucket.arn.apply(lambda arn: f"{arn}/*")
        self.read_policy_json = access_policy_json(
            [("Bucket", ["s3:ListBucket"], bucket.arn), ("Objects", ["s3:GetObject"], objects)],
            key_arn, ["kms:Decrypt"])
        self.write_policy_json = access_policy_json(
            [("Objects", ["s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"], objects)],
            key_arn, ["kms:GenerateDataKey", "kms:Decrypt"])
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "kms_key_arn": self.kms_key_arn,
                "read_policy_json": self.read_policy_json,
                "write_policy_json": self.write_policy_json,
            }
        )

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _lifecycle(self, bucket: s3.Bucket, versioning: s3.BucketVersioning, args: BucketArgs) -> None:
        every_object = s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
        rules = [
            s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-noncurrent-versions",
                status="Enabled",
                filter=every_object,
                noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=args.noncurrent_version_expiration_days),
                # Once its versions are gone a delete marker is useless but still slows LIST calls.
                expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
            ),
            s3.BucketLifecycleConfigurationRuleArgs(
                id="abort-incomplete-multipart-uploads",
                status="Enabled",
                filter=every_object,
                abort_incomplete_multipart_upload=s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=args.abort_incomplete_multipart_upload_days),
            ),
        ]
        if args.object_expiration_days is not None:
            rules.append(s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-current-objects",
                status="Enabled",
                filter=every_object,
                expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.object_expiration_days),
            ))
        s3.BucketLifecycleConfiguration(
            f"{self._name}-lifecycle",
            bucket=bucket.id,
            rules=rules,
            # Noncurrent-version rules on a bucket whose versioning is not yet on are accepted but do nothing.
            opts=self._child(depends_on=[versioning]),
        )


def _bucket_statements(arn: str) -> list[dict]:
    resources = [arn, f"{arn}/*"]
    return [
        deny_insecure_transport("s3", resources),
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def _s3_log_delivery(account: str) -> list[dict]:
    """S3 server access logs from buckets of this account (resources relative to the bucket ARN)."""
    return [{
        "Sid": "S3ServerAccessLogsFromThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": ["s3:PutObject"],
        "Resource": ["/*"],
        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
    }]


def _load_balancer_log_delivery(account: str, elb_account_arn: str) -> list[dict]:
    """ALB/NLB access logs of this account: regions before August 2022 deliver as the regional ELB
    account, newer ones as the log-delivery service principal (resources relative to the bucket ARN)."""
    # A load balancer with an access-log prefix writes <prefix>/AWSLogs/<account>/..., and checks that it may
    # (a test object) when logging is turned on: without the prefixed path that create or update fails.
    return [{
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": ["s3:PutObject"],
        "Resource": [f"/AWSLogs/{account}/*", f"/*/AWSLogs/{account}/*"],
    } for sid, principal in (("LoadBalancerLogsFromRegionalAccount", {"AWS": elb_account_arn}),
                             ("LoadBalancerLogsFromDeliveryService",
                              {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}))]


def _validate(name: str, args: BucketArgs) -> None:
    check_auto_name(name, "-bucket", _MAX_BUCKET_NAME, "S3 bucket")
    check_range("noncurrent_version_expiration_days", args.noncurrent_version_expiration_days, 1, 3650)
    if args.object_expiration_days is not None:
        check_range("object_expiration_days", args.object_expiration_days, 1, 36500)
    check_range("abort_incomplete_multipart_upload_days", args.abort_incomplete_multipart_upload_days, 1, 365)
    check_kms_key_arn("kms_key_arn", args.kms_key_arn)
    if args.load_balancer_log_target and args.kms_key_arn is not None:
        raise ValueError(
            "kms_key_arn is set but load_balancer_log_target=True: load balancers deliver access logs only into "
            "SSE-S3 buckets; drop kms_key_arn or load_balancer_log_target."
        )
    if args.access_log_target and args.kms_key_arn is not None:
        raise ValueError(
            "kms_key_arn is set but access_log_target=True: S3 cannot deliver access logs into an SSE-KMS "
            "bucket, so a log target uses SSE-S3; drop kms_key_arn or access_log_target."
        )
