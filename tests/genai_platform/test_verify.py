"""Post-deploy checks against moto: a healthy environment passes; each injected fault fails exactly its row."""

import json

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from genai_platform.aws_ops import output_keys as keys
from genai_platform.aws_ops.checks import Check, check_outputs, entries, load_outputs, run_checks
from genai_platform.aws_ops.errors import OpsError
from genai_platform.aws_ops.session import AwsSession
from genai_platform.aws_ops.testing import isolate_aws_env, seed_environment

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def healthy():
    """One moto account and one healthy environment for the module. Tests never change it: a fault is a new,
    broken resource that the test's outputs point at instead (seeding costs more than checking)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_aws_env(monkeypatch, region=REGION)
        with mock_aws():
            yield seed_environment("base", REGION)


@pytest.fixture(scope="module")
def aws(healthy):
    return AwsSession(REGION)


def client(service):
    return boto3.client(service, region_name=REGION)


def failed(checks):
    return {(check.check, check.resource): check.reason for check in checks if not check.passed}


def database(name, **settings):
    client("rds").create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t4g.micro", Engine="postgres", AllocatedStorage=20,
        MasterUsername="app", ManageMasterUserPassword=True, **settings)
    return {keys.DATABASE_IDENTIFIER: name}


def queue_pair(prefix, messages):
    sqs = client("sqs")
    dlq = sqs.create_queue(QueueName=f"{prefix}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName=f"{prefix}-work", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})})["QueueUrl"]
    for _ in range(messages):
        sqs.send_message(QueueUrl=dlq, MessageBody="{}")
    return {keys.QUEUE_URLS: {"work": queue}, keys.DLQ_URLS: {"work-dlq": dlq}}


def target_group(prefix, *, stopped):
    """A target group with one instance target; returns the outputs and the instance id."""
    ec2, elbv2 = client("ec2"), client("elbv2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    group = elbv2.create_target_group(Name=f"{prefix}-api", Protocol="HTTP", Port=8080, VpcId=vpc,
                                      TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": instance, "Port": 8080}])
    if stopped:
        ec2.stop_instances(InstanceIds=[instance])
    return {keys.ALB_TARGET_GROUP_ARNS: {"api": group}}, instance


def test_healthy_environment_passes_every_check(aws, healthy):
    checks = run_checks(aws, healthy, "prod")

    assert failed(checks) == {}
    assert [(c.check, c.resource) for c in checks] == [
        ("database encrypted", "base-rag"), ("database not public", "base-rag"), ("database backups", "base-rag"),
        ("database deletion protection", "base-rag"),
        ("bucket blocks public access", "base-documents"), ("bucket encrypted", "base-documents"),
        ("queue has DLQ", "ingest"), ("DLQ empty", "ingest-dlq"),
        ("targets healthy", "tabular-api"), ("budget exists", "base-monthly"), ("no alarm firing", "base-*"),
    ]
    reasons = {c.check: c.reason for c in checks}
    assert reasons["database backups"] == "backup retention 7 days"
    assert reasons["queue has DLQ"] == "base-ingest-dlq after 5 receives"
    assert reasons["targets healthy"] == "1/1 healthy"
    assert reasons["budget exists"] == "limit 500 USD monthly, spent 0 USD"
    assert reasons["no alarm firing"] == "1 alarm(s), none in ALARM"


def test_deletion_protection_is_only_required_in_prod(aws, healthy):
    outputs = {**healthy, **database("nodp-rag", StorageEncrypted=True, PubliclyAccessible=False,
                                     BackupRetentionPeriod=1, DeletionProtection=False)}

    assert failed(run_checks(aws, outputs, "prod")) == {
        ("database deletion protection", "nodp-rag"): "off (prod requires it)"}
    assert failed(run_checks(aws, outputs, "staging")) == {}


def plain_database(prefix):
    return database(f"{prefix}-plain", StorageEncrypted=False, PubliclyAccessible=True, BackupRetentionPeriod=0)


def open_bucket(prefix):
    s3 = client("s3")
    s3.create_bucket(Bucket=f"{prefix}-open", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_public_access_block(Bucket=f"{prefix}-open", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    s3.create_bucket(Bucket=f"{prefix}-bare", CreateBucketConfiguration={"LocationConstraint": REGION})
    return {keys.BUCKET_NAMES: [f"{prefix}-open", f"{prefix}-bare"]}


def queue_without_dlq(prefix):
    return {keys.QUEUE_URLS: {"loose": client("sqs").create_queue(QueueName=f"{prefix}-loose")["QueueUrl"]}}


def firing_alarm(prefix):
    cloudwatch = client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=f"{prefix}-queue-age", Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=600, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName=f"{prefix}-queue-age", StateValue="ALARM", StateReason="test")
    return {keys.ALARM_NAME_PREFIX: f"{prefix}-"}


def gone(key, value):
    return lambda prefix: {key: value}


@pytest.mark.parametrize(("prefix", "inject", "expected"), [
    ("db", plain_database, {
        ("database encrypted", "db-plain"): "storage not encrypted (fixable only by restoring an encrypted snapshot copy)",
        ("database not public", "db-plain"): "PubliclyAccessible=true",
        ("database backups", "db-plain"): "backup retention 0 days",
        ("database deletion protection", "db-plain"): "off (prod requires it)"}),
    ("s3", open_bucket, {
        ("bucket blocks public access", "s3-open"): "off: BlockPublicPolicy, RestrictPublicBuckets",
        ("bucket blocks public access", "s3-bare"): "no public access block",
        ("bucket encrypted", "s3-open"): "no default encryption",
        ("bucket encrypted", "s3-bare"): "no default encryption"}),
    ("nodlq", queue_without_dlq, {
        ("queue has DLQ", "loose"): "no RedrivePolicy: failed messages are retried forever"}),
    ("full", lambda prefix: queue_pair(prefix, messages=2), {
        ("DLQ empty", "work-dlq"): "2 message(s) waiting: inspect, then redrive (see docs/runbook.md)"}),
    ("fire", firing_alarm, {("no alarm firing", "fire-*"): "1 of 1 in ALARM: fire-queue-age"}),
    ("nobudget", gone(keys.BUDGET_NAMES, ["base-monthly-typo"]), {
        ("budget exists", "base-monthly-typo"): "no budget base-monthly-typo in account 123456789012"}),
    ("noalarm", gone(keys.ALARM_NAME_PREFIX, "typo-"), {
        ("no alarm firing", "typo-*"): "no alarm is named typo-*: check alarmNamePrefix and that the alarms were deployed"}),
    ("nodb", gone(keys.DATABASE_IDENTIFIER, "missing-db"), {
        ("database exists", "missing-db"): f"no DB instance missing-db in {REGION}"}),
    ("nobucket", gone(keys.BUCKET_NAMES, ["missing-bucket"]), {
        ("bucket exists", "missing-bucket"): "no bucket missing-bucket"}),
    ("noqueue", gone(keys.QUEUE_URLS, [f"https://sqs.{REGION}.amazonaws.com/123456789012/missing-queue"]), {
        ("queue has DLQ", "missing-queue"): "queue does not exist"}),
    ("notg", gone(keys.ALB_TARGET_GROUP_ARNS, [
        f"arn:aws:elasticloadbalancing:{REGION}:123456789012:targetgroup/missing-api/0123456789abcdef"]), {
        ("targets healthy", "missing-api"): "target group not found"}),
])
def test_each_fault_fails_exactly_its_own_checks(aws, healthy, prefix, inject, expected):
    assert failed(run_checks(aws, {**healthy, **inject(prefix)}, "prod")) == expected


def test_stopped_target_is_unhealthy(aws, healthy):
    outputs, instance = target_group("sick", stopped=True)
    assert failed(run_checks(aws, {**healthy, **outputs}, "prod")) == {
        ("targets healthy", "api"): f"0/1 healthy; {instance} unused (Target.InvalidState)"}


def test_target_group_without_targets_or_listener_fails(aws, healthy):
    outputs, instance = target_group("empty", stopped=False)
    elbv2 = client("elbv2")
    elbv2.deregister_targets(TargetGroupArn=outputs[keys.ALB_TARGET_GROUP_ARNS]["api"], Targets=[{"Id": instance}])

    assert failed(run_checks(aws, {**healthy, **outputs}, "dev")) == {
        ("targets healthy", "api"): "no registered targets, and no listener forwards to it"}


def canary_service(prefix, *, live_weight=100):
    """An ALB whose rule splits traffic between two target groups the way an ECS canary leaves it between
    deploys: the live group (weight ``live_weight``) has a target, the idle one none. Returns both ARNs."""
    ec2, elbv2 = client("ec2"), client("elbv2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [subnet["SubnetId"] for subnet in
               ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    balancer = elbv2.create_load_balancer(Name=f"{prefix}-alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    live, idle = (elbv2.create_target_group(Name=f"{prefix}-{role}", Protocol="HTTP", Port=8080, VpcId=vpc,
                                            TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
                  for role in ("tg", "tg-alt"))
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    elbv2.register_targets(TargetGroupArn=live, Targets=[{"Id": instance, "Port": 8080}])
    listener = elbv2.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]
    elbv2.create_rule(ListenerArn=listener, Priority=1, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}], Actions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": live, "Weight": live_weight},
                                                               {"TargetGroupArn": idle, "Weight": 100 - live_weight}]}}])
    return live, idle


def test_idle_group_of_a_canary_may_be_empty(aws, healthy):
    live, idle = canary_service("canary")
    checks = [c for c in run_checks(aws, {**healthy, keys.ALB_TARGET_GROUP_ARNS: [live, idle]}, "prod")
              if c.check == "targets healthy"]

    assert checks == [
        Check("targets healthy", "canary-tg", True, "1/1 healthy"),
        Check("targets healthy", "canary-tg-alt", True,
              "no registered targets: the idle group of a traffic-shifting deploy (weight 0)")]


def test_empty_group_that_gets_traffic_fails(aws, healthy):
    live, idle = canary_service("shifted", live_weight=90)

    assert failed(run_checks(aws, {**healthy, keys.ALB_TARGET_GROUP_ARNS: [live, idle]}, "prod")) == {
        ("targets healthy", "shifted-tg-alt"): "no registered targets: the ALB answers 503"}


def test_outputs_in_the_shape_the_stacks_export_pass(aws, healthy):
    """stacks/__main__.py exports labelled dicts (two databases, two buckets, one budget) and a flat list of
    target groups that includes the canary's idle group; a healthy environment of that shape passes."""
    for name in ("shape-rag-db", "shape-tabular-db"):
        database(name, StorageEncrypted=True, PubliclyAccessible=False, BackupRetentionPeriod=30,
                 DeletionProtection=True)
    live, idle = canary_service("shape")
    queues = queue_pair("shape", messages=0)
    outputs = {
        **healthy,
        keys.DATABASE_IDENTIFIER: {"rag": "shape-rag-db", "tabular": "shape-tabular-db"},
        keys.BUCKET_NAMES: {"rag-documents": healthy[keys.BUCKET_NAMES][0]},
        keys.QUEUE_URLS: {"rag-ingest": queues[keys.QUEUE_URLS]["work"]},
        keys.DLQ_URLS: {"rag-ingest": queues[keys.DLQ_URLS]["work-dlq"]},
        keys.ALB_TARGET_GROUP_ARNS: [live, idle],
        keys.BUDGET_NAMES: {"aws": healthy[keys.BUDGET_NAMES][0]},
    }
    checks = run_checks(aws, outputs, "prod")

    assert failed(checks) == {}
    assert sorted({(c.check, c.resource) for c in checks if c.check != "no alarm firing"}) == sorted({
        *((check, db) for db in ("rag", "tabular") for check in (
            "database encrypted", "database not public", "database backups", "database deletion protection")),
        ("bucket blocks public access", "rag-documents"), ("bucket encrypted", "rag-documents"),
        ("queue has DLQ", "rag-ingest"), ("DLQ empty", "rag-ingest"),
        ("targets healthy", "shape-tg"), ("targets healthy", "shape-tg-alt"), ("budget exists", "aws")})


def test_missing_output_keys_fail_instead_of_skipping_checks(aws, healthy):
    outputs = {key: value for key, value in healthy.items() if key not in (keys.BUDGET_NAMES, keys.ALARM_NAME_PREFIX)}

    assert failed(run_checks(aws, outputs, "dev")) == {
        ("stack output", "budgetNames"): "budgetNames is missing from the outputs: export it from the stack",
        ("stack output", "alarmNamePrefix"): "alarmNamePrefix is missing from the outputs: export it from the stack"}


def test_dlq_named_by_a_redrive_policy_is_checked_once_even_if_not_exported(aws, healthy):
    pair = queue_pair("once", messages=1)

    unexported = [c for c in run_checks(aws, {**healthy, **pair, keys.DLQ_URLS: {}}, "dev") if c.check == "DLQ empty"]
    exported = [c for c in run_checks(aws, {**healthy, **pair}, "dev") if c.check == "DLQ empty"]

    assert unexported == [Check("DLQ empty", "work DLQ", False,
                                "1 message(s) waiting: inspect, then redrive (see docs/runbook.md)")]
    assert [(c.resource, c.passed) for c in exported] == [("work-dlq", False)]


@pytest.mark.parametrize(("key", "value", "shown"), [
    (keys.ALARM_NAME_PREFIX, "", '""'),  # would match every alarm in the account
    (keys.DATABASE_IDENTIFIER, "", '""'),  # DescribeDBInstances without an identifier lists every database
    (keys.DATABASE_IDENTIFIER, {"rag": " "}, '" "'),
    (keys.BUCKET_NAMES, ["ok", None], "null"),
    (keys.QUEUE_URLS, {"ingest": {"url": "https://sqs"}}, '{"url": "https://sqs"}'),
    (keys.BUDGET_NAMES, 42, "42"),
    (keys.ALARM_NAME_PREFIX, ["prod-"], '["prod-"]'),
    (keys.BUCKET_NAMES, [None, "x" * 300], "null"),
])
def test_outputs_that_name_no_resource_are_bad_input_not_a_failed_check(aws, healthy, key, value, shown):
    with pytest.raises(OpsError) as error:
        run_checks(aws, {**healthy, key: value}, "dev")
    assert str(error.value).startswith(f"the outputs: {key} holds {shown}, not a non-empty name: ")


def test_a_huge_name_is_echoed_cut_short(aws, healthy):
    with pytest.raises(OpsError) as error:
        run_checks(aws, {**healthy, keys.BUCKET_NAMES: ["x" * 5000]}, "dev")
    assert str(error.value).startswith('s3:ListBucket failed: Parameter validation failed: Invalid bucket name "xxx')
    assert len(str(error.value)) < 400


def test_outputs_of_another_project_are_bad_input(aws):
    with pytest.raises(OpsError, match="^the outputs names none of databaseIdentifier, "):
        run_checks(aws, {"url": "https://example.com"}, "dev")


@pytest.mark.parametrize(("value", "pairs"), [
    ("db-1", [("db-1", "db-1")]),
    (["a", "b"], [("a", "a"), ("b", "b")]),
    ({"rag": "db-1"}, [("rag", "db-1")]),
    ([], []),
])
def test_outputs_may_be_a_string_a_list_or_a_labelled_dict(value, pairs):
    assert entries(value) == pairs


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read --outputs {path}: No such file or directory: write it with pulumi stack output --json > FILE"),
    ("{not json", "--outputs {path} is not JSON (Expecting property name enclosed in double quotes at line 1): "
                  "write it with pulumi stack output --json > FILE"),
    ("[1, 2]", "--outputs {path} holds a JSON list, not an object: write it with pulumi stack output --json > FILE"),
])
def test_unreadable_outputs_file_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "outputs.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(OpsError) as error:
        load_outputs(path)
    assert str(error.value) == message.format(path=path)


def test_outputs_file_round_trip(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({keys.BUCKET_NAMES: ["a"]}))
    assert load_outputs(path) == {"bucketNames": ["a"]}


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=8)


def _names_a_resource(key, value):
    def name(item):
        return isinstance(item, str) and item.strip() != ""

    if key == keys.ALARM_NAME_PREFIX:
        return name(value)
    items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
    return all(name(item) for item in items)


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(keys.ALL), value=_JSON)
def test_any_output_value_that_names_no_resource_is_refused_before_a_check(key, value):
    """No AWS session is needed: bad input is refused before any call (an accepted value returns quietly)."""
    try:
        check_outputs({key: value})
    except OpsError as error:
        assert not _names_a_resource(key, value)
        assert str(error).startswith(f"the outputs: {key} holds ") and len(str(error)) < 400
    else:
        assert _names_a_resource(key, value)
