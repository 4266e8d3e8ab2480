"""The offline plan's policy verdict equals the served pack's, for every stack and every rule.

The pack runs as the engine runs it (a subprocess, see conftest); both it and the offline
evaluator get the same Analyzer requests built from the plan, as a first preview (computed outputs
unknown) and with known values. Rules and stacks added later are covered without editing this file.
"""

import json

import pulumi_kubernetes as k8s
import pytest
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_aws import ec2, ecs, eks, iam, rds, s3, sqs
from pulumi_aws import vpc as awsvpc

from genai_platform import planning, policy_check
from genai_platform.mockcloud import run_under_mocks
from genai_platform.policy_analyzer import ENGINE_UNKNOWN, analyze, engine_config, requests_for
from genai_platform.policy_check import PASSES, configured_analyzer, evaluate, load_config, merged_report
from genai_platform.policies import ALL_RULES

STACKS = planning.stack_names(planning.project_dir())


def configured(analyzer, environment: str) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    analyzer.Configure(engine_config(load_config(environment), info))


@pytest.mark.parametrize("stack", STACKS)
def test_served_pack_describes_every_rule_as_the_offline_analyzer(stack, served_pack):
    served = served_pack(stack).analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    offline, _ = configured_analyzer(stack, None)
    assert [p.name for p in served.policies] == [r.name for r in ALL_RULES]
    assert served == offline.GetAnalyzerInfo(empty_pb2.Empty())


@pytest.mark.parametrize("stack", STACKS)
def test_offline_plan_gives_the_served_pack_verdict(stack, stack_plans, served_pack):
    """Same policy, level, URN and message for every request, at a first preview and with known values."""
    pack, plan = served_pack(stack), stack_plans[stack]
    configured(pack.analyzer, stack)
    running, offline_passes = policy_check.analyzed(plan, stack, load_config(stack))  # the verdict merges these
    served = []
    for preview, offline in zip(PASSES, offline_passes, strict=True):
        served.append(analyze(pack.analyzer, requests_for(plan, preview=preview)))
        assert served[-1] == offline, f"preview={preview}"
    report = merged_report(stack, running, offline_passes)
    assert report.to_json() == merged_report(stack, running, served).to_json()
    assert report.rules == len(ALL_RULES) and report.mandatory_violations == []  # every stack passes the gate
    assert pack.engine.logs == []


@pytest.mark.parametrize("stack", STACKS)
def test_first_preview_sends_computed_outputs_as_the_engine_unknown(stack, stack_plans):
    requests = requests_for(stack_plans[stack], preview=True)
    states = {r.urn: json_format.MessageToDict(r.properties) for r in requests.stack.resources}
    for recorded in stack_plans[stack].resources:
        if recorded.custom and recorded.id and "arn" in recorded.outputs and "arn" not in recorded.inputs:
            assert states[recorded.urn]["arn"] == ENGINE_UNKNOWN
    known = requests_for(stack_plans[stack], preview=False)
    assert ENGINE_UNKNOWN not in str([json_format.MessageToDict(r.properties) for r in known.resources])


def test_requests_carry_numbers_as_floats_and_secrets_in_the_engine_envelope(stack_plans):
    plan = stack_plans["dev"]
    request = {r.urn: r for r in requests_for(plan, preview=False).resources}
    cache = plan.one("aws:elasticache/replicationGroup:ReplicationGroup")
    props = json_format.MessageToDict(request[cache.urn].properties)
    assert props["authToken"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
    assert props["authToken"]["value"] not in ("", "[secret]")  # the plaintext, as the engine sends it
    assert isinstance(props["port"], float) and props["port"] == cache.inputs["port"]
    assert isinstance(request[cache.urn], analyzer_pb2.AnalyzeRequest)


TAGS = {"Environment": "prod", "ManagedBy": "pulumi", "Platform": "genai-platform"}


def _insecure_program():
    """One deliberately non-compliant resource per rule family, written as a user would write it."""
    net = ec2.Vpc("net", cidr_block="10.0.0.0/16", tags=TAGS)
    bastion = ec2.SecurityGroup("bastion", vpc_id=net.id, tags=TAGS, ingress=[
        {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}])
    awsvpc.SecurityGroupIngressRule("rdp", security_group_id=bastion.id, ip_protocol="tcp", from_port=3389,
                                    to_port=3389, cidr_ipv4="0.0.0.0/0", tags=TAGS)
    role = iam.Role("cluster", tags=TAGS, assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    eks.Cluster("gpu", role_arn=role.arn, tags=TAGS,
                vpc_config={"subnet_ids": ["subnet-1", "subnet-2"], "endpoint_public_access": True})
    iam.Policy("admin", tags=TAGS, policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    ecs.TaskDefinition("api", family="api", requires_compatibilities=["FARGATE"], network_mode="awsvpc", cpu="256",
                       memory="512", tags=TAGS,
                       container_definitions=json.dumps([{"name": "api", "image": "app:1.0", "privileged": True}]))
    k8s.apps.v1.Deployment("worker", metadata={"namespace": "rag"}, spec={
        "selector": {"match_labels": {"app": "worker"}},
        "template": {"metadata": {"labels": {"app": "worker"}}, "spec": {"containers": [
            {"name": "worker", "image": "worker:1.0", "security_context": {"privileged": True, "run_as_user": 0}}]}}})
    rds.Instance("db", instance_class="db.t4g.micro", engine="postgres", storage_encrypted=False,
                 manage_master_user_password=True, backup_retention_period=7, tags=TAGS)
    bucket = s3.Bucket("public", tags=TAGS)
    s3.BucketPublicAccessBlock("public", bucket=bucket.id, block_public_acls=False, block_public_policy=False,
                               ignore_public_acls=False, restrict_public_buckets=False)
    s3.BucketAcl("public", bucket=bucket.id, acl="public-read")
    sqs.Queue("jobs", sqs_managed_sse_enabled=True, tags=TAGS)


# (policy, logical name, the finding before " Fix: ...") the pack must report for _insecure_program.
CAUGHT = [
    ("ec2-security-group-no-public-ingress", "bastion",
     "Ingress from 0.0.0.0/0 to tcp 22-22 on a group that is not a load balancer's."),
    ("ec2-security-group-no-public-ingress", "rdp",
     "Ingress from 0.0.0.0/0 to tcp 3389-3389 on a group that is not a load balancer's."),
    ("eks-endpoint-not-public", "gpu",
     "The API endpoint is public and publicAccessCidrs is unset (AWS opens it to 0.0.0.0/0)."),
    ("iam-no-wildcard-actions", "admin", "The policy allows ['*']."),
    ("iam-no-wildcard-resource-writes", "admin", "The policy allows ['*'] on every resource."),
    ("ecs-no-privileged-containers", "api", "Container 'api' is privileged."),
    ("k8s-no-privileged-containers", "worker", "Container 'worker' is privileged."),
    ("k8s-run-as-non-root", "worker", "Container 'worker' may run as root."),
    ("rds-storage-encrypted", "db", "storageEncrypted is not true."),
    ("s3-no-public-acl", "public", "acl='public-read' makes the bucket readable by anyone."),
    ("s3-public-access-block", "public",
     "Public access block leaves blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets off."),
    ("sqs-has-dead-letter-queue", "jobs", "jobs (aws:sqs/queue:Queue) has no dead-letter queue."),
]


def test_non_compliant_resources_are_caught_by_both_paths_with_the_same_message(served_pack):
    plan = run_under_mocks(_insecure_program, stack="prod", config={"aws:region": "us-east-1"})
    pack = served_pack("prod")
    configured(pack.analyzer, "prod")
    served = merged_report("prod", len(ALL_RULES),
                           [analyze(pack.analyzer, requests_for(plan, preview=preview)) for preview in PASSES])
    report = evaluate(plan, "prod", load_config("prod"))
    assert report.to_json() == served.to_json()
    remediation = {rule.name: rule.remediation for rule in ALL_RULES}
    found = {(v["policy"], v["urn"].rsplit("::", 1)[-1], v["message"]) for v in report.mandatory_violations}
    for policy, name, finding in CAUGHT:
        assert (policy, name, f"{finding} Fix: {remediation[policy]}") in found
