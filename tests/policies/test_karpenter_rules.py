"""The Karpenter rules, each against compliant and violating NodePools / EC2NodeClasses, through the pack's own
policy objects; and the stacks' own Karpenter objects pass them."""

import copy

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs

from genai_platform.components.aws.capacity.karpenter_node_pool import KarpenterNodePoolArgs, node_class_spec, node_pool_spec
from genai_platform.policies import ALL_RULES
from genai_platform.policies.registry import build_policy

RULES = {rule.name: rule for rule in ALL_RULES}
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}


def check(rule: str, type_token: str, props: dict, environment: str = "prod") -> tuple[str, list[str]]:
    """(enforcement level, messages) of one rule for one resource."""
    policy = build_policy(RULES[rule], environment)
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    args = ResourceValidationArgs(type_token, props, f"urn:pulumi:{environment}::p::{type_token}::x", "x", options,
                                  None, config={"environment": environment})
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message.split(" Fix:")[0].strip()))
    return RULES[rule].enforcement_for(environment), found


def component_pool(preset: str = "gpu-serving") -> dict:
    """A NodePool exactly as KarpenterNodePool declares it (karpenter is only read when resources are made)."""
    args = KarpenterNodePoolArgs(karpenter=None, preset=preset)  # type: ignore[arg-type]
    labels = {"nvidia.com/gpu.present": "true"} if preset == "gpu-serving" else {}
    return {"metadata": {"name": "pool"}, "spec": node_pool_spec(args, "pool", labels,
                                                                   [GPU_TAINT] if preset == "gpu-serving" else [])}


def component_class() -> dict:
    args = KarpenterNodePoolArgs(karpenter=None)  # type: ignore[arg-type]
    return {"metadata": {"name": "pool"}, "spec": node_class_spec(args, "node-role", "core", None, {"Name": "pool"})}


def changed(document: dict, path: str, value) -> dict:
    """A copy of ``document`` with ``path`` (dots) set to ``value``, or removed for ``None``."""
    result = copy.deepcopy(document)
    *parents, last = path.split(".")
    target = result
    for key in parents:
        target = target[key]
    if value is None:
        target.pop(last, None)
    else:
        target[last] = value
    return result


@pytest.mark.parametrize("preset", ["gpu-serving", "general-burst"])
def test_component_objects_pass_every_karpenter_rule(preset):
    for rule in (r for r in RULES if r.startswith("karpenter-nodepool") or r.startswith("karpenter-gpu")
                 or r == "karpenter-serving-pool-consolidation"):
        assert check(rule, NODE_POOL, component_pool(preset))[1] == []
    for rule in ("karpenter-nodeclass-imdsv2", "karpenter-nodeclass-encrypted-volumes"):
        assert check(rule, NODE_CLASS, component_class())[1] == []


@pytest.mark.parametrize(("change", "message"), [
    (("spec.limits", None), "spec.limits sets no cpu, memory, nvidia.com/gpu."),
    (("spec.limits", {"cpu": "16", "memory": "64Gi"}), "spec.limits sets no nvidia.com/gpu."),
])
def test_every_node_pool_has_limits(change, message):
    assert check("karpenter-nodepool-limits", NODE_POOL, changed(component_pool(), *change)) == ("mandatory", [message])


def test_a_burst_pool_needs_cpu_and_memory_limits_but_no_gpu_limit():
    burst = component_pool("general-burst")
    assert check("karpenter-nodepool-limits", NODE_POOL, burst)[1] == []
    assert check("karpenter-nodepool-limits", NODE_POOL, changed(burst, "spec.limits", {"cpu": "8"}))[1] == [
        "spec.limits sets no memory."]


@pytest.mark.parametrize("gpu_marker", [
    ("spec.template.spec.requirements", [{"key": "karpenter.k8s.aws/instance-family", "operator": "In",
                                          "values": ["m7i", "p5"]}]),
    ("spec.template.spec.requirements", [{"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt",
                                          "values": ["0"]}]),
])
def test_gpu_pools_are_tainted(gpu_marker):
    untainted = changed(changed(component_pool(), "spec.template.spec.taints", None), "spec.limits",
                        {"cpu": "8", "memory": "32Gi"})
    untainted = changed(changed(untainted, "spec.template.metadata", None), *gpu_marker)
    assert check("karpenter-gpu-nodepool-tainted", NODE_POOL, untainted) == (
        "mandatory", ["The pool launches GPU nodes without an nvidia.com/gpu NoSchedule taint."])
    # The same pool on CPU families only needs no taint.
    cpu_only = changed(untainted, "spec.template.spec.requirements",
                       [{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m7i"]}])
    assert check("karpenter-gpu-nodepool-tainted", NODE_POOL, cpu_only)[1] == []


@pytest.mark.parametrize(("policy", "expected"), [
    ("WhenEmptyOrUnderutilized", ["consolidationPolicy is WhenEmptyOrUnderutilized on a GPU pool."]),
    (None, ["consolidationPolicy is WhenEmptyOrUnderutilized on a GPU pool."]),  # Karpenter's default
    ("WhenEmpty", []),
])
def test_serving_pools_are_not_consolidated_by_utilisation_advisory(policy, expected):
    pool = changed(component_pool(), "spec.disruption.consolidationPolicy", policy)
    assert check("karpenter-serving-pool-consolidation", NODE_POOL, pool) == ("advisory", expected)
    burst = changed(component_pool("general-burst"), "spec.disruption.consolidationPolicy", policy)
    assert check("karpenter-serving-pool-consolidation", NODE_POOL, burst)[1] == []


@pytest.mark.parametrize(("options", "expected"), [
    ({"httpTokens": "optional", "httpPutResponseHopLimit": 1},
     ["metadataOptions.httpTokens is 'optional', so IMDSv1 answers without a token."]),
    ({"httpTokens": "required", "httpPutResponseHopLimit": 2},
     ["metadataOptions.httpPutResponseHopLimit is 2, not 1."]),
    ({"httpTokens": "required", "httpPutResponseHopLimit": 1.0}, []),  # numbers arrive as floats from the engine
    (None, []),  # Karpenter's defaults: required, hop limit 1
])
def test_node_classes_require_imdsv2_with_hop_limit_one(options, expected):
    node_class = changed(component_class(), "spec.metadataOptions", options)
    assert check("karpenter-nodeclass-imdsv2", NODE_CLASS, node_class) == ("mandatory", expected)


def test_node_class_volumes_are_encrypted():
    plain = changed(component_class(), "spec.blockDeviceMappings",
                    [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "100Gi", "volumeType": "gp3"}}])
    assert check("karpenter-nodeclass-encrypted-volumes", NODE_CLASS, plain) == (
        "mandatory", ["The volume on /dev/xvda is not encrypted."])
    assert check("karpenter-nodeclass-encrypted-volumes", NODE_CLASS,
                 changed(component_class(), "spec.blockDeviceMappings", None))[1] == []
