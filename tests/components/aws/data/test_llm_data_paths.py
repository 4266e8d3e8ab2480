"""ModelStore (weights bucket + read-only role), S3 event notifications into a queue, and the KEDA install."""

import json

import pulumi
import pytest

from genai_platform.components.aws.data.bucket_events import BucketQueueNotification, BucketQueueNotificationArgs
from genai_platform.components.aws.eks.cluster import EksCluster, EksClusterArgs
from genai_platform.components.aws.capacity.keda import KEDA_VERSION, Keda, KedaArgs, sqs_depth_read_policy
from genai_platform.components.aws.data.model_store import ModelStore, ModelStoreArgs
from genai_platform.components.aws.data.queue import QueueWithDlq, QueueWithDlqArgs
from genai_platform.mockcloud import run_under_mocks

OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
OIDC_URL = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"
CONFIG = {"aws:region": "us-east-1"}


def plan_store(prefix="mistralai/Mistral-7B-Instruct-v0.3"):
    def program():
        store = ModelStore("models", ModelStoreArgs(oidc_provider_arn=OIDC_ARN, oidc_provider_url=OIDC_URL,
                                                    namespace="rag", service_account="llm", protect=True))
        pulumi.export("uri", store.model_uri(prefix))
        pulumi.export("role", store.reader_role_arn)

    return run_under_mocks(program, config=CONFIG)


def test_the_model_store_is_a_hardened_bucket_readable_by_one_service_account():
    plan = plan_store()
    bucket = plan.named("models-weights-bucket", "aws:s3/bucket:Bucket")
    assert bucket.protect is True
    assert plan.outputs["uri"] == f"s3://{bucket.outputs['bucket']}/mistralai/Mistral-7B-Instruct-v0.3"
    assert plan.named("models-weights-versioning").inputs["versioningConfiguration"]["status"] == "Enabled"
    block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[key] for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    role = plan.named("models-reader-role", "aws:iam/role:Role")
    assert plan.outputs["role"] == role.outputs["arn"]
    condition = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:rag:llm",
                         "oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com"}
    (policy,) = plan.of_type("aws:iam/rolePolicy:RolePolicy")
    actions = {a for s in json.loads(policy.inputs["policy"])["Statement"] for a in s["Action"]}
    assert actions == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt"}


def test_the_reader_must_be_a_kubernetes_service_account_before_anything_is_created():
    args = ModelStoreArgs(oidc_provider_arn=OIDC_ARN, oidc_provider_url=OIDC_URL, namespace="rag", service_account="LLM")
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: ModelStore("models", args), config=CONFIG)
    assert str(error.value) == ("service_account='LLM' is not a Kubernetes name: use lower-case letters, digits and "
                                "'-', at most 63 characters.")


@pytest.mark.parametrize("prefix", ["/abs/path", "a/../b", ""])
def test_model_paths_must_be_key_prefixes(prefix):
    with pytest.raises(ValueError) as error:
        plan_store(prefix)
    assert str(error.value) == (f"model path {prefix!r} is not an S3 key prefix: use e.g. "
                                "'mistralai/Mistral-7B-Instruct-v0.3' (the folder holding config.json and the "
                                "*.safetensors files).")


def plan_events(prefix="incoming/", sources=True):
    def program():
        bucket_arn = "arn:aws:s3:::docs-bucket"
        queue = QueueWithDlq("ingest", QueueWithDlqArgs(s3_source_bucket_arns=[bucket_arn] if sources else []))
        BucketQueueNotification("docs-incoming", BucketQueueNotificationArgs(
            bucket_name="docs-bucket", queue_arn=queue.event_target_arn, prefix=prefix))

    return run_under_mocks(program, config=CONFIG)


def test_the_queue_admits_s3_from_the_named_bucket_only_and_the_notification_waits_for_that():
    plan = plan_events()
    queue = plan.named("ingest-queue", "aws:sqs/queue:Queue")
    policy = plan.named("ingest-queue-policy", "aws:sqs/queuePolicy:QueuePolicy")
    allow = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Effect"] == "Allow"]
    assert allow == [{"Sid": "S3EventNotifications", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                      "Action": "sqs:SendMessage", "Resource": queue.outputs["arn"],
                      "Condition": {"ArnEquals": {"aws:SourceArn": ["arn:aws:s3:::docs-bucket"]},
                                    "StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    dlq_policy = plan.named("ingest-dlq-policy", "aws:sqs/queuePolicy:QueuePolicy")
    assert [s["Effect"] for s in json.loads(dlq_policy.inputs["policy"])["Statement"]] == ["Deny"]
    notification = plan.one("aws:s3/bucketNotification:BucketNotification")
    assert notification.inputs["queues"] == [{"id": "docs-incoming-incoming", "queueArn": queue.outputs["arn"],
                                              "events": ["s3:ObjectCreated:*"], "filterPrefix": "incoming/"}]
    assert policy.urn in notification.dependencies


def test_without_sources_the_queue_policy_only_denies_plain_http():
    policy = plan_events(sources=False).named("ingest-queue-policy", "aws:sqs/queuePolicy:QueuePolicy")
    assert [s["Effect"] for s in json.loads(policy.inputs["policy"])["Statement"]] == ["Deny"]


def test_bad_prefixes_and_sources_are_refused():
    with pytest.raises(ValueError) as error:
        plan_events(prefix="incoming")
    assert str(error.value) == "prefix='incoming' is not a key prefix: use a folder ending with '/', e.g. 'incoming/'."
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: QueueWithDlq("ingest", QueueWithDlqArgs(s3_source_bucket_arns=["docs-bucket"])))
    assert str(error.value) == ("s3_source_bucket_arns contains 'docs-bucket', which is not an S3 bucket ARN: pass "
                                "Bucket.bucket_arn (arn:aws:s3:::<bucket>).")


def test_keda_installs_the_pinned_chart_with_an_operator_role_that_starts_empty():
    def program():
        cluster = EksCluster("eks", EksClusterArgs(vpc_id="vpc-1", private_subnet_ids=["subnet-a", "subnet-b"]))
        keda = Keda("keda", KedaArgs(cluster=cluster))
        keda.allow("ingest-depth", sqs_depth_read_policy("arn:aws:sqs:us-east-1:123456789012:ingest"))

    plan = run_under_mocks(program, config=CONFIG)
    release = next(r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "keda")
    role = plan.named("keda-operator", "aws:iam/role:Role")
    assert (release.inputs["version"], release.inputs["createNamespace"]) == (KEDA_VERSION, True)
    assert release.inputs["values"] == {
        "podIdentity": {"aws": {"irsa": {"enabled": True, "roleArn": role.outputs["arn"]}}},
        "nodeSelector": {"genai-platform/pool": "system"},
        "serviceAccount": {"operator": {"name": "keda-operator"}},
    }
    policies = [p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    assert [json.loads(p.inputs["policy"])["Statement"] for p in policies] == [[{
        "Sid": "ReadQueueDepth", "Effect": "Allow", "Action": ["sqs:GetQueueAttributes"],
        "Resource": ["arn:aws:sqs:us-east-1:123456789012:ingest"]}]]
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: Keda("keda", KedaArgs(cluster=None, chart_version="latest")), config=CONFIG)
    assert str(error.value) == ("chart_version='latest' is not a KEDA 2 release: pin one such as '2.20.2' (never a "
                                "range or 'latest').")
