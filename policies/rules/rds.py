"""RDS: encrypted, private, TLS-only, Secrets-Manager-owned passwords; prod survives a zone and a mistake."""

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import ADVISORY, MANDATORY, PROD_MANDATORY, RuleContext, Setting, resource_rule
from genai_platform.policies.values import as_list, each_mapping, flags_not_true, get, is_true, number

INSTANCE = "aws:rds/instance:Instance"
CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
DATABASES = (INSTANCE, CLUSTER)

# The engines' own log names; exporting them is what makes slow queries and errors searchable.
_LOG_EXPORTS = {"postgres": "postgresql", "aurora-postgresql": "postgresql", "mysql": "error",
                "aurora-mysql": "error", "mariadb": "error"}


def _is_replica(args: ResourceValidationArgs) -> bool:
    # Read replicas and restores inherit credentials and backups from their source.
    return bool(args.props.get("replicateSourceDb") or args.props.get("snapshotIdentifier"))


@resource_rule(
    name="rds-storage-encrypted",
    types=DATABASES,
    description="RDS storage is encrypted at rest (checkov CKV_AWS_16/96, cdk-nag AwsSolutions-RDS2, "
                "awsguard rds-storage-encrypted).",
    severity="critical",
    levels=MANDATORY,
    remediation="Set storage_encrypted=True (with kms_key_id for a customer-managed key); an existing "
                "database must be restored from an encrypted snapshot copy.",
)
def storage_encrypted(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    yield from flags_not_true(args.props, "storageEncrypted")


@resource_rule(
    name="rds-not-publicly-accessible",
    types=[INSTANCE, CLUSTER_INSTANCE],
    description="RDS instances get no public IP (checkov CKV_AWS_17, awsguard rds-instance-public-access-check).",
    severity="critical",
    levels=MANDATORY,
    remediation="Set publicly_accessible=False and place the database in isolated subnets; connect through "
                "the VPC (bastion-less: SSM port forwarding).",
)
def not_publicly_accessible(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if is_true(args.props.get("publiclyAccessible")):
        yield "publiclyAccessible is true."


@resource_rule(
    name="rds-multi-az",
    types=[INSTANCE],
    description="RDS instances run Multi-AZ so a zone failure costs a failover, not an outage "
                "(checkov CKV_AWS_157, cdk-nag AwsSolutions-RDS3, awsguard rds-instance-multi-az-enabled). "
                "Mandatory in prod.",
    severity="medium",
    levels=PROD_MANDATORY,
    remediation="Set multi_az=True (doubles the instance cost; keep it off in dev).",
)
def multi_az(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    yield from flags_not_true(args.props, "multiAz")


@resource_rule(
    name="rds-deletion-protection",
    types=DATABASES,
    description="RDS databases refuse deletion until protection is turned off "
                "(checkov CKV_AWS_293/139, cdk-nag AwsSolutions-RDS10). Mandatory in prod.",
    severity="high",
    levels=PROD_MANDATORY,
    remediation="Set deletion_protection=True (the component's protect=True does this and sets the "
                "Pulumi protect option).",
)
def deletion_protection(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    yield from flags_not_true(args.props, "deletionProtection")


@resource_rule(
    name="rds-backup-retention",
    types=DATABASES,
    description="RDS keeps automated backups for point-in-time recovery, at least minBackupRetentionDays "
                "(1 day, 7 in prod) (checkov CKV_AWS_133, cdk-nag AwsSolutions-RDS13, "
                "awsguard rds-instance-backup-enabled).",
    severity="high",
    levels=MANDATORY,
    remediation="Set backup_retention_period to at least the configured minimum (7 days in prod).",
    settings={"minBackupRetentionDays": Setting({"type": "integer", "minimum": 1, "maximum": 35}, 1, prod=7,
                                                description="Fewest days of automated backups (1 day, 7 in prod).")},
)
def backup_retention(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if _is_replica(args):
        return
    value = args.props.get("backupRetentionPeriod")
    days = 1 if value is None else number(value)  # AWS keeps 1 day when the argument is omitted
    if days is not None and days < ctx["minBackupRetentionDays"]:
        setting = "backupRetentionPeriod is unset (AWS keeps 1 day)" if value is None else f"backupRetentionPeriod={days}"
        yield f"{setting} is below {ctx['minBackupRetentionDays']} days for {ctx.environment}."


@resource_rule(
    name="rds-managed-master-password",
    types=DATABASES,
    description="The master password is generated and rotated by RDS in Secrets Manager, never set by the "
                "program, where it would sit in state (cdk-nag AwsSolutions-SMG4, checkov CKV2_AWS_57).",
    severity="high",
    levels=MANDATORY,
    remediation="Set manage_master_user_password=True and drop password/master_password; apps read the "
                "secret from master_user_secrets[0].secret_arn.",
)
def managed_master_password(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if _is_replica(args):
        return
    if args.props.get("password") is not None or args.props.get("masterPassword") is not None:
        yield "A master password is passed in by the program."
    yield from flags_not_true(args.props, "manageMasterUserPassword")


@resource_rule(
    name="rds-force-ssl",
    types=[PARAMETER_GROUP],
    description="PostgreSQL parameter groups set rds.force_ssl=1 so clients cannot connect in clear text "
                "(checkov CKV2_AWS_69).",
    severity="medium",
    levels=MANDATORY,
    remediation="Add parameters=[{'name': 'rds.force_ssl', 'value': '1'}] to the parameter group.",
)
def force_ssl(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not str(args.props.get("family") or "").startswith("postgres"):
        return
    values = {p.get("name"): str(p.get("value")) for p in each_mapping(as_list(args.props.get("parameters")))}
    if values.get("rds.force_ssl") != "1":
        yield f"rds.force_ssl is {values.get('rds.force_ssl', 'not set')}."


@resource_rule(
    name="rds-iam-authentication",
    types=DATABASES,
    description="RDS accepts IAM authentication, so workloads can log in with short-lived tokens "
                "(checkov CKV_AWS_161/162, cdk-nag AwsSolutions-RDS6).",
    severity="low",
    levels=ADVISORY,
    remediation="Set iam_database_authentication_enabled=True and grant rds_iam to application roles.",
)
def iam_authentication(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    yield from flags_not_true(args.props, "iamDatabaseAuthenticationEnabled")


@resource_rule(
    name="rds-log-exports",
    types=DATABASES,
    description="RDS exports the engine log to CloudWatch Logs (checkov CKV_AWS_129/324, CKV2_AWS_30).",
    severity="low",
    levels=ADVISORY,
    remediation="Set enabled_cloudwatch_logs_exports=['postgresql'] (the engine's log name).",
)
def log_exports(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    wanted = _LOG_EXPORTS.get(str(args.props.get("engine") or ""))
    exported = as_list(args.props.get("enabledCloudwatchLogsExports"))
    if wanted and wanted not in exported:
        yield f"enabledCloudwatchLogsExports does not include {wanted!r}."


@resource_rule(
    name="rds-monitoring",
    types=[INSTANCE],
    description="RDS instances have Performance Insights and enhanced monitoring "
                "(checkov CKV_AWS_353, CKV_AWS_118).",
    severity="low",
    levels=ADVISORY,
    remediation="Set performance_insights_enabled=True (7 days free) and monitoring_interval=60 with a "
                "monitoring_role_arn.",
)
def monitoring(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    yield from flags_not_true(args.props, "performanceInsightsEnabled")
    if not get(args.props, "monitoringInterval", 0):
        yield "monitoringInterval is 0 (enhanced monitoring off)."
