"""Cross-region replication of a :class:`~genai_platform.components.aws.data.bucket.Bucket`: its typed args, the least-privilege
replication role and the replication rule. Private to ``genai_platform.components.aws`` (the Bucket creates the replica)."""

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import iam, s3

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.data_helpers import allow, policy_json
from genai_platform.components.aws.limits import check_auto_name
from genai_platform.components.tagging import child_tags

REPLICA_STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR")
"""Destination storage classes a DR copy may use: all serve reads in milliseconds (no restore step in a failover)."""

REPLICATION_TIME_MINUTES = 15
"""The only threshold S3 Replication Time Control and its metrics accept."""

_SSE_KMS_OBJECTS = s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs
_MAX_BUCKET_NAME = 63
_MAX_ROLE_NAME = 64


@dataclass
class BucketReplicationArgs:
    """Cross-region replication of a bucket into a replica bucket in a disaster-recovery region."""

    provider: pulumi.ProviderResource
    """AWS provider of the DR region (``aws.Provider(region=...)``): the replica bucket, its KMS key and its
    settings are created through it. Required: the component never picks a region itself."""

    access_log_bucket: pulumi.Input[str] | None = None
    """Server-access-log target for the replica, in the DR region (S3 only logs into a bucket of the same
    region), under ``<component name>-replica/``. Default none."""

    storage_class: str = "STANDARD_IA"
    """Storage class of the replicas. Default ``STANDARD_IA``: a DR copy is read only after a region loss, and
    costs ~46% less than ``STANDARD`` (us-west-2: $0.0125 vs $0.023/GB-month) with millisecond reads; objects
    under 128 KB are billed as 128 KB and deleted ones for 30 days at least."""

    metrics: bool = False
    """S3 replication metrics (bytes and operations pending, latency) in CloudWatch, billed as custom metrics.
    Default off; ``time_control`` turns them on (S3 requires them together)."""

    time_control: bool = False
    """S3 Replication Time Control: 99.99% of objects replicated within 15 minutes, backed by an SLA, at
    $0.015/GB replicated on top of the transfer. Default off: without it most objects replicate within
    minutes but S3 promises no bound, so the recovery point objective is "minutes, usually"."""


def validate_replication(name: str, replication: BucketReplicationArgs) -> None:
    if replication.storage_class not in REPLICA_STORAGE_CLASSES:
        raise ValueError(
            f"replication.storage_class={replication.storage_class!r} is not a class a DR copy can fail over to "
            f"without a restore: use one of {', '.join(REPLICA_STORAGE_CLASSES)}."
        )
    check_auto_name(name, "-replica-bucket", _MAX_BUCKET_NAME, "S3 replica bucket")
    check_auto_name(name, "-replication", _MAX_ROLE_NAME, "S3 replication IAM role")


def replicate_into(name: str, parent: pulumi.Resource, *, source: s3.Bucket, source_key_arn: pulumi.Input[str],
                   replica: s3.Bucket, replica_key_arn: pulumi.Input[str], replication: BucketReplicationArgs,
                   tags: Mapping[str, str], depends_on: list[pulumi.Resource]) -> s3.BucketReplicationConfig:
    """The replication role and the rule replicating every object (and delete marker) of ``source``."""
    here, there = account_of(parent), account_of(parent, replication.provider)
    source_region, replica_region, account = here.region, there.region, here.account_id
    role = iam.Role(
        f"{name}-replication",
        description=f"S3 replicates {name} into its DR replica as this role",
        # aws:SourceAccount (AWS's confused-deputy advice): S3 acting for another account cannot assume it.
        assume_role_policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole",
                           "Condition": {"StringEquals": {"aws:SourceAccount": account}}}],
        }),
        tags=child_tags(f"{name}-replication", tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    role_policy = iam.RolePolicy(
        f"{name}-replication",
        role=role.id,
        policy=pulumi.Output.all(source.arn, source_key_arn, replica.arn, replica_key_arn).apply(
            lambda values: replication_policy_json(*values, source_region=source_region,
                                                   replica_region=replica_region)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    destination = s3.BucketReplicationConfigRuleDestinationArgs(
        bucket=replica.arn,
        storage_class=replication.storage_class,
        encryption_configuration=s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
            replica_kms_key_id=replica_key_arn),
        metrics=s3.BucketReplicationConfigRuleDestinationMetricsArgs(
            status="Enabled",
            event_threshold=s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                minutes=REPLICATION_TIME_MINUTES),
        ) if replication.metrics or replication.time_control else None,
        replication_time=s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
            status="Enabled",
            time=s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(minutes=REPLICATION_TIME_MINUTES),
        ) if replication.time_control else None,
    )
    return s3.BucketReplicationConfig(
        f"{name}-replication",
        bucket=source.id,
        role=role.arn,
        rules=[s3.BucketReplicationConfigRuleArgs(
            id="disaster-recovery",
            status="Enabled",
            filter=s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
            # The replica mirrors deletes as delete markers; the deleted versions stay restorable there for the
            # bucket's noncurrent-version window, like in the source.
            delete_marker_replication=s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Enabled"),
            # S3 skips SSE-KMS objects unless told to replicate them: every object here is SSE-KMS.
            source_selection_criteria=s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                sse_kms_encrypted_objects=_SSE_KMS_OBJECTS(status="Enabled")),
            destination=destination,
        )],
        # S3 refuses a replication configuration until versioning is on at both ends.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, role_policy]),
    )


def replication_policy_json(source_arn: str, source_key_arn: str, replica_arn: str, replica_key_arn: str, *,
                            source_region: str, replica_region: str) -> str:
    """What S3 needs to replicate SSE-KMS objects, and nothing else (AWS: "Replicating encrypted objects").

    The key statements are bound to S3 in each region and to the bucket (S3 Bucket Keys put the bucket ARN in the
    encryption context) or its objects, so the role cannot use either key for anything but this replication.
    """

    def via_s3(region: str, bucket_arn: str) -> dict:
        return {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]}}

    return policy_json([
        allow("ReadSourceConfiguration", ["s3:GetReplicationConfiguration", "s3:ListBucket"], [source_arn]),
        allow("ReadSourceVersions", ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                                     "s3:GetObjectVersionTagging"], [f"{source_arn}/*"]),
        allow("WriteReplicas", ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], [f"{replica_arn}/*"]),
        {**allow("DecryptSource", ["kms:Decrypt"], [source_key_arn]), "Condition": via_s3(source_region, source_arn)},
        {**allow("EncryptReplicas", ["kms:Encrypt"], [replica_key_arn]),
         "Condition": via_s3(replica_region, replica_arn)},
    ])
