"""KarpenterNodePool: the gpu-serving and general-burst presets as NodePool + EC2NodeClass objects, valid against
the vendored Karpenter 1.14.1 CRD schemas, and bad input refused with the argument, the value and the fix."""

import re

import pulumi
import pytest

from genai_platform.components.aws.eks.cluster import EksCluster, EksClusterArgs
from genai_platform.components.aws.capacity.karpenter import Karpenter, KarpenterArgs
from genai_platform.components.aws.capacity.karpenter_node_pool import (DEFAULT_AMI_ALIAS, KarpenterNodePool, KarpenterNodePoolArgs,
                                                 instance_shape)
from genai_platform.crd_schema import validate_custom_resource
from genai_platform.k8s_schema import manifest_of
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/0f6d3c5e-1111-2222-3333-444455556666"


def plan_pool(**overrides):
    def program():
        cluster = EksCluster("core", EksClusterArgs(vpc_id="vpc-0123", private_subnet_ids=["subnet-0a", "subnet-0b"]))
        karpenter = Karpenter("karpenter", KarpenterArgs(cluster=cluster))
        pool = KarpenterNodePool(overrides.pop("name", "gpu"), KarpenterNodePoolArgs(karpenter=karpenter, **overrides))
        for output in ("node_pool_name", "node_selector", "labels", "taints", "needs_device_plugin", "gpu_limit"):
            pulumi.export(output, getattr(pool, output))

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


@pytest.fixture(scope="module")
def gpu_plan():
    return plan_pool()


def spec(plan, type_token):
    return plan.one(type_token).inputs["spec"]


def requirements(pool_spec):
    return {r["key"]: r["values"] for r in pool_spec["template"]["spec"]["requirements"]}


def test_children_are_one_node_class_and_one_node_pool_after_the_release(gpu_plan):
    component = gpu_plan.one("genai:aws:KarpenterNodePool")
    assert sorted(r.type for r in gpu_plan.children(component.urn)) == [NODE_CLASS, NODE_POOL]
    release = gpu_plan.one("kubernetes:helm.sh/v3:Release").urn
    assert release in gpu_plan.one(NODE_CLASS).dependencies and release in gpu_plan.one(NODE_POOL).dependencies


def test_gpu_serving_preset(gpu_plan):
    pool = spec(gpu_plan, NODE_POOL)
    assert requirements(pool) == {
        "karpenter.k8s.aws/instance-family": ["g6", "g6e", "g5"],
        "karpenter.k8s.aws/instance-size": ["xlarge", "2xlarge", "4xlarge", "8xlarge"],
        "karpenter.sh/capacity-type": ["on-demand"],
        "kubernetes.io/arch": ["amd64"], "kubernetes.io/os": ["linux"]}
    assert pool["template"]["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    assert pool["template"]["metadata"]["labels"] == {"nvidia.com/gpu.present": "true"}
    assert pool["limits"] == {"cpu": "16", "memory": "64Gi", "nvidia.com/gpu": "1"}
    assert pool["disruption"] == {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m",
                                  "budgets": [{"nodes": "1"}]}
    assert pool["template"]["spec"]["expireAfter"] == "720h"
    assert pool["template"]["spec"]["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                                                        "name": "gpu"}
    assert gpu_plan.outputs["node_selector"] == {"karpenter.sh/nodepool": "gpu"}
    assert gpu_plan.outputs["needs_device_plugin"] is True and gpu_plan.outputs["gpu_limit"] == 1


def test_node_class_imdsv2_hop_one_encrypted_gp3_and_discovery(gpu_plan):
    node_class = spec(gpu_plan, NODE_CLASS)
    assert node_class["amiSelectorTerms"] == [{"alias": DEFAULT_AMI_ALIAS}]
    assert node_class["metadataOptions"] == {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled",
                                             "httpPutResponseHopLimit": 1, "httpTokens": "required"}
    assert node_class["blockDeviceMappings"] == [{"deviceName": "/dev/xvda", "ebs": {
        "volumeSize": "200Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}}]
    assert node_class["subnetSelectorTerms"] == node_class["securityGroupSelectorTerms"] == [
        {"tags": {"karpenter.sh/discovery": "core"}}]
    assert node_class["role"] == gpu_plan.named("karpenter-node", "aws:iam/role:Role").outputs["name"]
    assert node_class["tags"] == {"Name": "gpu", "ManagedBy": "pulumi", "Platform": "genai-platform"}


def test_general_burst_preset_is_spot_first_untainted():
    plan = plan_pool(name="burst", preset="general-burst", cpu_limit=32, memory_limit_gib=128)
    pool = spec(plan, NODE_POOL)
    assert requirements(pool)["karpenter.sh/capacity-type"] == ["spot", "on-demand"]
    assert requirements(pool)["karpenter.k8s.aws/instance-family"] == ["m7i", "c7i", "m6i", "c6i"]
    assert "taints" not in pool["template"]["spec"] and "metadata" not in pool["template"]
    assert pool["limits"] == {"cpu": "32", "memory": "128Gi"}
    assert pool["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert spec(plan, NODE_CLASS)["blockDeviceMappings"][0]["ebs"]["volumeSize"] == "50Gi"
    assert plan.outputs["needs_device_plugin"] is False and plan.outputs["taints"] == []


def test_bottlerocket_keeps_images_on_its_data_volume_and_ships_the_device_plugin():
    plan = plan_pool(ami_alias="bottlerocket@v1.46.0", volume_kms_key_arn=KEY, weight=10)
    devices = spec(plan, NODE_CLASS)["blockDeviceMappings"]
    assert [(d["deviceName"], d["ebs"]["volumeSize"], d["ebs"]["kmsKeyID"]) for d in devices] == [
        ("/dev/xvda", "4Gi", KEY), ("/dev/xvdb", "200Gi", KEY)]
    assert plan.outputs["needs_device_plugin"] is False
    assert spec(plan, NODE_POOL)["weight"] == 10


@pytest.mark.parametrize("overrides", [
    {}, {"preset": "general-burst", "name": "burst"}, {"ami_alias": "bottlerocket@v1.46.0", "volume_kms_key_arn": KEY},
    {"capacity_types": ["spot"], "gpu_limit": 8, "cpu_limit": 256, "memory_limit_gib": 1024, "weight": 50,
     "expire_after": "Never", "labels": {"team": "ml"}, "instance_sizes": ["12xlarge"]},
])
def test_objects_are_valid_against_the_vendored_crd_schemas(overrides):
    plan = plan_pool(**overrides)
    for type_token in (NODE_POOL, NODE_CLASS):
        assert validate_custom_resource(manifest_of(plan.one(type_token))) is None


def test_the_schema_check_catches_what_karpenter_would_refuse(gpu_plan):
    manifest = manifest_of(gpu_plan.one(NODE_POOL))
    manifest["spec"]["disruption"]["consolidateAfter"] = "ten minutes"
    assert validate_custom_resource(manifest).startswith("spec.disruption.consolidateAfter: 'ten minutes' does not match")
    manifest = manifest_of(gpu_plan.one(NODE_CLASS))
    manifest["spec"]["metadataOptions"]["httpTokens"] = "sometimes"
    assert validate_custom_resource(manifest).startswith("spec.metadataOptions.httpTokens: 'sometimes' is not one of")
    manifest["spec"]["metadataOptions"]["httpTokens"] = "required"
    manifest["spec"]["imds"] = True
    assert validate_custom_resource(manifest) == "spec: Additional properties are not allowed ('imds' was unexpected)"


@pytest.mark.parametrize(("instance_type", "shape"), [
    ("g6.xlarge", (4, 16, 1)), ("g6e.2xlarge", (8, 64, 1)), ("g5.12xlarge", (48, 192, 4)), ("g6.48xlarge", (192, 768, 8)),
    ("m7i.large", (2, 8, 0)), ("c7i.4xlarge", (16, 32, 0)),
])
def test_instance_shapes(instance_type, shape):
    found = instance_shape(*instance_type.split("."))
    assert (found.vcpus, found.memory_gib, found.gpus) == shape


@pytest.mark.parametrize(("overrides", "message"), [
    ({"instance_families": ["g6", "m7i"]},
     "instance_families contains 'm7i', which is not an NVIDIA GPU family: a gpu-serving pool takes only g4dn, g5, "
     "g6, g6e, gr6 (e.g. ['g6', 'g6e', 'g5'])."),
    ({"preset": "general-burst", "instance_families": ["g6"]},
     "instance_families contains 'g6', a GPU family, in a general-burst pool: its nodes would be untainted GPUs any "
     "pod can fill; use the gpu-serving preset for GPUs."),
    ({"gpu_limit": 0}, "gpu_limit=0 is below one node (g6.xlarge has 1 GPU): raise gpu_limit to at least 1."),
    ({"cpu_limit": 2}, "cpu_limit=2 is below one node (the smallest allowed instance, g6.xlarge, has 4 vCPUs): raise "
                       "cpu_limit to at least 4."),
    ({"memory_limit_gib": 8}, "memory_limit_gib=8 is below one node (the smallest allowed instance, g6.xlarge, has 16 "
                              "GiB): raise memory_limit_gib to at least 16."),
    ({"ami_alias": "al2@latest"}, "ami_alias='al2@latest' is not a supported AMI alias: use 'al2023@v<YYYYMMDD>' "
                                  "(e.g. 'al2023@v20260714') or 'bottlerocket@v<x.y.z>'; both have NVIDIA variants."),
    ({"consolidation_policy": "WhenUnderutilized"},
     "consolidation_policy='WhenUnderutilized' is not one Karpenter knows: use 'WhenEmpty' (serving pools) or "
     "'WhenEmptyOrUnderutilized'."),
    ({"preset": "gpu"}, "preset='gpu' is not a preset: use 'gpu-serving' or 'general-burst'."),
    ({"capacity_types": ["SPOT"]}, "capacity_types=['SPOT'] is invalid: use 'spot' and/or 'on-demand' (Karpenter's "
                                   "names, lower case)."),
    ({"consolidate_after": "10 minutes"},
     "consolidate_after='10 minutes' is not a Karpenter duration: use e.g. '10m', '720h' or 'Never'."),
    ({"disruption_budget_nodes": "half"},
     "disruption_budget_nodes='half' is invalid: use a node count such as '1' or a percentage such as '10%'."),
    ({"instance_sizes": ["metal"]}, "instance_sizes contains 'metal': use sizes such as 'large', 'xlarge' or '4xlarge' "
                                    "(metal and the burstable t sizes are not sized here)."),
    ({"instance_sizes": ["large", "xlarge"]},
     "instance_sizes contains 'large', which no NVIDIA GPU family has: start at 'xlarge'."),
    ({"name": "GPU_pool"}, "name='GPU_pool' cannot name a NodePool: use lower-case letters, digits and '-' (a DNS "
                           "label of at most 63 characters)."),
])
def test_bad_arguments_are_refused_before_anything_is_created(overrides, message):
    name = overrides.pop("name", "gpu")
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        run_under_mocks(lambda: KarpenterNodePool(name, KarpenterNodePoolArgs(karpenter=None, **overrides)))
