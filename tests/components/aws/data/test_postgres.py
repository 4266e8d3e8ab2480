import json

import pulumi
import pulumi_aws as aws
import pytest

from genai_platform.components.aws.data.postgres import PostgresDatabase, PostgresDatabaseArgs
from genai_platform.mockcloud import run_under_mocks

INSTANCE = "aws:rds/instance:Instance"
KEY = "aws:kms/key:Key"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CLIENTS = ["sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb"]
ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def args(**overrides) -> PostgresDatabaseArgs:
    base = {"vpc_id": "vpc-0123456789abcdef0", "db_subnet_group_name": "net-db",
            "allowed_security_group_ids": list(CLIENTS)}
    return PostgresDatabaseArgs(**{**base, **overrides})


def plan_db(name: str = "ragdb", **overrides):
    def program():
        db = PostgresDatabase(name, args(**overrides))
        for output in ("endpoint", "port", "secret_arn", "security_group_id", "instance_arn", "kms_key_arn"):
            pulumi.export(output, getattr(db, output))
        pulumi.export("connect_policy", db.connect_policy_json("rag_app"))

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


def rejected(message: str, name: str = "ragdb", **overrides) -> None:
    with pytest.raises(ValueError) as error:
        plan_db(name, **overrides)
    assert str(error.value) == message


def test_default_children_exact_types_and_counts():
    plan = plan_db()
    assert plan.type_counts() == {
        "genai:aws:PostgresDatabase": 1,
        KEY: 1,
        "aws:ec2/securityGroup:SecurityGroup": 1,
        INGRESS: 2,
        "aws:rds/parameterGroup:ParameterGroup": 1,
        "aws:cloudwatch/logGroup:LogGroup": 2,
        "aws:iam/role:Role": 1,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
        INSTANCE: 1,
    }
    assert all(r.parent.endswith("genai:aws:PostgresDatabase::ragdb") for r in plan.resources if r.custom)


def test_given_key_no_monitoring_no_exports_create_nothing_extra():
    plan = plan_db(kms_key_arn=ARN, monitoring_interval_seconds=0, enabled_cloudwatch_logs_exports=[])
    counts = plan.type_counts()
    assert KEY not in counts and "aws:iam/role:Role" not in counts and "aws:cloudwatch/logGroup:LogGroup" not in counts
    instance = plan.one(INSTANCE).inputs
    assert instance["kmsKeyId"] == instance["masterUserSecretKmsKeyId"] == ARN
    assert instance["monitoringInterval"] == 0 and "monitoringRoleArn" not in instance


def test_instance_is_private_encrypted_and_password_less():
    plan = plan_db()
    key_arn = plan.one(KEY).outputs["arn"]
    key = plan.one(KEY).inputs
    assert key["enableKeyRotation"] is True and key["deletionWindowInDays"] == 30
    db = plan.one(INSTANCE).inputs
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True and db["kmsKeyId"] == key_arn
    assert db["manageMasterUserPassword"] is True and db["masterUserSecretKmsKeyId"] == key_arn
    assert "password" not in db and "passwordWo" not in db
    assert db["iamDatabaseAuthenticationEnabled"] is True
    assert db["performanceInsightsEnabled"] is True and db["performanceInsightsRetentionPeriod"] == 7
    assert db["performanceInsightsKmsKeyId"] == key_arn
    assert db["dbSubnetGroupName"] == "net-db"
    assert db["vpcSecurityGroupIds"] == [plan.one("aws:ec2/securityGroup:SecurityGroup").id]


def test_instance_defaults_for_durability_and_cost():
    db = plan_db().one(INSTANCE).inputs
    assert (db["engine"], db["engineVersion"], db["autoMinorVersionUpgrade"]) == ("postgres", "17", True)
    # Without it a later engine_version "17" -> "18" fails at apply: "The AllowMajorVersionUpgrade flag must be
    # present when upgrading to a new major version" (the mocks accept any change).
    assert db["allowMajorVersionUpgrade"] is True
    assert (db["instanceClass"], db["storageType"]) == ("db.t4g.micro", "gp3")
    assert (db["allocatedStorage"], db["maxAllocatedStorage"]) == (20, 100)
    assert db["backupRetentionPeriod"] == 7 and db["deleteAutomatedBackups"] is False
    assert db["skipFinalSnapshot"] is False and db["finalSnapshotIdentifier"] == "ragdb-final"
    assert db["copyTagsToSnapshot"] is True and db["multiAz"] is False
    assert db["deletionProtection"] is False
    assert db["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert (db["identifier"], db["dbName"], db["username"], db["port"]) == ("ragdb", "app", "platform_admin", 5432)


@pytest.mark.parametrize(("version", "family"), [("17", "postgres17"), ("16.11", "postgres16"), ("18", "postgres18")])
def test_parameter_group_family_follows_major_and_forces_tls(version, family):
    plan = plan_db(engine_version=version)
    group = plan.one("aws:rds/parameterGroup:ParameterGroup")
    assert group.inputs["family"] == family
    assert group.inputs["parameters"] == [{"name": "rds.force_ssl", "value": "1", "applyMethod": "immediate"}]
    assert plan.one(INSTANCE).inputs["parameterGroupName"] == group.outputs["name"]


def test_log_groups_exist_first_with_retention():
    plan = plan_db(log_retention_days=90)
    groups = plan.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert sorted(g.inputs["name"] for g in groups) == ["/aws/rds/instance/ragdb/postgresql",
                                                        "/aws/rds/instance/ragdb/upgrade"]
    assert {g.inputs["retentionInDays"] for g in groups} == {90}
    assert {g.urn for g in groups} <= set(plan.one(INSTANCE).dependencies)


def test_enhanced_monitoring_role_trusts_rds_monitoring_only():
    plan = plan_db(monitoring_interval_seconds=15)
    role = plan.one("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                      "Action": "sts:AssumeRole",
                      "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    instance = plan.one(INSTANCE)
    assert instance.inputs["monitoringInterval"] == 15 and instance.inputs["monitoringRoleArn"] == role.outputs["arn"]
    # RDS refuses a monitoring role without its permissions yet ("...required permissions for:
    # ENHANCED_MONITORING"): the instance waits for the attachment, not only for the role's ARN.
    assert attachment.urn in instance.dependencies


def test_a_name_too_long_for_the_monitoring_role_is_refused_only_with_monitoring_on():
    # Pulumi names the role "<name>-monitoring-<7 hex>"; IAM allows 64 characters and the provider only refuses
    # a longer one at `pulumi preview`, which the offline plan never runs.
    name = "rag-" + "d" * 42
    rejected(f"name='{name}' has 46 characters, too many for the Enhanced Monitoring IAM role named "
             f"'{name}-monitoring-' plus 7 random characters (at most 64): use a component name of at most "
             "45 characters.", name=name)
    assert plan_db(name=name[:-1]).one("aws:iam/role:Role").outputs["name"].startswith(name[:-1])
    assert "aws:iam/role:Role" not in plan_db(name=name, monitoring_interval_seconds=0).type_counts()


@pytest.mark.parametrize(("overrides", "deletion_protection"), [
    ({"protect": True}, True),
    ({"protect": True, "deletion_protection": False}, False),
    ({"deletion_protection": True}, True),
])
def test_protect_sets_pulumi_protect_and_deletion_protection(overrides, deletion_protection):
    plan = plan_db(**overrides)
    protect = overrides.get("protect", False)
    assert plan.one(INSTANCE).protect is protect and plan.one(KEY).protect is protect
    assert plan.one(INSTANCE).inputs["deletionProtection"] is deletion_protection
    others = [r for r in plan.resources if r.custom and r.type not in (INSTANCE, KEY)]
    assert others and not any(r.protect for r in others)


def test_nothing_is_protected_by_default():
    assert not any(r.protect for r in plan_db().resources)


def test_outputs_endpoint_port_secret_and_connect_policy():
    outputs = plan_db().outputs
    assert outputs["endpoint"].startswith("ragdb.") and outputs["endpoint"].endswith(".us-east-1.rds.amazonaws.com")
    assert outputs["port"] == 5432
    assert outputs["secret_arn"].startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-")
    assert outputs["instance_arn"] == "arn:aws:rds:us-east-1:123456789012:db:ragdb"
    assert outputs["security_group_id"].startswith("sg-") and outputs["kms_key_arn"].startswith("arn:aws:kms:")
    statement, = json.loads(outputs["connect_policy"])["Statement"]
    assert statement["Action"] == ["rds-db:connect"]
    resource, = statement["Resource"]
    assert resource.startswith("arn:aws:rds-db:us-east-1:123456789012:dbuser:db-") and resource.endswith("/rag_app")


def test_explicit_identifier_and_multi_az():
    db = plan_db(identifier="rag-prod-db", multi_az=True, backup_retention_days=35).one(INSTANCE).inputs
    assert (db["identifier"], db["finalSnapshotIdentifier"]) == ("rag-prod-db", "rag-prod-db-final")
    assert db["multiAz"] is True and db["backupRetentionPeriod"] == 35


@pytest.mark.parametrize(("overrides", "message"), [
    ({"allowed_security_group_ids": []},
     "allowed_security_group_ids=[] is empty: pass the security groups of the clients "
     "(e.g. the EKS node or ECS task security group)."),
    ({"engine_version": "15.4"}, "engine_version='15.4' is below 16: use '16' or later, e.g. '17'."),
    ({"engine_version": "17.x"},
     "engine_version='17.x' is not a PostgreSQL version: use a major such as '17' or a major.minor such as '17.7'."),
    ({"instance_class": "t4g.micro"},
     "instance_class='t4g.micro' is not an RDS class: use a 'db.' class such as 'db.t4g.micro'."),
    ({"allocated_storage_gb": 10},
     "allocated_storage_gb=10 is out of range: use 20 to 65536 (gp3 limits of RDS PostgreSQL)."),
    ({"allocated_storage_gb": 100, "max_allocated_storage_gb": 105},
     "max_allocated_storage_gb=105 does not fit allocated_storage_gb=100: use 110 to 65536 "
     "(RDS needs 10% headroom), or 0 to turn storage autoscaling off."),
    ({"backup_retention_days": 0}, "backup_retention_days=0 is out of range: use 1 to 35 (RDS automated backups)."),
    ({"backup_retention_days": 36}, "backup_retention_days=36 is out of range: use 1 to 35 (RDS automated backups)."),
    ({"performance_insights_retention_days": 30},
     "performance_insights_retention_days=30 is not a retention Performance Insights accepts: "
     "use 7 (free), a multiple of 31 up to 713, or 731."),
    ({"monitoring_interval_seconds": 20},
     "monitoring_interval_seconds=20 is not an Enhanced Monitoring interval: use one of 0, 1, 5, 10, 15, 30, 60 "
     "(0 turns it off)."),
    ({"enabled_cloudwatch_logs_exports": ["postgresql", "audit"]},
     "enabled_cloudwatch_logs_exports=['postgresql', 'audit'] contains 'audit', which PostgreSQL does not export: "
     "use any of ['postgresql', 'upgrade', 'iam-db-auth-error']."),
    ({"db_name": "rag-db"},
     "db_name='rag-db' is not a valid PostgreSQL name: use 1-63 letters, digits or underscores, "
     "starting with a letter."),
    ({"master_username": "rdsadmin"}, "master_username='rdsadmin' is reserved by RDS: choose another name."),
    ({"kms_key_arn": "alias/rds"},
     "kms_key_arn='alias/rds' is not a KMS key ARN: pass arn:aws:kms:<region>:<account>:key/<key-id> "
     "(IAM policies cannot name a key by alias or bare id)."),
    ({"identifier": "rag--db"},
     "identifier='rag--db' is not a valid RDS identifier: use 1-63 lower-case letters, digits or single hyphens, "
     "starting with a letter and not ending with a hyphen."),
])
def test_impossible_arguments_are_refused_with_the_fix(overrides, message):
    rejected(message, **overrides)


def test_log_retention_must_be_a_cloudwatch_value():
    with pytest.raises(ValueError, match=r"^log_retention_days=45 is not a CloudWatch Logs retention: use one of 1, 3"):
        plan_db(log_retention_days=45)


def test_identifier_derived_from_an_invalid_component_name_is_refused():
    rejected("identifier=None takes the component name 'rag_db', which is not a valid RDS identifier: use 1-63 "
             "lower-case letters, digits or single hyphens, starting with a letter and not ending with a hyphen.",
             name="rag_db")


def test_secret_read_policy_grants_only_get_secret_value_and_decrypt():
    import json

    import pulumi

    from genai_platform.components.aws.data.postgres import PostgresDatabase, PostgresDatabaseArgs
    from genai_platform.mockcloud import run_under_mocks

    def program():
        db = PostgresDatabase("docs-db", PostgresDatabaseArgs(vpc_id="vpc-1", db_subnet_group_name="db",
                                                              allowed_security_group_ids=["sg-1"]))
        pulumi.export("policy", db.secret_read_policy_json())

    statements = json.loads(run_under_mocks(program).outputs["policy"])["Statement"]
    assert [(s["Action"], len(s["Resource"])) for s in statements] == [(["secretsmanager:GetSecretValue"], 1),
                                                                      (["kms:Decrypt"], 1)]
    assert statements[0]["Resource"][0].startswith("arn:aws:secretsmanager:")
    assert statements[1]["Resource"][0].startswith("arn:aws:kms:")


def test_admit_adds_one_ingress_rule_for_a_client_created_later():
    from genai_platform.components.aws.data.postgres import PostgresDatabase, PostgresDatabaseArgs
    from genai_platform.mockcloud import run_under_mocks

    def program():
        db = PostgresDatabase("ml-db", PostgresDatabaseArgs(vpc_id="vpc-1", db_subnet_group_name="db",
                                                            allowed_security_group_ids=["sg-eks"]))
        db.admit("mlflow", "sg-mlflow")

    plan = run_under_mocks(program)
    rules = {r.name: r.inputs for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    assert sorted(rules) == ["ml-db-sg-from-0", "ml-db-sg-from-mlflow"]
    later = rules["ml-db-sg-from-mlflow"]
    assert (later["referencedSecurityGroupId"], later["fromPort"], later["toPort"], later["ipProtocol"]) == (
        "sg-mlflow", 5432, 5432, "tcp")
    assert "cidrIpv4" not in later


BACKUP_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"


def plan_with_backup_replica(**overrides):
    def program():
        dr = aws.Provider("dr", region="us-west-2")
        PostgresDatabase("ragdb", args(backup_replica_provider=dr, **overrides))

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


def test_backup_replication_copies_backups_into_the_dr_region_under_a_key_there():
    plan = plan_with_backup_replica(backup_retention_days=30, protect=True)
    replication = plan.one(BACKUP_REPLICATION)
    key = plan.named("ragdb-backup-replica-key", KEY)
    assert key.outputs["arn"].startswith("arn:aws:kms:us-west-2:") and key.inputs["enableKeyRotation"] is True
    assert replication.inputs == {"sourceDbInstanceArn": plan.one(INSTANCE).outputs["arn"],
                                  "kmsKeyId": key.outputs["arn"], "retentionPeriod": 30}
    assert replication.outputs["region"] == "us-west-2"
    assert plan.one(INSTANCE).outputs["arn"].startswith("arn:aws:rds:us-east-1:")
    assert replication.protect and key.protect
    assert plan.type_counts()[KEY] == 2


def test_backup_replica_retention_can_differ_and_is_range_checked():
    plan = plan_with_backup_replica(backup_replica_retention_days=7)
    assert plan.one(BACKUP_REPLICATION).inputs["retentionPeriod"] == 7
    with pytest.raises(ValueError) as error:
        plan_with_backup_replica(backup_replica_retention_days=36)
    assert str(error.value) == ("backup_replica_retention_days=36 is out of range: use 1 to 35 "
                                "(RDS replicated automated backups).")


def test_without_a_backup_replica_provider_backups_stay_in_region():
    assert BACKUP_REPLICATION not in plan_db().type_counts()
