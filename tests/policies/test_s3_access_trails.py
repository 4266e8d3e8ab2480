"""s3-bucket-access-logging: mandatory in prod, a bucket receiving access logs is exempt, and the preview
(where names are not known yet) is judged like the engine would once they are."""

import pytest

from genai_platform.mockcloud.plan import Plan, RecordedResource
from genai_platform.policy_check import evaluate
from genai_platform.policies.values import UNKNOWN

RULE = "s3-bucket-access-logging"
BUCKET = "aws:s3/bucket:Bucket"
LOGGING = "aws:s3/bucketLogging:BucketLogging"


def resource(type_token: str, name: str, inputs: dict | None = None, deps: tuple[str, ...] = (),
             outputs: dict | None = None) -> RecordedResource:
    return RecordedResource(urn=f"urn:pulumi:prod::genai-platform::{type_token}::{name}", type=type_token, name=name,
                            parent=None, custom=True, protect=False,
                            dependencies=[f"urn:pulumi:prod::genai-platform::{BUCKET}::{d}" for d in deps],
                            inputs=inputs or {}, outputs=outputs or {})


def bucket(name: str, known: bool = True) -> RecordedResource:
    outputs = {"bucket": f"{name}-1a2b3c4", "arn": f"arn:aws:s3:::{name}-1a2b3c4"} if known else {}
    return resource(BUCKET, name, outputs=outputs)


def logging(source: str, target: str, known: bool = True) -> RecordedResource:
    inputs = ({"bucket": f"{source}-1a2b3c4", "targetBucket": f"{target}-1a2b3c4"} if known
              else {"bucket": UNKNOWN, "targetBucket": UNKNOWN})
    return resource(LOGGING, f"{source}-logging", {**inputs, "targetPrefix": f"{source}/"}, deps=(source, target))


def violations(*resources: RecordedResource, environment: str = "prod") -> list[tuple[str, str]]:
    plan = Plan(project="genai-platform", stack=environment, resources=list(resources), outputs={})
    return [(v["enforcement"], v["urn"].rsplit("::", 1)[-1]) for v in evaluate(plan, environment).violations
            if v["policy"] == RULE]


def test_a_bucket_without_access_logs_blocks_prod_and_warns_elsewhere():
    assert violations(bucket("docs")) == [("mandatory", "docs")]
    assert violations(bucket("docs"), environment="staging") == [("advisory", "docs")]
    assert violations(bucket("docs"), environment="dev") == [("advisory", "docs")]


def test_the_log_bucket_itself_is_exempt_but_nothing_else():
    assert violations(bucket("docs"), bucket("logs"), logging("docs", "logs")) == []
    assert violations(bucket("docs"), bucket("logs"), bucket("other"), logging("docs", "logs")) == [
        ("mandatory", "other")]


@pytest.mark.parametrize("source_known", [True, False])
def test_a_new_log_bucket_whose_name_the_preview_does_not_know_yet_passes(source_known):
    # An existing bucket (known name) gains logging into a log bucket created in the same update.
    docs = bucket("docs", known=source_known)
    entry = logging("docs", "logs", known=False)
    if source_known:
        entry.inputs["bucket"] = "docs-1a2b3c4"
    assert violations(docs, bucket("logs", known=False), entry) == []
