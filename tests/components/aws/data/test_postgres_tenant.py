"""PostgresTenantDatabase: its secret, its Job's least-privilege role and hardened pod, and the two
scripts the Job runs, executed here against stand-in ``aws`` and ``psql`` commands."""

import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest

from genai_platform.components.aws import (PostgresDatabase, PostgresDatabaseArgs, PostgresTenantDatabase,
                            PostgresTenantDatabaseArgs)
from genai_platform.components.aws.data.postgres_tenant import fetch_secrets_script, provision_script
from genai_platform.mockcloud import run_under_mocks

OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
OIDC_URL = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
JOB = "kubernetes:batch/v1:Job"


def plan_tenant(**overrides):
    def program():
        instance = PostgresDatabase("shared", PostgresDatabaseArgs(
            vpc_id="vpc-0123", db_subnet_group_name="isolated", allowed_security_group_ids=["sg-nodes"],
            db_name="platform"))
        provider = k8s.Provider("cluster", kubeconfig="{}")
        tenant = PostgresTenantDatabase("rag-db", PostgresTenantDatabaseArgs(**{
            "instance": instance, "db_name": "rag", "username": "rag_app", "provider": provider,
            "namespace": "postgres-provisioning", "oidc_provider_arn": OIDC_ARN, "oidc_provider_url": OIDC_URL,
            "extensions": ["vector"], **overrides}))
        tenant.admit("api", "sg-api")
        pulumi.export("secret", tenant.secret_arn)
        pulumi.export("endpoint", tenant.endpoint)
        pulumi.export("readPolicy", tenant.secret_read_policy_json())

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


def test_children_are_a_secret_an_irsa_role_a_service_account_and_a_job():
    plan = plan_tenant()
    component = next(r for r in plan.resources if r.type == "genai:aws:PostgresTenantDatabase")
    children = Counter(r.type for r in plan.resources if r.parent == component.urn)
    assert children == {"aws:secretsmanager/secret:Secret": 1, "genai:aws:WorkloadRole": 1,
                        "kubernetes:core/v1:ServiceAccount": 1, JOB: 1}
    secret = plan.one("aws:secretsmanager/secret:Secret")
    assert secret.inputs["kmsKeyId"] == plan.named("shared-key", "aws:kms/key:Key").outputs["arn"]
    assert "secretString" not in secret.inputs  # the Job writes the value; Pulumi never holds it
    assert not plan.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert plan.outputs["secret"] == secret.outputs["arn"]
    assert plan.outputs["endpoint"] == plan.one("aws:rds/instance:Instance").outputs["address"]


def test_the_job_role_reads_the_master_secret_and_writes_only_its_own():
    plan = plan_tenant()
    master = plan.one("aws:rds/instance:Instance").outputs["masterUserSecrets"][0]["secretArn"]
    tenant = plan.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    key = plan.named("shared-key", "aws:kms/key:Key").outputs["arn"]
    read = json.loads(plan.named("rag-db-provisioner-read-master-secret", "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert read["Statement"] == [
        {"Sid": "ReadDatabaseSecret", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [master]},
        {"Sid": "UseKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key]}]
    write = json.loads(plan.named("rag-db-provisioner-write-tenant-secret", "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert write["Statement"] == [
        {"Sid": "WriteTenantSecret", "Effect": "Allow",
         "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], "Resource": [tenant]},
        {"Sid": "UseKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [key]}]
    trust = json.loads(plan.named("rag-db-provisioner-role", "aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert "system:serviceaccount:postgres-provisioning:rag-db" in json.dumps(trust)
    # What the service itself gets: read its own secret.
    assert json.loads(plan.outputs["readPolicy"])["Statement"][0]["Resource"] == [tenant]


def test_the_job_pod_is_restricted_and_keeps_logins_in_memory():
    plan = plan_tenant()
    job = plan.one(JOB).inputs
    assert job["metadata"]["namespace"] == "postgres-provisioning"
    spec = job["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "rag-db" and spec["restartPolicy"] == "Never"
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                       "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
    containers = spec["initContainers"] + spec["containers"]
    assert [c["name"] for c in containers] == ["fetch-secrets", "provision"]
    for container in containers:
        assert container["securityContext"] == {"allowPrivilegeEscalation": False, "privileged": False,
                                                "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                                "capabilities": {"drop": ["ALL"]}}
        assert container["resources"]["limits"] == {"memory": "256Mi"}
        assert not any(re.search("PASSWORD", e["name"]) for e in container["env"])
    assert spec["volumes"][0] == {"name": "secrets", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}}
    provision_env = {e["name"]: e["value"] for e in spec["containers"][0]["env"]}
    assert provision_env["PGSSLMODE"] == "require" and provision_env["ADMIN_DB"] == "platform"
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"]) == (3, 600)


def test_admit_adds_a_rule_on_the_hosting_instance():
    plan = plan_tenant()
    rule = plan.named("shared-sg-from-rag-api", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
    assert rule["referencedSecurityGroupId"] == "sg-api" and rule["fromPort"] == 5432


@pytest.mark.parametrize(("overrides", "message"), [
    ({"db_name": "Rag"}, "db_name='Rag' is not a plain PostgreSQL name: use 1-63 lower-case letters, digits or "
                         "underscores, starting with a letter."),
    ({"db_name": "platform"}, "db_name='platform' is the instance's own database: name another one."),
    ({"username": "platform_admin"}, "username='platform_admin' is the instance's master or RDS's own user: name "
                                     "a separate owner role."),
    ({"extensions": ["vector; DROP"]}, "extensions contains 'vector; DROP': use extension names such as 'vector'."),
])
def test_invalid_arguments_are_refused(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_tenant(**overrides)


# --- the scripts, run against stand-ins for the AWS CLI and psql -----------------------------------

FAKE_AWS = r"""#!/bin/sh
# get-secret-value answers from $STORE/<arn>; put-secret-value writes there. Calls are logged.
echo "$*" >> "$STORE/calls"
op=$2; shift 2
while [ $# -gt 0 ]; do case $1 in --secret-id) id=$2; shift 2;; --secret-string) value=$2; shift 2;; *) shift;; esac; done
file="$STORE/$(echo "$id" | tr ':/' '__')"
case $op in
  get-secret-value) [ -f "$file" ] && cat "$file" && exit 0
                    echo "An error occurred (ResourceNotFoundException) when calling GetSecretValue" >&2; exit 254;;
  put-secret-value) cat "${value#file://}" > "$file";;
esac
"""

FAKE_PSQL = r"""#!/bin/sh
echo "ARGS $*" >> "$STORE/psql"
echo "USER $PGUSER PASSWORD $PGPASSWORD" >> "$STORE/psql"
cat >> "$STORE/psql"
"""


@pytest.fixture
def sandbox(tmp_path):
    bin_dir, store, secrets = tmp_path / "bin", tmp_path / "store", tmp_path / "secrets"
    for directory in (bin_dir, store, secrets):
        directory.mkdir()
    for name, body in (("aws", FAKE_AWS), ("psql", FAKE_PSQL)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "STORE": str(store), "MASTER_SECRET_ARN": "arn:master",
           "TENANT_SECRET_ARN": "arn:tenant", "DB_USER": "rag_app", "DB_NAME": "rag", "PGHOST": "db.example",
           "PGPORT": "5432", "ADMIN_DB": "platform"}
    (store / "arn_master").write_text(json.dumps({"username": "platform_admin", "password": "m@ster\"pw"}))
    return env, store, secrets


def run(script: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, check=False)


@pytest.mark.end_to_end
def test_first_run_generates_and_stores_the_tenant_password(sandbox):
    env, store, secrets = sandbox
    result = run(fetch_secrets_script(str(secrets)), env)
    assert result.returncode == 0, result.stderr
    stored = json.loads((store / "arn_tenant").read_text())
    assert (stored["username"], stored["dbname"], stored["host"], stored["port"]) == ("rag_app", "rag", "db.example", 5432)
    assert re.fullmatch(r"[A-Za-z0-9]{40}", stored["password"])
    assert (secrets / "tenant.password").read_text() == stored["password"]
    assert (secrets / "master.username").read_text() == "platform_admin"
    assert (secrets / "master.password").read_text() == 'm@ster"pw'
    assert sorted(p.name for p in secrets.iterdir()) == ["master.password", "master.username", "tenant.password"]


@pytest.mark.end_to_end
def test_later_runs_keep_the_stored_password(sandbox):
    env, store, secrets = sandbox
    (store / "arn_tenant").write_text(json.dumps({"username": "rag_app", "password": "kept"}))
    assert run(fetch_secrets_script(str(secrets)), env).returncode == 0
    assert (secrets / "tenant.password").read_text() == "kept"
    assert "put-secret-value" not in (store / "calls").read_text()


@pytest.mark.end_to_end
def test_an_error_other_than_no_value_stops_without_overwriting(sandbox):
    env, store, secrets = sandbox
    denied = FAKE_AWS.replace("ResourceNotFoundException", "AccessDeniedException")
    (Path(env["PATH"].split(":")[0]) / "aws").write_text(denied)
    assert run(fetch_secrets_script(str(secrets)), env).returncode != 0
    assert not (store / "arn_tenant").exists()


@pytest.mark.end_to_end
def test_provisioning_creates_role_database_and_extensions_idempotently(sandbox):
    env, store, secrets = sandbox
    for name, value in (("master.username", "platform_admin"), ("master.password", "pw"), ("tenant.password", "t0k")):
        (secrets / name).write_text(value)
    result = run(provision_script(["vector"], str(secrets)), env)
    assert result.returncode == 0, result.stderr
    log = (store / "psql").read_text()
    assert "ARGS -v ON_ERROR_STOP=1 -v db=rag -v owner=rag_app -v admin_db=platform -v password=t0k -d platform" in log
    assert "USER platform_admin PASSWORD pw" in log
    for statement in (
        "SELECT format('CREATE ROLE %I LOGIN', :'owner') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner')\\gexec",
        "ALTER ROLE :\"owner\" WITH LOGIN PASSWORD :'password';",
        "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\\gexec",
        "REVOKE ALL ON DATABASE :\"db\" FROM PUBLIC;",
        "GRANT CONNECT, TEMPORARY ON DATABASE :\"db\" TO :\"owner\";",
        "REVOKE CONNECT ON DATABASE :\"admin_db\" FROM PUBLIC;",
    ):
        assert statement in log
    assert "ARGS -v ON_ERROR_STOP=1 -d rag -c CREATE EXTENSION IF NOT EXISTS \"vector\"" in log
