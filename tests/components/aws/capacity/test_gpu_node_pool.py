import re

import pulumi
import pytest

from genai_platform.components.aws.eks.cluster import EksCluster, EksClusterArgs
from genai_platform.components.aws.capacity.gpu_node_pool import GPU_MODELS, GPUS_PER_INSTANCE, GpuNodePool, GpuNodePoolArgs
from genai_platform.mockcloud import run_under_mocks

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ASG_TAG = "aws:autoscaling/tag:Tag"
CA = "k8s.io/cluster-autoscaler"


def plan_pool(**overrides):
    def program():
        cluster = EksCluster("core", EksClusterArgs(vpc_id="vpc-0123", private_subnet_ids=["subnet-0a", "subnet-0b"]))
        pool = GpuNodePool("gpu", GpuNodePoolArgs(cluster=cluster, **overrides))
        for output in ("node_group_name", "autoscaling_group_name", "gpus_per_node", "needs_device_plugin", "labels"):
            pulumi.export(output, getattr(pool, output))

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


@pytest.fixture(scope="module")
def default_plan():
    return plan_pool()


def test_children_exact_types_and_counts(default_plan):
    pool = default_plan.one("genai:aws:GpuNodePool")
    types = [r.type for r in default_plan.children(pool.urn)]
    assert sorted(types) == sorted([LAUNCH_TEMPLATE, NODE_GROUP] + [ASG_TAG] * 6)


def test_node_group_defaults_scale_from_zero_on_demand_al2023(default_plan):
    group = default_plan.named("gpu-nodes", NODE_GROUP)
    inputs = group.inputs
    assert inputs["amiType"] == "AL2023_x86_64_NVIDIA"
    assert inputs["instanceTypes"] == ["g6.xlarge"]
    assert inputs["capacityType"] == "ON_DEMAND"
    assert inputs["scalingConfig"] == {"minSize": 0, "desiredSize": 0, "maxSize": 2}
    assert inputs["clusterName"] == "core"
    assert inputs["subnetIds"] == ["subnet-0a", "subnet-0b"]
    assert inputs["nodeRoleArn"] == default_plan.named("core-node", "aws:iam/role:Role").outputs["arn"]
    assert inputs["launchTemplate"]["version"] == "1"
    # Created after the whole cluster (its CNI add-on and system nodes included).
    waits_for = {default_plan.named("core-vpc-cni", "aws:eks/addon:Addon").urn,
                 default_plan.named("core-system", NODE_GROUP).urn}
    assert waits_for <= set(group.dependencies)


def test_gpu_nodes_wait_for_the_shared_node_role_policies(default_plan):
    node_policies = [r.urn for r in default_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                     if r.name.startswith("core-node-")]
    assert len(node_policies) == 2
    assert set(node_policies) <= set(default_plan.named("gpu-nodes", NODE_GROUP).dependencies)


def test_gpu_taint_and_labels(default_plan):
    inputs = default_plan.named("gpu-nodes", NODE_GROUP).inputs
    assert inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    labels = {"nvidia.com/gpu.present": "true", "k8s.amazonaws.com/accelerator": "nvidia-l4"}
    assert inputs["labels"] == labels
    assert default_plan.outputs["labels"] == labels


def test_nodes_require_imdsv2_and_keep_weights_on_encrypted_gp3(default_plan):
    template = default_plan.named("gpu-nodes", LAUNCH_TEMPLATE).inputs
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert template["blockDeviceMappings"] == [{"deviceName": "/dev/xvda", "ebs": {
        "volumeSize": 200, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}}]


EXPECTED_TEMPLATE_TAGS = {
    f"{CA}/enabled": "true",
    f"{CA}/core": "owned",
    f"{CA}/node-template/label/nvidia.com/gpu.present": "true",
    # The autoscaler's AWS GPU label: without it a fresh node whose device plugin is still starting looks
    # like a node the pending GPU pod does not fit on, and the autoscaler buys another GPU node.
    f"{CA}/node-template/label/k8s.amazonaws.com/accelerator": "nvidia-l4",
    f"{CA}/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
    f"{CA}/node-template/resources/nvidia.com/gpu": "1",
}


def test_autoscaler_node_template_tags_on_the_node_group(default_plan):
    tags = default_plan.named("gpu-nodes", NODE_GROUP).inputs["tags"]
    assert {k: v for k, v in tags.items() if k.startswith(CA)} == EXPECTED_TEMPLATE_TAGS


def test_autoscaler_tags_are_copied_to_the_asg_eks_created(default_plan):
    # Managed node group tags do not reach the ASG (terraform-aws-eks #2597): tag it directly.
    group = default_plan.named("gpu-nodes", NODE_GROUP)
    asg_name = group.outputs["resources"][0]["autoscalingGroups"][0]["name"]
    tags = default_plan.of_type(ASG_TAG)
    assert {t.inputs["autoscalingGroupName"] for t in tags} == {asg_name}
    assert {t.inputs["tag"]["key"]: t.inputs["tag"]["value"] for t in tags} == EXPECTED_TEMPLATE_TAGS
    assert all(t.inputs["tag"]["propagateAtLaunch"] is False for t in tags)
    assert default_plan.outputs["autoscaling_group_name"] == asg_name
    assert default_plan.outputs["node_group_name"] == group.outputs["nodeGroupName"]


def test_al2023_needs_the_device_plugin(default_plan):
    assert default_plan.outputs["needs_device_plugin"] is True
    assert default_plan.outputs["gpus_per_node"] == 1


def test_bottlerocket_puts_weights_on_the_data_volume_and_ships_the_plugin():
    plan = plan_pool(ami_type="BOTTLEROCKET_x86_64_NVIDIA", root_volume_gib=500)
    assert plan.named("gpu-nodes", NODE_GROUP).inputs["amiType"] == "BOTTLEROCKET_x86_64_NVIDIA"
    mapping = plan.named("gpu-nodes", LAUNCH_TEMPLATE).inputs["blockDeviceMappings"][0]
    assert (mapping["deviceName"], mapping["ebs"]["volumeSize"], mapping["ebs"]["encrypted"]) == ("/dev/xvdb", 500, "true")
    assert plan.outputs["needs_device_plugin"] is False


def test_spot_multi_gpu_pool_with_labels_and_bounds():
    plan = plan_pool(instance_types=["g6e.12xlarge", "g5.12xlarge"], capacity_type="SPOT", min_size=1,
                     desired_size=1, max_size=3, labels={"workload": "llm"}, subnet_ids=["subnet-0gpu"])
    inputs = plan.named("gpu-nodes", NODE_GROUP).inputs
    assert inputs["instanceTypes"] == ["g6e.12xlarge", "g5.12xlarge"]
    assert inputs["capacityType"] == "SPOT"
    assert inputs["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 3}
    assert inputs["subnetIds"] == ["subnet-0gpu"]
    assert inputs["labels"] == {"workload": "llm", "nvidia.com/gpu.present": "true",
                                "k8s.amazonaws.com/accelerator": "nvidia-mixed"}  # L40S and A10G
    asg = {t.inputs["tag"]["key"]: t.inputs["tag"]["value"] for t in plan.of_type(ASG_TAG)}
    assert asg[f"{CA}/node-template/resources/nvidia.com/gpu"] == "4"
    assert asg[f"{CA}/node-template/label/workload"] == "llm"


def test_accelerator_label_names_the_gpu_model_of_the_pool():
    plan = plan_pool(instance_types=["g5.xlarge", "g5.2xlarge"])
    assert plan.outputs["labels"]["k8s.amazonaws.com/accelerator"] == "nvidia-a10g"


def test_gpu_table_is_nvidia_x86_only():
    assert all(count in (1, 4, 8) for count in GPUS_PER_INSTANCE.values())
    assert {t.split(".")[0] for t in GPUS_PER_INSTANCE} == set(GPU_MODELS)  # every family has its model label
    assert not any(t.startswith(("g4ad.", "g5g.")) for t in GPUS_PER_INSTANCE)  # AMD / Graviton GPUs


@pytest.mark.parametrize("overrides, message", [
    ({"ami_type": "AL2023_x86_64_STANDARD"},
     "ami_type='AL2023_x86_64_STANDARD' is not an NVIDIA GPU AMI type: use 'AL2023_x86_64_NVIDIA' or "
     "'BOTTLEROCKET_x86_64_NVIDIA'."),
    ({"instance_types": []}, "instance_types=[] names no instance type: give at least one, e.g. ['g6.xlarge']."),
    ({"instance_types": ["g6.xlarge", "m6i.xlarge"]},
     "instance_types contains 'm6i.xlarge', which is not an NVIDIA GPU instance type: use a size of g4dn, g5, g6, "
     "g6e, gr6, p4d, p4de, p5, p5e, p5en, p6-b200 (e.g. 'g6.xlarge')."),
    ({"instance_types": ["g4ad.xlarge"]},
     "instance_types contains 'g4ad.xlarge', which is not an NVIDIA GPU instance type: use a size of g4dn, g5, g6, "
     "g6e, gr6, p4d, p4de, p5, p5e, p5en, p6-b200 (e.g. 'g6.xlarge')."),
    ({"instance_types": ["g5.xlarge", "g5.12xlarge"]},
     "instance_types=['g5.xlarge', 'g5.12xlarge'] mix GPU counts (g5.xlarge: 1, g5.12xlarge: 4): put types with "
     "the same GPU count in one pool, so the autoscaler's node template is right."),
    ({"capacity_type": "RESERVED"}, "capacity_type='RESERVED' is not a capacity type: use 'ON_DEMAND' or 'SPOT'."),
    ({"min_size": -1}, "min_size=-1 is negative: use 0 or more (0 lets the pool scale to zero)."),
    ({"max_size": 0}, "max_size=0 is below 1: a node group must have room for at least one node."),
    ({"min_size": 3, "desired_size": 3, "max_size": 2}, "min_size=3 is greater than max_size=2: make min_size <= max_size."),
    ({"desired_size": 3}, "desired_size=3 is outside [min_size=0, max_size=2]: pick a value in that range."),
    ({"root_volume_gib": 16385}, "root_volume_gib=16385 is out of range: use 20 to 16384 GiB (gp3)."),
    ({"labels": {"nvidia.com/gpu.present": "false"}},
     "labels sets 'nvidia.com/gpu.present', which the pool sets itself: drop it from labels."),
    ({"labels": {"k8s.amazonaws.com/accelerator": "nvidia-tesla-t4"}},
     "labels sets 'k8s.amazonaws.com/accelerator', which the pool sets itself: drop it from labels."),
])
def test_validation_messages(overrides, message):
    # Arguments are checked before anything is registered or the cluster is even looked at.
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        run_under_mocks(lambda: GpuNodePool("gpu", GpuNodePoolArgs(cluster=None, **overrides)))
