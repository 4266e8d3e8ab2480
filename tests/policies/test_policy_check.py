"""The offline evaluator: per-environment enforcement, config overrides, the report, real mock plans."""

import json

import pytest
from pulumi_aws import rds, s3, sqs

from genai_platform.mockcloud import run_under_mocks
from genai_platform.mockcloud.plan import Plan, RecordedResource
from genai_platform.policy_check import PolicyReport, evaluate, load_config, render_text
from genai_platform.policies import ALL_RULES, ENVIRONMENTS

TAGS = {"Environment": "prod", "ManagedBy": "pulumi", "Platform": "genai-platform"}
STACK = "urn:pulumi:test::genai-platform::pulumi:pulumi:Stack::genai-platform-test"


def recorded(type_token: str, name: str, inputs: dict, *, protect: bool = False, custom: bool = True) -> RecordedResource:
    return RecordedResource(urn=f"urn:pulumi:test::genai-platform::{type_token}::{name}", type=type_token, name=name,
                            parent=STACK, custom=custom, protect=protect, dependencies=[], inputs=inputs)


def plan_of(*resources: RecordedResource) -> Plan:
    root = RecordedResource(urn=STACK, type="pulumi:pulumi:Stack", name="genai-platform-test", parent=None,
                            custom=False, protect=False, dependencies=[], inputs={})
    budget = recorded("aws:budgets/budget:Budget", "budget", {"notifications": [{"subscriberEmailAddresses": ["a@b.c"]}]})
    return Plan(project="genai-platform", stack="test", resources=[root, budget, *resources], outputs={})


DB = {"storageEncrypted": True, "multiAz": False, "deletionProtection": True, "backupRetentionPeriod": 3,
      "manageMasterUserPassword": True, "engine": "postgres", "tags": TAGS}


def found(report: PolicyReport, policy: str) -> list[dict]:
    return [v for v in report.violations if v["policy"] == policy]


@pytest.mark.parametrize(("environment", "level"), [("dev", "advisory"), ("staging", "advisory"), ("prod", "mandatory")])
def test_multi_az_is_mandatory_only_in_prod(environment, level):
    report = evaluate(plan_of(recorded("aws:rds/instance:Instance", "db", DB)), environment)
    assert [v["enforcement"] for v in found(report, "rds-multi-az")] == [level]


def test_thresholds_follow_the_environment():
    plan = plan_of(recorded("aws:rds/instance:Instance", "db", DB))
    assert found(evaluate(plan, "dev"), "rds-backup-retention") == []
    (violation,) = found(evaluate(plan, "prod"), "rds-backup-retention")
    assert violation["enforcement"] == "mandatory"
    assert violation["message"].startswith("backupRetentionPeriod=3 is below 7 days for prod.")


def test_protect_is_required_only_in_prod():
    plan = plan_of(recorded("aws:rds/instance:Instance", "db", DB, protect=False))
    assert found(evaluate(plan, "dev"), "stack-prod-stateful-protected") == []
    (violation,) = found(evaluate(plan, "prod"), "stack-prod-stateful-protected")
    assert violation["urn"].endswith("aws:rds/instance:Instance::db")
    protected = plan_of(recorded("aws:rds/instance:Instance", "db", DB, protect=True))
    assert found(evaluate(protected, "prod"), "stack-prod-stateful-protected") == []


def test_unknown_environment_is_treated_as_prod():
    report = evaluate(plan_of(recorded("aws:rds/instance:Instance", "db", DB)), "feature-x")
    assert [v["enforcement"] for v in found(report, "rds-multi-az")] == ["mandatory"]


def test_config_overrides_levels_and_settings():
    plan = plan_of(recorded("aws:rds/instance:Instance", "db", DB))
    disabled = evaluate(plan, "prod", {"rds-multi-az": "disabled"})
    assert disabled.rules == len(ALL_RULES) - 1 and found(disabled, "rds-multi-az") == []
    relaxed = evaluate(plan, "prod", {"all": "advisory"})
    assert relaxed.violations and relaxed.mandatory_violations == []
    tuned = evaluate(plan, "prod", {"rds-backup-retention": {"enforcementLevel": "mandatory", "minBackupRetentionDays": 3}})
    assert found(tuned, "rds-backup-retention") == []
    upgraded = evaluate(plan, "dev", {"rds-multi-az": {"enforcementLevel": "mandatory"}})
    assert [v["enforcement"] for v in found(upgraded, "rds-multi-az")] == ["mandatory"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_shipped_config_gives_the_same_result_as_defaults(environment):
    plan = plan_of(recorded("aws:rds/instance:Instance", "db", DB),
                   recorded("aws:cloudwatch/logGroup:LogGroup", "logs", {"retentionInDays": 7, "tags": TAGS}))
    assert evaluate(plan, environment, load_config(environment)).to_json() == evaluate(plan, environment).to_json()


def test_report_shape_and_text():
    report = evaluate(plan_of(recorded("aws:sqs/queue:Queue", "ingest", {"tags": TAGS}, protect=True)), "prod")
    document = report.to_json()
    assert set(document) == {"rules", "violations", "notes"} and document["rules"] == len(ALL_RULES)
    assert all(set(v) == {"policy", "enforcement", "urn", "message"} for v in document["violations"])
    assert {v["policy"] for v in report.mandatory_violations} == {"sqs-encryption", "sqs-tls-only",
                                                                  "sqs-has-dead-letter-queue"}
    json.dumps(document)  # serialisable as is
    text = render_text(report)
    assert "[mandatory] sqs-encryption (high) ingest\n    Neither sqsManagedSseEnabled nor kmsMasterKeyId is set." in text
    assert text.endswith(f"policies (prod): {len(ALL_RULES)} rules, 3 mandatory and 0 advisory violations")


def test_components_and_stack_root_reach_resource_rules_like_the_engine():
    # The engine analyzes every registration; the pulumi-eks component shows its inputs offline.
    cluster = recorded("eks:index:Cluster", "gpu", {"endpointPublicAccess": True}, custom=False)
    report = evaluate(plan_of(cluster), "dev")
    assert {v["policy"] for v in found(report, "eks-endpoint-not-public")} == {"eks-endpoint-not-public"}


def _bucket_program(secure: bool):
    def program():
        bucket = s3.Bucket("docs", tags=TAGS)
        if secure:
            s3.BucketPublicAccessBlock("docs", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                                       ignore_public_acls=True, restrict_public_buckets=True)
            s3.BucketVersioning("docs", bucket=bucket.id, versioning_configuration={"status": "Enabled"})
            s3.BucketPolicy("docs", bucket=bucket.id, policy=bucket.arn.apply(lambda arn: json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [arn, f"{arn}/*"],
                               "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})))
        dlq = sqs.Queue("ingest-dlq", sqs_managed_sse_enabled=True, tags=TAGS)
        sqs.Queue("ingest", sqs_managed_sse_enabled=True, tags=TAGS,
                  redrive_policy=dlq.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5}))
                  if secure else None)
        rds.Instance("db", instance_class="db.t4g.micro", engine="postgres", storage_encrypted=secure,
                     manage_master_user_password=True, tags=TAGS)

    return program


def test_mock_plan_pairs_companions_through_real_registrations():
    rules = {"s3-bucket-has-public-access-block", "s3-bucket-versioning", "s3-bucket-tls-only",
             "sqs-has-dead-letter-queue", "rds-storage-encrypted"}
    secure = evaluate(run_under_mocks(_bucket_program(True), config={"aws:region": "us-east-1"}), "prod")
    assert {v["policy"] for v in secure.violations} & rules == set()
    insecure = evaluate(run_under_mocks(_bucket_program(False), config={"aws:region": "us-east-1"}), "prod")
    assert {v["policy"] for v in insecure.mandatory_violations} & rules == rules
