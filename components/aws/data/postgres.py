"""PostgresDatabase: RDS for PostgreSQL 16+ that is private, encrypted, TLS-only and ready for pgvector."""

import json
import re
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import cloudwatch, iam, rds

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.data_helpers import (
    access_policy_json,
    admit_client,
    check_kms_key_arn,
    check_not_empty,
    rotating_key,
    security_group_admitting,
)
from genai_platform.components.aws.limits import check_auto_name, check_log_retention
from genai_platform.components.tagging import child_tags
from genai_platform.components.validation import check_range

PORT = 5432
MIN_MAJOR_VERSION = 16
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
LOG_EXPORTS = ("postgresql", "upgrade", "iam-db-auth-error")
_MAX_STORAGE_GB = 65536  # gp3 ceiling for RDS for PostgreSQL
_MAX_ROLE_NAME = 64
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_VERSION = re.compile(r"^(\d+)(\.\d+)?$")


@dataclass
class PostgresDatabaseArgs:
    """Arguments of :class:`PostgresDatabase`. Every default is the secure, cheap one."""

    vpc_id: pulumi.Input[str]
    """VPC of the database's security group."""

    db_subnet_group_name: pulumi.Input[str]
    """RDS subnet group over the isolated tier (``Vpc.database_subnet_group_name``): no route to the internet."""

    allowed_security_group_ids: list[pulumi.Input[str]]
    """Security groups of the clients (EKS nodes or pods, ECS tasks). Port 5432 is open to these only;
    there is no CIDR rule at all. At least one is required."""

    engine_version: str = "17"
    """PostgreSQL version, 16 or later. A major only (``"17"``) lets RDS pick its default minor and, with
    ``auto_minor_version_upgrade``, keeps patching without drift; pinning ``"17.7"`` makes the next
    automatic minor upgrade show as a downgrade in the plan. The parameter group family
    (``postgres17``) follows the major; raising the major upgrades the instance in place in the next maintenance
    window (test the upgrade on a snapshot first: it cannot be undone)."""

    instance_class: str = "db.t4g.micro"
    """Instance size. Default: the smallest Graviton class (~$12/month single-AZ in us-east-1)."""

    allocated_storage_gb: int = 20
    """Initial gp3 storage, 20-65536 GiB (20 is gp3's minimum; below 400 GiB gp3 includes 3000 IOPS)."""

    max_allocated_storage_gb: int = 100
    """Storage autoscaling ceiling: RDS grows the volume when free space drops under 10%, so a full disk
    does not stop writes. At least 10% above ``allocated_storage_gb`` (an RDS rule); 0 turns it off."""

    db_name: str = "app"
    """Database created at launch. pgvector is enabled per database: connect to it and run
    ``CREATE EXTENSION IF NOT EXISTS vector;``."""

    master_username: str = "platform_admin"
    """Master user name; its password is generated and rotated by RDS in Secrets Manager (see ``secret_arn``)."""

    backup_retention_days: int = 7
    """Automated backup and point-in-time-recovery window, 1-35 days (0 would turn backups off, so it is refused)."""

    multi_az: bool = False
    """A synchronous standby in a second zone (doubles the instance price). Off by default; prod turns it on."""

    deletion_protection: bool | None = None
    """RDS deletion protection. Default: follows ``protect``."""

    performance_insights_enabled: bool = True
    """Performance Insights (Database Insights standard mode); free at 7 days' retention."""

    performance_insights_retention_days: int = 7
    """7 (free), a multiple of 31 up to 713, or 731 days: the values the API accepts."""

    monitoring_interval_seconds: int = 60
    """Enhanced Monitoring (OS metrics) granularity: 0 (off), 1, 5, 10, 15, 30 or 60. 60 s costs cents a month
    in CloudWatch Logs and shows memory and swap pressure the hypervisor metrics cannot."""

    enabled_cloudwatch_logs_exports: list[str] = field(default_factory=lambda: ["postgresql", "upgrade"])
    """Logs published to CloudWatch (``postgresql``, ``upgrade``, ``iam-db-auth-error``). The component creates
    their log groups first, so they get ``log_retention_days`` instead of RDS's never-expire default."""

    log_retention_days: int = 30
    """Retention of the exported log groups; a value CloudWatch Logs accepts."""

    kms_key_arn: pulumi.Input[str] | None = None
    """Key for storage, snapshots, Performance Insights and the master secret. Default: a new customer-managed
    key with yearly rotation (~$1/month), so access to the data can be revoked by key policy."""

    identifier: str | None = None
    """RDS instance identifier. Default: the component name. It is fixed (not auto-named) so the exported log
    groups can exist before the instance and so a change that would replace the database fails loudly
    instead of creating an empty one beside it."""

    backup_replica_provider: pulumi.ProviderResource | None = None
    """AWS provider of a disaster-recovery region: RDS copies the automated backups (snapshots and transaction
    logs) there, encrypted with a new key of that region, so the database can be restored to a point in time
    after a region loss. Default none: backups stay in the instance's region. Costs the cross-region transfer
    ($0.02/GB) and the replicated backup storage (~$0.095/GB-month)."""

    backup_replica_retention_days: int | None = None
    """Days the replicated backups are kept, 1-35. Default: ``backup_retention_days``."""

    protect: bool = False
    """Pulumi ``protect`` on the instance and the key (and on the backup replication and its key), and RDS
    deletion protection unless ``deletion_protection`` says otherwise."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``); RDS copies them to snapshots."""


class PostgresDatabase(pulumi.ComponentResource):
    """An RDS for PostgreSQL instance in isolated subnets.

    Secure by construction: never publicly accessible, reachable on 5432 only from the given security
    groups, storage and Performance Insights encrypted with a KMS key, TLS forced by the parameter
    group (``rds.force_ssl=1``), master password created and rotated by RDS in Secrets Manager (never in
    config or Pulumi state), IAM database authentication on, a final snapshot on deletion.

    pgvector: RDS ships the ``vector`` extension with PostgreSQL 15.2 and later, so every version this
    component accepts has it. It needs no ``shared_preload_libraries`` entry; enable it per database
    with ``CREATE EXTENSION IF NOT EXISTS vector;`` (as the master user or a role granted
    ``rds_superuser``), typically in the service's first migration.
    """

    endpoint: pulumi.Output[str]
    """Host name to connect to (the instance address, without the port)."""
    port: pulumi.Output[int]
    """Port, 5432."""
    secret_arn: pulumi.Output[str]
    """Secrets Manager secret with the master ``username`` and ``password`` (managed and rotated by RDS)."""
    security_group_id: pulumi.Output[str]
    """The database's security group (for extra rules from other components)."""
    instance_identifier: pulumi.Output[str]
    """RDS instance identifier."""
    instance_arn: pulumi.Output[str]
    """RDS instance ARN."""
    resource_id: pulumi.Output[str]
    """The instance's stable resource id (``db-...``), used in ``rds-db:connect`` ARNs."""
    kms_key_arn: pulumi.Output[str]
    """Key encrypting storage and the master secret: readers of the secret need ``kms:Decrypt`` on it."""
    db_name: str
    """Database created at launch."""
    master_username: str
    """Master user name."""

    def __init__(self, name: str, args: PostgresDatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        identifier = _validate(name, args)
        super().__init__("genai:aws:PostgresDatabase", name, None, opts)
        self._name, self._tags = name, args.tags
        major = _VERSION.match(args.engine_version).group(1)

        key_arn = args.kms_key_arn
        if key_arn is None:
            key_arn = rotating_key(f"{name}-key", f"RDS PostgreSQL {identifier}: storage, snapshots, secret",
                                   args.tags, self, args.protect).arn

        group = security_group_admitting(
            f"{name}-sg", vpc_id=args.vpc_id, port=PORT, source_security_group_ids=args.allowed_security_group_ids,
            description=f"PostgreSQL {identifier}: 5432 from allowed client security groups only",
            tags=args.tags, parent=self,
        )
        parameters = rds.ParameterGroup(
            f"{name}-params",
            family=f"postgres{major}",
            description=f"PostgreSQL {major} for {identifier}: TLS required",
            # rds.force_ssl is dynamic, so it applies without a reboot; pgvector needs no parameter at all.
            parameters=[rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1", apply_method="immediate")],
            tags=self._tagged(f"{name}-params"),
            opts=self._child(),
        )
        log_groups = [
            cloudwatch.LogGroup(
                f"{name}-log-{export}",
                name=f"/aws/rds/instance/{identifier}/{export}",
                retention_in_days=args.log_retention_days,
                tags=self._tagged(f"{name}-log-{export}"),
                opts=self._child(),
            )
            for export in args.enabled_cloudwatch_logs_exports
        ]
        monitoring_role_arn, monitoring_ready = (self._monitoring_role() if args.monitoring_interval_seconds
                                                 else (None, []))
        deletion_protection = args.protect if args.deletion_protection is None else args.deletion_protection

        instance = rds.Instance(
            f"{name}-db",
            identifier=identifier,
            engine="postgres",
            engine_version=args.engine_version,
            auto_minor_version_upgrade=True,
            # RDS refuses a new major in engine_version without this flag; it never upgrades a major by itself,
            # so the version written here stays the only gate.
            allow_major_version_upgrade=True,
            instance_class=args.instance_class,
            storage_type="gp3",
            allocated_storage=args.allocated_storage_gb,
            max_allocated_storage=args.max_allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=key_arn,
            db_name=args.db_name,
            username=args.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key_arn,
            iam_database_authentication_enabled=True,
            port=PORT,
            db_subnet_group_name=args.db_subnet_group_name,
            vpc_security_group_ids=[group.id],
            publicly_accessible=False,
            parameter_group_name=parameters.name,
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            copy_tags_to_snapshot=True,
            # Keep automated backups for their retention window after a deletion: the last line of defence.
            delete_automated_backups=False,
            skip_final_snapshot=False,
            # Fixed: a second deletion under the same identifier fails (snapshot exists) rather than losing data.
            final_snapshot_identifier=f"{identifier}-final",
            deletion_protection=deletion_protection,
            performance_insights_enabled=args.performance_insights_enabled,
            performance_insights_retention_period=(args.performance_insights_retention_days
                                                   if args.performance_insights_enabled else None),
            performance_insights_kms_key_id=key_arn if args.performance_insights_enabled else None,
            monitoring_interval=args.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role_arn,
            enabled_cloudwatch_logs_exports=args.enabled_cloudwatch_logs_exports,
            tags=self._tagged(f"{name}-db"),
            opts=self._child(protect=args.protect, depends_on=[*log_groups, *monitoring_ready]),
        )

        if args.backup_replica_provider is not None:
            self._replicate_backups(instance, identifier, args)

        self.endpoint = instance.address
        self.port = instance.port
        self.secret_arn = instance.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn)
        self.security_group_id = group.id
        self.instance_identifier = instance.identifier
        self.instance_arn = instance.arn
        self.resource_id = instance.resource_id
        self.kms_key_arn = pulumi.Output.from_input(key_arn)
        self.db_name = args.db_name
        self.master_username = args.master_username
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "port": self.port,
                "secret_arn": self.secret_arn,
                "security_group_id": self.security_group_id,
                "instance_identifier": self.instance_identifier,
                "instance_arn": self.instance_arn,
                "kms_key_arn": self.kms_key_arn,
            }
        )

    def admit(self, client: str, security_group_id: pulumi.Input[str]) -> None:
        """Let one more client security group reach port 5432, e.g. a service created after the database
        because it needs ``secret_arn``. ``client`` names the rule; keep it stable."""
        admit_client(f"{self._name}-sg-from-{client}", group_id=self.security_group_id,
                     source_security_group_id=security_group_id, port=PORT, tags=self._tags, parent=self)

    def secret_read_policy_json(self) -> pulumi.Output[str]:
        """IAM policy letting a workload read the master secret (and decrypt it with the database's key)."""
        return access_policy_json([("ReadDatabaseSecret", ["secretsmanager:GetSecretValue"], self.secret_arn)],
                                  self.kms_key_arn, ["kms:Decrypt"])

    def connect_policy_json(self, db_username: str) -> pulumi.Output[str]:
        """IAM policy letting a workload role log in as ``db_username`` with an IAM auth token.

        The database user must exist and be granted ``rds_iam`` (``GRANT rds_iam TO <user>;``).
        """
        def document(values: list[str]) -> str:
            arn, resource_id = values
            partition, _, region, account = arn.split(":")[1:5]
            return json.dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "ConnectWithIamToken",
                    "Effect": "Allow",
                    "Action": ["rds-db:connect"],
                    "Resource": [f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{db_username}"],
                }],
            })

        return pulumi.Output.all(self.instance_arn, self.resource_id).apply(document)

    def _tagged(self, name: str) -> dict[str, str]:
        return child_tags(name, self._tags)

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _replicate_backups(self, instance: rds.Instance, identifier: str, args: PostgresDatabaseArgs) -> None:
        """Automated backups replicated into the DR region, under a key of that region (RDS cannot use a key
        of another region there)."""
        provider = args.backup_replica_provider
        key = rotating_key(f"{self._name}-backup-replica-key", f"RDS PostgreSQL {identifier}: replicated backups",
                           args.tags, self, args.protect, provider)
        retention = args.backup_replica_retention_days or args.backup_retention_days
        rds.InstanceAutomatedBackupsReplication(
            f"{self._name}-backup-replication",
            source_db_instance_arn=instance.arn,
            kms_key_id=key.arn,
            retention_period=retention,
            opts=self._child(provider=provider, protect=args.protect),
        )

    def _monitoring_role(self) -> tuple[pulumi.Output[str], list[pulumi.Resource]]:
        """The role's ARN and what the instance must wait for: RDS rejects a monitoring role that cannot yet
        publish (``does not include the required permissions for: ENHANCED_MONITORING``)."""
        name = f"{self._name}-monitoring"
        here = account_of(self)
        partition, account = here.partition, here.account_id
        role = iam.Role(
            name,
            description="Lets RDS Enhanced Monitoring publish OS metrics to CloudWatch Logs",
            # aws:SourceAccount (AWS's confused-deputy advice): RDS acting for another account cannot assume it.
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                               "Action": "sts:AssumeRole",
                               "Condition": {"StringEquals": {"aws:SourceAccount": account}}}],
            }),
            tags=self._tagged(name),
            opts=self._child(),
        )
        # The AWS-managed policy AWS documents for exactly this role: writes only to the RDSOSMetrics log group.
        attachment = iam.RolePolicyAttachment(
            name,
            role=role.name,
            policy_arn=f"arn:{partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
            opts=self._child(),
        )
        return role.arn, [attachment]


def _validate(name: str, args: PostgresDatabaseArgs) -> str:
    """Check every argument; return the instance identifier."""
    check_not_empty("allowed_security_group_ids", args.allowed_security_group_ids,
                    "pass the security groups of the clients (e.g. the EKS node or ECS task security group)")
    version = _VERSION.match(args.engine_version)
    if version is None:
        raise ValueError(
            f"engine_version={args.engine_version!r} is not a PostgreSQL version: "
            "use a major such as '17' or a major.minor such as '17.7'."
        )
    if int(version.group(1)) < MIN_MAJOR_VERSION:
        raise ValueError(
            f"engine_version={args.engine_version!r} is below {MIN_MAJOR_VERSION}: use '16' or later, e.g. '17'."
        )
    if not args.instance_class.startswith("db."):
        raise ValueError(f"instance_class={args.instance_class!r} is not an RDS class: use a 'db.' class such as "
                         "'db.t4g.micro'.")
    check_range("allocated_storage_gb", args.allocated_storage_gb, 20, _MAX_STORAGE_GB, " (gp3 limits of RDS PostgreSQL)")
    minimum_ceiling = -(-args.allocated_storage_gb * 11 // 10)  # ceil(110%) in integers: 100 * 1.1 > 110.0
    if args.max_allocated_storage_gb and not minimum_ceiling <= args.max_allocated_storage_gb <= _MAX_STORAGE_GB:
        raise ValueError(
            f"max_allocated_storage_gb={args.max_allocated_storage_gb} does not fit allocated_storage_gb="
            f"{args.allocated_storage_gb}: use {minimum_ceiling} to {_MAX_STORAGE_GB} (RDS needs 10% headroom), "
            "or 0 to turn storage autoscaling off."
        )
    check_range("backup_retention_days", args.backup_retention_days, 1, 35, " (RDS automated backups)")
    if args.backup_replica_retention_days is not None:
        check_range("backup_replica_retention_days", args.backup_replica_retention_days, 1, 35,
                    " (RDS replicated automated backups)")
    retentions = {7, 731, *(31 * months for months in range(1, 24))}
    if args.performance_insights_retention_days not in retentions:
        raise ValueError(
            f"performance_insights_retention_days={args.performance_insights_retention_days} is not a retention "
            "Performance Insights accepts: use 7 (free), a multiple of 31 up to 713, or 731."
        )
    if args.monitoring_interval_seconds not in MONITORING_INTERVALS:
        raise ValueError(
            f"monitoring_interval_seconds={args.monitoring_interval_seconds} is not an Enhanced Monitoring interval: "
            f"use one of {', '.join(map(str, MONITORING_INTERVALS))} (0 turns it off)."
        )
    unknown = [export for export in args.enabled_cloudwatch_logs_exports if export not in LOG_EXPORTS]
    if unknown:
        raise ValueError(
            f"enabled_cloudwatch_logs_exports={args.enabled_cloudwatch_logs_exports} contains {unknown[0]!r}, "
            f"which PostgreSQL does not export: use any of {list(LOG_EXPORTS)}."
        )
    check_log_retention("log_retention_days", args.log_retention_days)
    for argument, value in (("db_name", args.db_name), ("master_username", args.master_username)):
        if not _NAME.match(value):
            raise ValueError(f"{argument}={value!r} is not a valid PostgreSQL name: use 1-63 letters, digits or "
                             "underscores, starting with a letter.")
    if args.master_username.lower() == "rdsadmin":
        raise ValueError("master_username='rdsadmin' is reserved by RDS: choose another name.")
    check_kms_key_arn("kms_key_arn", args.kms_key_arn)
    if args.monitoring_interval_seconds:
        check_auto_name(name, "-monitoring", _MAX_ROLE_NAME, "Enhanced Monitoring IAM role")

    identifier = args.identifier if args.identifier is not None else name.lower()
    if not _IDENTIFIER.match(identifier) or "--" in identifier or identifier.endswith("-"):
        source = f"identifier={identifier!r}" if args.identifier is not None else (
            f"identifier=None takes the component name {name!r}, which")
        raise ValueError(
            f"{source} is not a valid RDS identifier: use 1-63 lower-case letters, digits or single hyphens, "
            "starting with a letter and not ending with a hyphen."
        )
    return identifier
