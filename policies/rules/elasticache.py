"""ElastiCache (Redis/Valkey replication groups): encrypted at rest and in transit, authenticated, HA in prod."""

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import MANDATORY, PROD_MANDATORY, RuleContext, resource_rule
from genai_platform.policies.values import as_list, flags_not_true, is_true

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


@resource_rule(
    name="elasticache-at-rest-encryption",
    types=[REPLICATION_GROUP],
    description="ElastiCache encrypts data at rest, including snapshots (checkov CKV_AWS_29, "
                "cdk-nag AwsSolutions-AEC3).",
    severity="high",
    levels=MANDATORY,
    remediation="Set at_rest_encryption_enabled=True (replaces the group: plan a snapshot restore).",
)
def at_rest_encryption(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    yield from flags_not_true(args.props, "atRestEncryptionEnabled")


@resource_rule(
    name="elasticache-in-transit-encryption",
    types=[REPLICATION_GROUP],
    description="ElastiCache requires TLS from clients: transit encryption on and not in 'preferred' mode, "
                "which still accepts clear text (checkov CKV_AWS_30, cdk-nag AwsSolutions-AEC3).",
    severity="high",
    levels=MANDATORY,
    remediation="Set transit_encryption_enabled=True and transit_encryption_mode='required'; clients connect "
                "with rediss://.",
)
def in_transit_encryption(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not is_true(args.props.get("transitEncryptionEnabled")):
        yield "transitEncryptionEnabled is not true."
    elif args.props.get("transitEncryptionMode") == "preferred":
        yield "transitEncryptionMode is 'preferred', which accepts unencrypted connections."


@resource_rule(
    name="elasticache-auth",
    types=[REPLICATION_GROUP],
    description="ElastiCache requires authentication: an AUTH token or RBAC user groups "
                "(checkov CKV_AWS_31, cdk-nag AwsSolutions-AEC6).",
    severity="high",
    levels=MANDATORY,
    remediation="Set user_group_ids=[<user group>] (RBAC, IAM-capable) or auth_token from a generated secret.",
)
def auth(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not args.props.get("authToken") and not as_list(args.props.get("userGroupIds")):
        yield "Neither authToken nor userGroupIds is set: any client in the network can connect."


@resource_rule(
    name="elasticache-automatic-failover",
    types=[REPLICATION_GROUP],
    description="ElastiCache runs a replica in another zone with automatic failover "
                "(checkov CKV2_AWS_50, cdk-nag AwsSolutions-AEC4). Mandatory in prod.",
    severity="medium",
    levels=PROD_MANDATORY,
    remediation="Set num_cache_clusters>=2 (or replicas_per_node_group>=1), automatic_failover_enabled=True "
                "and multi_az_enabled=True.",
)
def automatic_failover(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    yield from flags_not_true(args.props, "automaticFailoverEnabled", "multiAzEnabled")
