"""Bucket: a private, versioned, KMS-encrypted, TLS-only S3 bucket with lifecycle hygiene."""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import elb, s3

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.data.bucket_replication import BucketReplicationArgs, replicate_into, validate_replication
from genai_platform.components.aws.data_helpers import (
    access_policy_json,
    check_kms_key_arn,
    deny_insecure_transport,
    policy_json,
    rotating_key,
)
from genai_platform.components.aws.limits import check_auto_name
from genai_platform.components.tagging import child_tags
from genai_platform.components.validation import check_range

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

    replication: BucketReplicationArgs | None = None
    """Cross-region replication for disaster recovery: a replica bucket in another region (its own KMS key,
    versioning, the same public-access, ownership, TLS and lifecycle rules) and a least-privilege replication
    role. Default none: one region. See :class:`BucketReplicationArgs` for its options and costs."""

    protect: bool = False
    """Pulumi ``protect`` on the bucket and its key (S3 has no deletion protection; ``force_destroy`` stays off,
    so a bucket with objects cannot be deleted anyway)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class Bucket(pulumi.ComponentResource):
    """An S3 bucket that is private by construction.

    Public access blocked (all four settings), ACLs disabled (bucket owner enforced), default encryption
    SSE-KMS with a Bucket Key, versioning on, non-TLS and pre-TLS-1.2 requests denied, noncurrent
    versions and incomplete uploads expired, optional server access logging and cross-region replication.
    """

    bucket_name: pulumi.Output[str]
    """Bucket name."""
    bucket_arn: pulumi.Output[str]
    """Bucket ARN."""
    bucket_regional_domain_name: pulumi.Output[str]
    """Regional endpoint host name (for CloudFront origins and VPC endpoint clients)."""
    kms_key_arn: pulumi.Output[str] | None
    """Key encrypting the objects (None for an access-log target, which uses SSE-S3)."""
    replica_bucket_name: pulumi.Output[str] | None
    """Name of the replica bucket in the DR region (None without ``replication``): restore or fail over from it."""
    replica_bucket_arn: pulumi.Output[str] | None
    """ARN of the replica bucket (None without ``replication``)."""
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
        key_arn = None
        if not (args.access_log_target or args.load_balancer_log_target):
            key_arn = args.kms_key_arn
            if key_arn is None:
                key_arn = rotating_key(f"{name}-key", f"S3 bucket {name}: default object encryption", tags, self,
                                       args.protect).arn
        statements = []
        if args.access_log_target or args.load_balancer_log_target:
            invoke = pulumi.InvokeOptions(parent=self)
            account = account_of(self).account_id
            if args.access_log_target:
                statements += _s3_log_delivery(account)
            if args.load_balancer_log_target:
                statements += _load_balancer_log_delivery(account, elb.get_service_account(opts=invoke).arn)
        versioning = self._harden(name, bucket, key_arn, statements, args)
        if args.access_log_bucket is not None:
            self._log_access(name, bucket, args.access_log_bucket)

        self.replica_bucket_name = self.replica_bucket_arn = None
        if args.replication is not None:
            self._replicate(bucket, key_arn, versioning, args)
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
                "replica_bucket_name": self.replica_bucket_name,
                "replica_bucket_arn": self.replica_bucket_arn,
                "read_policy_json": self.read_policy_json,
                "write_policy_json": self.write_policy_json,
            }
        )

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _harden(self, prefix: str, bucket: s3.Bucket, key_arn: pulumi.Input[str] | None, statements: list[dict],
                args: BucketArgs, provider: pulumi.ProviderResource | None = None) -> s3.BucketVersioning:
        """Public access blocked, ACLs off, default encryption, versioning, lifecycle and the TLS-only policy of
        ``bucket`` (children named ``<prefix>-...``, created through ``provider``); returns the versioning."""
        child = functools.partial(self._child, provider=provider)
        public_access = s3.BucketPublicAccessBlock(
            f"{prefix}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(),
        )
        # ACLs off: objects belong to the bucket owner whoever uploads them; access is decided by policy only.
        s3.BucketOwnershipControls(
            f"{prefix}-ownership",
            bucket=bucket.id,
            rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child(),
        )
        by_default = (
            s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=key_arn)
            if key_arn is not None
            else s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256")
        )
        s3.BucketServerSideEncryptionConfiguration(
            f"{prefix}-encryption",
            bucket=bucket.id,
            rules=[s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=by_default, bucket_key_enabled=key_arn is not None)],
            opts=child(),
        )
        versioning = s3.BucketVersioning(
            f"{prefix}-versioning",
            bucket=bucket.id,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child(),
        )
        self._lifecycle(prefix, bucket, versioning, args, child)
        s3.BucketPolicy(
            f"{prefix}-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: policy_json(_bucket_statements(arn) + [
                {**statement, "Resource": [arn + path for path in statement["Resource"]]}
                for statement in statements])),
            # S3 rejects concurrent bucket-policy and public-access-block writes (OperationAborted).
            opts=child(depends_on=[public_access]),
        )
        return versioning

    def _log_access(self, prefix: str, bucket: s3.Bucket, target_bucket: pulumi.Input[str],
                    provider: pulumi.ProviderResource | None = None) -> None:
        s3.BucketLogging(
            f"{prefix}-logging",
            bucket=bucket.id,
            target_bucket=target_bucket,
            target_prefix=f"{prefix}/",
            opts=self._child(provider=provider),
        )

    def _replicate(self, source: s3.Bucket, source_key_arn: pulumi.Input[str], source_versioning: s3.BucketVersioning,
                   args: BucketArgs) -> None:
        """A replica bucket in the DR region (own key, same hardening) and the rule copying every object to it."""
        replication, prefix = args.replication, f"{self._name}-replica"
        replica = s3.Bucket(
            f"{prefix}-bucket",
            force_destroy=False,
            tags=child_tags(f"{prefix}-bucket", args.tags),
            opts=self._child(protect=args.protect, provider=replication.provider),
        )
        replica_key = rotating_key(f"{prefix}-key", f"S3 bucket {prefix}: replica object encryption", args.tags,
                                   self, args.protect, replication.provider)
        replica_versioning = self._harden(prefix, replica, replica_key.arn, [], args, replication.provider)
        if replication.access_log_bucket is not None:
            self._log_access(prefix, replica, replication.access_log_bucket, replication.provider)
        replicate_into(self._name, self, source=source, source_key_arn=source_key_arn, replica=replica,
                       replica_key_arn=replica_key.arn, replication=replication, tags=args.tags,
                       depends_on=[source_versioning, replica_versioning])
        self.replica_bucket_name, self.replica_bucket_arn = replica.bucket, replica.arn

    def _lifecycle(self, prefix: str, bucket: s3.Bucket, versioning: s3.BucketVersioning, args: BucketArgs,
                   child: Callable[..., pulumi.ResourceOptions]) -> None:
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
            f"{prefix}-lifecycle",
            bucket=bucket.id,
            rules=rules,
            # Noncurrent-version rules on a bucket whose versioning is not yet on are accepted but do nothing.
            opts=child(depends_on=[versioning]),
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
    if args.replication is not None:
        if args.access_log_target or args.load_balancer_log_target:
            raise ValueError(
                "replication is set on a log target (access_log_target or load_balancer_log_target): replication "
                "copies SSE-KMS data buckets; logs stay in their region, so drop replication."
            )
        validate_replication(name, args.replication)
