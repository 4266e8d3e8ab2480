"""PostgresTenantDatabase: one more database, with its own owner role and secret, on an existing
:class:`~genai_platform.components.aws.data.postgres.PostgresDatabase` instance (one db.t4g.micro is ~$14/month; two small
services rarely need two).

RDS creates only the instance's first database. The others are created by a Kubernetes Job in the
cluster whose nodes the instance already admits: the database is in isolated subnets, so neither the
deployer nor a Pulumi ``postgresql`` provider can reach it without opening it further. The Job runs as
an IRSA role that may read the instance's master secret and read and write this tenant's secret only;
it generates the tenant's password inside the cluster and stores it in Secrets Manager itself, so the
password never passes through Pulumi state. Pulumi waits for the Job: a failed provisioning fails the
deploy, and a changed database, user or extension list replaces the Job, which runs again (every
statement is idempotent).
"""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import secretsmanager
from pulumi_kubernetes.batch.v1 import Job
from pulumi_kubernetes.core.v1 import ServiceAccount
from pulumi_kubernetes.provider import Provider

from genai_platform.components.aws.data_helpers import access_policy_json
from genai_platform.components.aws.data.postgres import PORT, PostgresDatabase
from genai_platform.components.aws.eks.workload_role import WorkloadRole, WorkloadRoleArgs
from genai_platform.components.k8s.pod import IRSA_ROLE_ANNOTATION, check_dns_label
from genai_platform.components.tagging import child_tags

PSQL_IMAGE = "public.ecr.aws/docker/library/postgres:17.6-alpine3.22"
"""psql of the instance's major version (Docker Official Image, tag 17.6-alpine3.22, read 2026-11-22)."""

AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.31.39"
"""AWS CLI v2 (Amazon Linux based, so it carries a Python for reading the secrets' JSON), read 2026-11-22."""

UID = 10001
SECRETS_DIR = "/secrets"
"""In-memory volume the init container writes the logins to and the psql container reads them from."""
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_EXTENSION = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass
class PostgresTenantDatabaseArgs:
    """Arguments of :class:`PostgresTenantDatabase`."""

    instance: PostgresDatabase
    """The instance to host the database on; its security group must admit the cluster's nodes."""

    db_name: str
    """Database to create (lower-case letters, digits, ``_``). Only its owner and the master user may
    connect: ``CONNECT`` is revoked from ``PUBLIC``."""

    username: str
    """Login role that owns the database; its password is generated in the cluster and kept in this
    component's secret (``username``, ``password``, ``host``, ``port``, ``dbname`` keys, as RDS writes them)."""

    provider: Provider
    """Kubernetes provider of the cluster whose nodes the instance admits."""

    namespace: str
    """Existing namespace of the provisioning Job and its service account."""

    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider, for the Job's IRSA role."""

    oidc_provider_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""

    extensions: list[str] = field(default_factory=list)
    """Extensions the master user creates in the database (``vector`` for pgvector)."""

    psql_image: str = PSQL_IMAGE
    """Image providing ``psql``."""

    aws_cli_image: str = AWS_CLI_IMAGE
    """Image providing the AWS CLI and a Python."""

    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """What the Job must wait for besides the instance (the cluster's nodes and admission webhooks)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on the secret and the role."""


class PostgresTenantDatabase(pulumi.ComponentResource):
    """A database, its owner role and that role's secret on a shared instance, created by an in-cluster Job.

    Offers the :class:`PostgresDatabase` attributes a service uses, so a stack can hand either to it.
    """

    endpoint: pulumi.Output[str]
    """Host name of the instance."""
    port: pulumi.Output[int]
    """Port, 5432."""
    secret_arn: pulumi.Output[str]
    """Secrets Manager secret with this database's ``username`` and ``password``."""
    kms_key_arn: pulumi.Output[str]
    """The instance's key, which also encrypts the secret: readers need ``kms:Decrypt`` on it."""
    instance_identifier: pulumi.Output[str]
    """RDS identifier of the hosting instance."""
    db_name: str
    """The database."""
    username: str
    """Its owner role."""

    def __init__(self, name: str, args: PostgresTenantDatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:aws:PostgresTenantDatabase", name, None, opts)
        instance = args.instance
        self._name, self._instance = name, instance
        secret = secretsmanager.Secret(
            f"{name}-secret",
            description=f"Login of {args.username} to database {args.db_name} (written by the provisioning Job)",
            kms_key_id=instance.kms_key_arn,
            tags=child_tags(f"{name}-secret", args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secret_arn = secret.arn
        self.kms_key_arn = instance.kms_key_arn
        self.endpoint, self.port = instance.endpoint, instance.port
        self.instance_identifier = instance.instance_identifier
        self.db_name, self.username = args.db_name, args.username

        role = WorkloadRole(f"{name}-provisioner", WorkloadRoleArgs(
            oidc_provider_arn=args.oidc_provider_arn, oidc_provider_url=args.oidc_provider_url,
            namespace=args.namespace, service_account=name,
            policies={
                "read-master-secret": instance.secret_read_policy_json(),
                "write-tenant-secret": access_policy_json(
                    [("WriteTenantSecret", ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                      secret.arn)], instance.kms_key_arn, ["kms:Decrypt", "kms:GenerateDataKey"]),
            },
            tags=args.tags,
        ), pulumi.ResourceOptions(parent=self))
        k8s = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "database-provisioning",
                  "app.kubernetes.io/managed-by": "pulumi"}
        account = ServiceAccount(
            f"{name}-sa",
            metadata={"name": name, "namespace": args.namespace, "labels": labels,
                      "annotations": {IRSA_ROLE_ANNOTATION: role.role_arn}},
            opts=k8s,
        )
        Job(
            f"{name}-provision",
            metadata={"namespace": args.namespace, "labels": labels},
            spec=_job_spec(name, args, instance, secret.arn, labels),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                        depends_on=[*args.depends_on, account, role]),
        )
        self.register_outputs({"endpoint": self.endpoint, "secret_arn": self.secret_arn,
                               "instance_identifier": self.instance_identifier})

    def admit(self, client: str, security_group_id: pulumi.Input[str]) -> None:
        """Let one more client security group reach the hosting instance (rule named after this database)."""
        self._instance.admit(f"{self.db_name.replace('_', '-')}-{client}", security_group_id)

    def secret_read_policy_json(self) -> pulumi.Output[str]:
        """IAM policy letting a workload read this database's secret (and decrypt it with the instance's key)."""
        return access_policy_json([("ReadDatabaseSecret", ["secretsmanager:GetSecretValue"], self.secret_arn)],
                                  self.kms_key_arn, ["kms:Decrypt"])


def fetch_secrets_script(secrets_dir: str = SECRETS_DIR) -> str:
    """The init container: the master login and this database's login (created on the first run) as
    files in the in-memory volume the psql container reads."""
    return r"""set -eu
PY=$(command -v python3 || command -v python)
field() { "$PY" -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
aws secretsmanager get-secret-value --secret-id "$MASTER_SECRET_ARN" --query SecretString --output text > /secrets/master.json
if ! aws secretsmanager get-secret-value --secret-id "$TENANT_SECRET_ARN" --query SecretString --output text \
     > /secrets/tenant.json 2> /secrets/error; then
  grep -q ResourceNotFoundException /secrets/error  # anything but "no value yet" stops here
  password=$(tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 40)
  printf '{"username":"%s","password":"%s","host":"%s","port":%s,"dbname":"%s","engine":"postgres"}' \
    "$DB_USER" "$password" "$PGHOST" "$PGPORT" "$DB_NAME" > /secrets/tenant.json
  aws secretsmanager put-secret-value --secret-id "$TENANT_SECRET_ARN" --secret-string file:///secrets/tenant.json
fi
field username < /secrets/master.json > /secrets/master.username
field password < /secrets/master.json > /secrets/master.password
field password < /secrets/tenant.json > /secrets/tenant.password
rm -f /secrets/*.json /secrets/error
""".replace("/secrets", secrets_dir)


def provision_script(extensions: list[str], secrets_dir: str = SECRETS_DIR) -> str:
    """The psql container: role, database and extensions, each statement safe to run again."""
    create_extensions = "".join(
        f'psql -v ON_ERROR_STOP=1 -d "$DB_NAME" -c \'CREATE EXTENSION IF NOT EXISTS "{extension}"\'\n'
        for extension in extensions)
    return r"""set -eu
export PGUSER="$(cat /secrets/master.username)" PGPASSWORD="$(cat /secrets/master.password)"
psql -v ON_ERROR_STOP=1 -v db="$DB_NAME" -v owner="$DB_USER" -v admin_db="$ADMIN_DB" \
     -v password="$(cat /secrets/tenant.password)" -d "$ADMIN_DB" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'owner') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner')\gexec
ALTER ROLE :"owner" WITH LOGIN PASSWORD :'password';
GRANT :"owner" TO CURRENT_USER;
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"owner";
REVOKE CONNECT ON DATABASE :"admin_db" FROM PUBLIC;
SQL
""".replace("/secrets", secrets_dir) + create_extensions


def _job_spec(name: str, args: PostgresTenantDatabaseArgs, instance: PostgresDatabase,
              secret_arn: pulumi.Output[str], labels: dict[str, str]) -> dict:
    hardened = {"allow_privilege_escalation": False, "privileged": False, "read_only_root_filesystem": True,
                "run_as_non_root": True, "capabilities": {"drop": ["ALL"]}}
    resources = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}
    database = [{"name": "PGHOST", "value": instance.endpoint}, {"name": "PGPORT", "value": str(PORT)},
                {"name": "DB_NAME", "value": args.db_name}, {"name": "DB_USER", "value": args.username}]
    mounts = [{"name": "secrets", "mount_path": SECRETS_DIR}, {"name": "tmp", "mount_path": "/tmp"}]
    fetch = {
        "name": "fetch-secrets", "image": args.aws_cli_image, "image_pull_policy": "IfNotPresent",
        "command": ["/bin/sh", "-c", fetch_secrets_script()],
        "env": [*database, {"name": "MASTER_SECRET_ARN", "value": instance.secret_arn},
                {"name": "TENANT_SECRET_ARN", "value": secret_arn}, {"name": "HOME", "value": "/tmp"}],
        "security_context": hardened, "resources": resources, "volume_mounts": mounts,
    }
    provision = {
        "name": "provision", "image": args.psql_image, "image_pull_policy": "IfNotPresent",
        "command": ["/bin/sh", "-c", provision_script(args.extensions)],
        # rds.force_ssl=1 refuses anything else; the connection never leaves the VPC.
        "env": [*database, {"name": "ADMIN_DB", "value": instance.db_name}, {"name": "PGSSLMODE", "value": "require"},
                {"name": "HOME", "value": "/tmp"}],
        "security_context": hardened, "resources": resources, "volume_mounts": mounts,
    }
    return {
        "backoff_limit": 3,
        "active_deadline_seconds": 600,
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "service_account_name": name,
                "automount_service_account_token": True,  # IRSA's web identity token
                "enable_service_links": False,
                "restart_policy": "Never",
                "security_context": {"run_as_non_root": True, "run_as_user": UID, "run_as_group": UID,
                                     "fs_group": UID, "seccomp_profile": {"type": "RuntimeDefault"}},
                "init_containers": [fetch],
                "containers": [provision],
                # Logins live in memory only, and only for the Job's lifetime.
                "volumes": [{"name": "secrets", "empty_dir": {"medium": "Memory", "size_limit": "1Mi"}},
                            {"name": "tmp", "empty_dir": {"size_limit": "64Mi"}}],
            },
        },
    }


def _validate(args: PostgresTenantDatabaseArgs) -> None:
    for argument in ("db_name", "username"):
        value = getattr(args, argument)
        if not _NAME.match(value):
            raise ValueError(f"{argument}={value!r} is not a plain PostgreSQL name: use 1-63 lower-case letters, "
                             "digits or underscores, starting with a letter.")
    if args.db_name == args.instance.db_name:
        raise ValueError(f"db_name={args.db_name!r} is the instance's own database: name another one.")
    if args.username in (args.instance.master_username, "rdsadmin"):
        raise ValueError(f"username={args.username!r} is the instance's master or RDS's own user: name a "
                         "separate owner role.")
    for extension in args.extensions:
        if not _EXTENSION.match(extension):
            raise ValueError(f"extensions contains {extension!r}: use extension names such as 'vector'.")
    check_dns_label("namespace", args.namespace)
