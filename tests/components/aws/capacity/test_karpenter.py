"""Karpenter: controller identity and least-privilege policy as upstream documents it for 1.14.1, the node role and
its EC2_LINUX access entry, the encrypted TLS-only interruption queue fed by EventBridge, the discovery tags and a
Helm release pinned on the system node group."""

import hashlib
import json
import re
from importlib import resources

import pytest

from genai_platform.components.aws.eks.addons import is_read_action
from genai_platform.components.aws.eks.cluster import EksCluster, EksClusterArgs
from genai_platform.components.aws.capacity.karpenter import (INTERRUPTION_EVENTS, KARPENTER_CHART, KARPENTER_VERSION, Karpenter,
                                      KarpenterArgs, upstream_controller_policies)
from genai_platform.components.aws.capacity.karpenter_crds import CRDS
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
RELEASE = "kubernetes:helm.sh/v3:Release"
REGION = "eu-west-1"


def plan_karpenter(**overrides):
    def program():
        cluster = EksCluster("core", EksClusterArgs(vpc_id="vpc-0123", private_subnet_ids=["subnet-0a", "subnet-0b"]))
        Karpenter("karpenter", KarpenterArgs(cluster=cluster, tags={"Environment": "prod"}, **overrides))

    return run_under_mocks(program, config={"aws:region": REGION})


@pytest.fixture(scope="module")
def plan():
    return plan_karpenter()


def policy(plan, suffix):
    return json.loads(plan.named(f"karpenter-{suffix}", ROLE_POLICY).inputs["policy"])


def test_children_exact_types_and_counts(plan):
    component = plan.one("genai:aws:Karpenter")
    types = sorted(r.type for r in plan.children(component.urn))
    assert types == sorted(
        ["aws:iam/role:Role"] * 2 + ["aws:iam/rolePolicyAttachment:RolePolicyAttachment"] * 2
        + ["aws:eks/accessEntry:AccessEntry", "aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy"]
        + [QUEUE] * 2 + [QUEUE_POLICY] * 2
        + ["aws:sqs/redrivePolicy:RedrivePolicy", "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"]
        + [RULE] * 5 + [TARGET] * 5 + [ROLE_POLICY] * 6 + ["aws:ec2/tag:Tag"] * 3 + [RELEASE])


def test_vendored_files_are_upstream_unmodified():
    for file_name, digest in CRDS.sha256.items():
        assert hashlib.sha256(CRDS.text(file_name).encode()).hexdigest() == digest
    assert set(CRDS.files.values()) == set(CRDS.sha256)
    assert CRDS.version == KARPENTER_VERSION == "1.14.1"
    template = resources.files("genai_platform.components.aws.iam_policies").joinpath("karpenter_cloudformation.yaml").read_text()
    assert 'Description: Resources used by https://github.com/aws/karpenter' in template
    assert set(upstream_controller_policies()) == {"NodeLifecyclePolicy", "IAMIntegrationPolicy", "EKSIntegrationPolicy",
                                                    "InterruptionPolicy", "ZonalShiftPolicy", "ResourceDiscoveryPolicy"}


def test_node_role_joins_through_an_ec2_linux_access_entry(plan):
    entry = plan.one("aws:eks/accessEntry:AccessEntry").inputs
    node_role = plan.named("karpenter-node", "aws:iam/role:Role")
    assert entry["type"] == "EC2_LINUX" and entry["principalArn"] == node_role.outputs["arn"]
    assert entry["clusterName"] == "core"
    assert json.loads(node_role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = {a.inputs["policyArn"].rsplit("/", 1)[-1] for a in plan.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.name.startswith("karpenter-node")}
    # No AmazonEKS_CNI_Policy (the VPC CNI has its own IRSA role) and no SSM: less than upstream's node role.
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"}


def test_controller_role_trusts_only_the_karpenter_service_account(plan):
    trust = json.loads(plan.named("karpenter-controller", "aws:iam/role:Role").inputs["assumeRolePolicy"])
    (condition,) = [s["Condition"]["StringEquals"] for s in trust["Statement"]]
    assert sorted(condition.values()) == ["sts.amazonaws.com", "system:serviceaccount:kube-system:karpenter"]


def test_controller_policy_is_upstreams_with_this_account_cluster_and_queue(plan):
    statements = [s for suffix in ("node-lifecycle", "iam-integration", "eks-integration", "interruption",
                                   "zonal-shift", "resource-discovery") for s in policy(plan, suffix)["Statement"]]
    text = json.dumps(statements)
    assert "${" not in text and f":{REGION}:*:" not in text  # every parameter filled, every account narrowed
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(not a.endswith("*") for a in actions)
        if statement["Resource"] == "*":
            assert all(is_read_action(a) for a in actions), statement["Sid"]
    by_sid = {s["Sid"]: s for s in statements}
    # Writes are scoped by the cluster's own tags.
    assert by_sid["AllowScopedDeletion"]["Condition"]["StringEquals"] == {
        "aws:ResourceTag/kubernetes.io/cluster/core": "owned"}
    assert by_sid["AllowScopedInstanceProfileCreationActions"]["Resource"] == \
        f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/*"
    node_role_arn = plan.named("karpenter-node", "aws:iam/role:Role").outputs["arn"]
    assert by_sid["AllowPassingInstanceRole"]["Resource"] == node_role_arn
    assert by_sid["AllowAPIServerEndpointDiscovery"]["Resource"] == f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:cluster/core"
    queue = plan.named("karpenter-interruption", QUEUE).outputs["arn"]
    key = plan.named("karpenter-queue-key", "aws:kms/key:Key").outputs["arn"]
    assert by_sid["AllowInterruptionQueueActions"]["Resource"] == queue
    assert by_sid["AllowInterruptionQueueDecryption"] == {"Sid": "AllowInterruptionQueueDecryption", "Effect": "Allow",
                                                          "Resource": key, "Action": "kms:Decrypt"}
    # IAM allows 10,240 characters of inline policy per role.
    assert sum(len(p.inputs["policy"]) for p in plan.of_type(ROLE_POLICY)) < 10240


def test_interruption_queue_is_encrypted_tls_only_and_admits_only_its_rules(plan):
    queue = plan.named("karpenter-interruption", QUEUE)
    key = plan.named("karpenter-queue-key", "aws:kms/key:Key")
    assert queue.inputs["kmsMasterKeyId"] == key.outputs["arn"] and queue.inputs["messageRetentionSeconds"] == 300
    assert key.inputs["enableKeyRotation"] is True
    document = json.loads(plan.named("karpenter-interruption", QUEUE_POLICY).inputs["policy"])
    allow, deny = document["Statement"]
    rule_arns = sorted(r.outputs["arn"] for r in plan.of_type(RULE))
    assert all(arn.startswith(f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/karpenter-") for arn in rule_arns)
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert sorted(allow["Condition"]["ArnEquals"]["aws:SourceArn"]) == rule_arns
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert plan.one("aws:kms/keyPolicy:KeyPolicy").urn in queue.dependencies
    key_policy = json.loads(plan.one("aws:kms/keyPolicy:KeyPolicy").inputs["policy"])
    assert {"Service": "events.amazonaws.com"} in [s["Principal"] for s in key_policy["Statement"]]
    dlq = plan.named("karpenter-interruption-dlq", QUEUE)
    redrive = json.loads(plan.one("aws:sqs/redrivePolicy:RedrivePolicy").inputs["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": 5}


def test_eventbridge_rules_route_the_four_interruption_signals_to_the_queue(plan):
    patterns = {json.dumps(json.loads(r.inputs["eventPattern"]), sort_keys=True) for r in plan.of_type(RULE)}
    assert {json.loads(p)["detail-type"][0] for p in patterns} >= {
        "EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation",
        "EC2 Instance State-change Notification", "AWS Health Event"}
    assert len(patterns) == len(INTERRUPTION_EVENTS) == 5
    queue_arn = plan.named("karpenter-interruption", QUEUE).outputs["arn"]
    assert {t.inputs["arn"] for t in plan.of_type(TARGET)} == {queue_arn}


def test_subnets_and_node_security_group_carry_the_discovery_tag(plan):
    tags = {t.inputs["resourceId"]: (t.inputs["key"], t.inputs["value"]) for t in plan.of_type("aws:ec2/tag:Tag")}
    cluster_sg = plan.one("eks:index:Cluster").outputs["clusterSecurityGroupId"]
    assert tags == {resource: ("karpenter.sh/discovery", "core") for resource in ("subnet-0a", "subnet-0b", cluster_sg)}


def test_subnets_tagged_elsewhere_are_left_alone():
    plan = plan_karpenter(subnet_ids=[])
    (tag,) = plan.of_type("aws:ec2/tag:Tag")
    assert tag.inputs["resourceId"] == plan.one("eks:index:Cluster").outputs["clusterSecurityGroupId"]


def test_helm_release_pinned_on_the_system_nodes_with_cluster_and_queue(plan):
    release = plan.one(RELEASE)
    inputs, values = release.inputs, release.inputs["values"]
    assert (inputs["chart"], inputs["version"], inputs["namespace"]) == (KARPENTER_CHART, "1.14.1", "kube-system")
    assert not inputs.get("skipCrds")  # the chart's crds/ install the NodePool and EC2NodeClass CRDs
    queue = plan.named("karpenter-interruption", QUEUE)
    endpoint = json.loads(plan.one("eks:index:Cluster").outputs["kubeconfigJson"])["clusters"][0]["cluster"]["server"]
    assert values["settings"] == {"clusterName": "core", "clusterEndpoint": endpoint,
                                  "interruptionQueue": queue.outputs["name"]}
    role_arn = plan.named("karpenter-controller", "aws:iam/role:Role").outputs["arn"]
    assert values["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": role_arn}
    assert values["nodeSelector"] == {"genai-platform/pool": "system"}
    (term,) = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"} in term["matchExpressions"]
    assert values["controller"]["env"] == [{"name": "AWS_REGION", "value": REGION}]
    # The release waits for its rights, the node access entry and the discovery tags.
    assert {d.rsplit("::", 1)[-1] for d in release.dependencies} >= {
        "karpenter-node-lifecycle", "karpenter-interruption", "karpenter-node", "karpenter-discovery-subnet-0"}


def test_protect_covers_the_queues_and_their_key():
    plan = plan_karpenter(protect=True)
    assert {r.protect for r in [*plan.of_type(QUEUE), plan.named("karpenter-queue-key", "aws:kms/key:Key")]} == {True}


def test_a_given_queue_key_is_used_and_none_created():
    key = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/0f6d3c5e-1111-2222-3333-444455556666"
    plan = plan_karpenter(queue_kms_key_arn=key)
    assert [k.name for k in plan.of_type("aws:kms/key:Key")] == ["core-secrets"]  # the cluster's own
    assert {q.inputs["kmsMasterKeyId"] for q in plan.of_type(QUEUE)} == {key}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"chart_version": "latest"}, "chart_version='latest' is not a Karpenter release: pin one such as '1.14.1' "
                                  "(the chart is published per release, never 'latest')."),
    ({"replicas": 0}, "replicas=0 is out of range: use 1 to 3."),
    ({"interruption_message_retention_seconds": 30},
     "interruption_message_retention_seconds=30 is out of range: use 60 to 1209600 seconds (SQS allows 60 s to 14 days)."),
    ({"queue_kms_key_arn": "alias/karpenter"},
     "queue_kms_key_arn='alias/karpenter' is not a KMS key ARN: pass arn:aws:kms:<region>:<account>:key/<key-id> "
     "(IAM policies cannot name a key by alias or bare id)."),
])
def test_bad_arguments_are_refused_before_anything_is_created(overrides, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        run_under_mocks(lambda: Karpenter("karpenter", KarpenterArgs(cluster=None, **overrides)))
