import json
import re

import pytest

from genai_platform.components.aws.eks.addons import (AUTOSCALER_WRITE_ACTIONS, ClusterAddons, ClusterAddonsArgs,
                                           NvidiaDevicePlugin, NvidiaDevicePluginArgs, is_read_action,
                                           narrow_write_resources, upstream_load_balancer_controller_policy)
from genai_platform.components.aws.eks.cluster import EksCluster, EksClusterArgs
from genai_platform.components.aws.capacity.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks

RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SYSTEM_NODES = {"genai-platform/pool": "system"}


def plan_addons(with_gpu: bool = False, **overrides):
    def program():
        cluster = EksCluster("core", EksClusterArgs(vpc_id="vpc-0123", private_subnet_ids=["subnet-0a", "subnet-0b"]))
        ClusterAddons("addons", ClusterAddonsArgs(cluster=cluster, **overrides))
        if with_gpu:
            GpuNodePool("gpu", GpuNodePoolArgs(cluster=cluster))
            NvidiaDevicePlugin("nvidia", NvidiaDevicePluginArgs(cluster=cluster))

    return run_under_mocks(program, config={"aws:region": "eu-west-1"})


@pytest.fixture(scope="module")
def plan():
    return plan_addons(with_gpu=True)


def releases(plan):
    return {r.inputs["name"]: r for r in plan.of_type(RELEASE)}


def policy_of(plan, name):
    return json.loads(plan.named(name, ROLE_POLICY).inputs["policy"])


def actions(statement):
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_children_exact_types_and_counts(plan):
    addons = plan.one("genai:aws:ClusterAddons")
    assert sorted(r.type for r in plan.children(addons.urn)) == sorted([ROLE, ROLE, ROLE_POLICY, ROLE_POLICY,
                                                                        RELEASE, RELEASE, RELEASE])
    device_plugin = plan.one("genai:aws:NvidiaDevicePlugin")
    assert [r.type for r in plan.children(device_plugin.urn)] == [RELEASE]


def test_helm_releases_pinned_from_their_upstream_repositories(plan):
    found = {name: (r.inputs["chart"], r.inputs["repositoryOpts"]["repo"], r.inputs["version"], r.inputs["namespace"])
             for name, r in releases(plan).items()}
    assert found == {
        "cluster-autoscaler": ("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.59.0", "kube-system"),
        "aws-load-balancer-controller": ("aws-load-balancer-controller", "https://aws.github.io/eks-charts", "3.5.0",
                                         "kube-system"),
        "nvidia-device-plugin": ("nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.20.0",
                                 "kube-system"),
        "metrics-server": ("metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "3.13.1",
                           "kube-system"),
    }


def test_metrics_server_runs_on_the_system_nodes(plan):
    assert releases(plan)["metrics-server"].inputs["values"] == {"nodeSelector": {"genai-platform/pool": "system"}}


def test_autoscaler_values_discover_this_cluster_with_its_irsa_role(plan):
    values = releases(plan)["cluster-autoscaler"].inputs["values"]
    role = plan.named("addons-cluster-autoscaler", ROLE)
    assert values["autoDiscovery"] == {"clusterName": "core"}
    assert values["awsRegion"] == "eu-west-1"
    assert values["cloudProvider"] == "aws"
    assert values["image"] == {"tag": "v1.36.0"}
    assert values["rbac"]["serviceAccount"] == {
        "create": True, "name": "cluster-autoscaler", "annotations": {"eks.amazonaws.com/role-arn": role.outputs["arn"]}}
    assert values["nodeSelector"] == SYSTEM_NODES


def test_load_balancer_controller_values_need_no_imds(plan):
    values = releases(plan)["aws-load-balancer-controller"].inputs["values"]
    role = plan.named("addons-load-balancer-controller", ROLE)
    assert (values["clusterName"], values["region"], values["vpcId"]) == ("core", "eu-west-1", "vpc-0123")
    assert values["serviceAccount"] == {"create": True, "name": "aws-load-balancer-controller",
                                        "annotations": {"eks.amazonaws.com/role-arn": role.outputs["arn"]}}
    assert values["nodeSelector"] == SYSTEM_NODES


@pytest.mark.parametrize("release, policy", [
    ("cluster-autoscaler", "addons-cluster-autoscaler"),
    ("aws-load-balancer-controller", "addons-load-balancer-controller"),
])
def test_controllers_are_installed_after_and_removed_before_their_permissions(plan, release, policy):
    # Only the recorded dependency tells the engine to attach the policy before the pods start and to
    # revoke it only after the controller is uninstalled.
    assert plan.named(policy, ROLE_POLICY).urn in releases(plan)[release].dependencies


@pytest.mark.parametrize("role, service_account", [
    ("addons-cluster-autoscaler", "cluster-autoscaler"),
    ("addons-load-balancer-controller", "aws-load-balancer-controller"),
])
def test_irsa_trust_is_pinned_to_one_service_account(plan, role, service_account):
    cluster = plan.one("eks:index:Cluster").outputs
    issuer = cluster["oidcIssuer"]
    (statement,) = json.loads(plan.named(role, ROLE).inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": cluster["oidcProviderArn"]}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {
        f"{issuer}:sub": f"system:serviceaccount:kube-system:{service_account}", f"{issuer}:aud": "sts.amazonaws.com"}}


def test_no_wildcard_actions_and_no_wildcard_resource_on_writes(plan):
    for name in ("addons-cluster-autoscaler", "addons-load-balancer-controller"):
        for statement in policy_of(plan, name)["Statement"]:
            assert statement["Effect"] == "Allow"
            assert not any("*" in action for action in actions(statement)), statement
            if not all(is_read_action(action) for action in actions(statement)):
                resources = statement["Resource"]
                assert "*" not in (resources if isinstance(resources, list) else [resources]), statement


def test_autoscaler_writes_only_to_this_clusters_owned_groups(plan):
    statements = policy_of(plan, "addons-cluster-autoscaler")["Statement"]
    (write,) = [s for s in statements if set(actions(s)) & set(AUTOSCALER_WRITE_ACTIONS)]
    assert write["Action"] == ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    assert write["Condition"] == {"StringEquals": {"autoscaling:ResourceTag/k8s.io/cluster-autoscaler/core": "owned"}}
    assert write["Resource"] == f"arn:aws:autoscaling:eu-west-1:{ACCOUNT_ID}:autoScalingGroup:*:autoScalingGroupName/*"
    (describe_node_group,) = [s for s in statements if actions(s) == ["eks:DescribeNodegroup"]]
    assert describe_node_group["Resource"] == f"arn:aws:eks:eu-west-1:{ACCOUNT_ID}:nodegroup/core/*/*"
    reads = [s for s in statements if s["Resource"] == "*"]
    assert all(is_read_action(a) for s in reads for a in actions(s))


def test_load_balancer_controller_policy_keeps_every_upstream_action_and_condition(plan):
    upstream = upstream_load_balancer_controller_policy()
    deployed = policy_of(plan, "addons-load-balancer-controller")
    assert sorted(a for s in deployed["Statement"] for a in actions(s)) == sorted(
        a for s in upstream["Statement"] for a in actions(s))
    assert ({json.dumps(s.get("Condition"), sort_keys=True) for s in deployed["Statement"]}
            == {json.dumps(s.get("Condition"), sort_keys=True) for s in upstream["Statement"]})


def test_load_balancer_controller_writes_are_fenced_to_account_region_and_vpc(plan):
    statements = policy_of(plan, "addons-load-balancer-controller")["Statement"]
    (create_sg,) = [s for s in statements if actions(s) == ["ec2:CreateSecurityGroup"]]
    assert create_sg["Resource"] == [f"arn:aws:ec2:eu-west-1:{ACCOUNT_ID}:security-group/*",
                                     f"arn:aws:ec2:eu-west-1:{ACCOUNT_ID}:vpc/vpc-0123"]
    (listeners,) = [s for s in statements if "elasticloadbalancing:CreateListener" in actions(s)]
    assert listeners["Resource"] == [f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT_ID}:*"]
    (shield,) = [s for s in statements if "shield:CreateProtection" in actions(s)]
    assert shield["Resource"] == [f"arn:aws:shield::{ACCOUNT_ID}:protection/*"]
    (tagged_delete,) = [s for s in statements if "ec2:DeleteSecurityGroup" in actions(s)]
    assert tagged_delete["Condition"] == {"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}


def test_upstream_policy_is_shipped_as_package_data():
    policy = upstream_load_balancer_controller_policy()
    assert policy["Version"] == "2012-10-17"
    assert len(policy["Statement"]) == 16
    assert "elasticloadbalancing:SetRulePriorities" in {a for s in policy["Statement"] for a in actions(s)}


def test_narrowing_refuses_a_service_it_has_no_arns_for():
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}]}
    with pytest.raises(ValueError, match=re.escape(
            "the policy writes to service 's3' on '*' and no ARNs are known for it: add them to resources_by_service.")):
        narrow_write_resources(document, {})


def test_device_plugin_tolerates_the_gpu_taint_and_runs_only_on_gpu_nodes(plan):
    values = releases(plan)["nvidia-device-plugin"].inputs["values"]
    (taint,) = plan.named("gpu-nodes", "aws:eks/nodeGroup:NodeGroup").inputs["taints"]
    effect = {"NO_SCHEDULE": "NoSchedule"}[taint["effect"]]
    assert any(t["key"] == taint["key"] and t["effect"] == effect
               and (t["operator"] == "Exists" or t.get("value") == taint["value"]) for t in values["tolerations"])
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]}]}]
    gpu_labels = plan.named("gpu-nodes", "aws:eks/nodeGroup:NodeGroup").inputs["labels"]
    assert gpu_labels["nvidia.com/gpu.present"] == "true"


def test_addons_can_be_left_out():
    plan = plan_addons(cluster_autoscaler=False, load_balancer_controller=False, metrics_server=False)
    addons = plan.one("genai:aws:ClusterAddons")
    assert plan.children(addons.urn) == []


def test_autoscaler_image_follows_the_cluster_minor_unless_pinned():
    plan = plan_addons(load_balancer_controller=False, cluster_autoscaler_image_tag="v1.36.1")
    assert releases(plan)["cluster-autoscaler"].inputs["values"]["image"] == {"tag": "v1.36.1"}


def test_autoscaler_image_of_another_minor_is_refused():
    with pytest.raises(ValueError, match="^" + re.escape(
            "cluster_autoscaler_image_tag='v1.35.2' does not match the cluster's Kubernetes 1.36: use a v1.36.x tag "
            "(the autoscaler supports only its own minor).") + "$"):
        plan_addons(cluster_autoscaler_image_tag="v1.35.2")
