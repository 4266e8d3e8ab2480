"""Support for exercising ``aws_ops`` against moto (tests, demos): an isolated fake-credential environment and
a small healthy environment whose outputs follow ``output_keys``.

Not imported by the commands. ``seed_environment`` doubles as an executable example of the output contract:
``python -c "from genai_platform.aws_ops.testing import seed_environment; ..."`` against a local moto server.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from genai_platform.aws_ops import output_keys as keys

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    # Never read the developer's real profiles, and never wait on the instance metadata service.
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}
CLEARED = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_REGION",
    "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def isolate_aws_env(monkeypatch: Any, *, region: str | None, endpoint_url: str | None = None,
                    credentials: bool = True) -> None:
    """Point boto3 at fake credentials (or none) and optionally an endpoint, with ``monkeypatch``."""
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    skipped = () if credentials else ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    for name, value in FAKE_ENV.items():
        if name not in skipped:
            monkeypatch.setenv(name, value)
    if region:
        monkeypatch.setenv("AWS_REGION", region)
    if endpoint_url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)


def seed_environment(prefix: str, region: str) -> dict[str, Any]:
    """Create a healthy environment named ``prefix-*`` and return its stack outputs."""
    def client(service: str) -> Any:
        return boto3.client(service, region_name=region)

    database = f"{prefix}-rag"
    client("rds").create_db_instance(
        DBInstanceIdentifier=database, DBInstanceClass="db.t4g.micro", Engine="postgres", AllocatedStorage=20,
        MasterUsername="app", ManageMasterUserPassword=True, StorageEncrypted=True, PubliclyAccessible=False,
        BackupRetentionPeriod=7, DeletionProtection=True)

    s3, bucket = client("s3"), f"{prefix}-documents"
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]})

    sqs = client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-ingest-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName=f"{prefix}-ingest", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})})["QueueUrl"]

    ec2, elbv2 = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    group = elbv2.create_target_group(Name=f"{prefix}-api", Protocol="HTTP", Port=8080, VpcId=vpc,
                                      TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": instance, "Port": 8080}])

    account = client("sts").get_caller_identity()["Account"]
    budget = f"{prefix}-monthly"
    client("budgets").create_budget(AccountId=account, Budget={
        "BudgetName": budget, "BudgetLimit": {"Amount": "500", "Unit": "USD"}, "TimeUnit": "MONTHLY",
        "BudgetType": "COST"})

    cloudwatch = client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=f"{prefix}-api-5xx", Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName=f"{prefix}-api-5xx", StateValue="OK", StateReason="seeded")

    return {
        keys.DATABASE_IDENTIFIER: database,
        "databaseEndpoint": f"{database}.abc123.{region}.rds.amazonaws.com",
        keys.BUCKET_NAMES: [bucket],
        keys.QUEUE_URLS: {"ingest": queue_url},
        keys.DLQ_URLS: {"ingest-dlq": dlq_url},
        keys.ALB_TARGET_GROUP_ARNS: {"tabular-api": group},
        keys.BUDGET_NAMES: [budget],
        keys.ALARM_NAME_PREFIX: f"{prefix}-",
    }
