"""Karpenter NodePools in the cost model: the floor in the total, the ceiling beside it, both in the report and JSON."""

import json

import pytest

from genai_platform.components.aws.capacity.karpenter_node_pool import KarpenterNodePoolArgs, node_class_spec, node_pool_spec
from genai_platform.cost import estimate, format_text
from genai_platform.mockcloud import Plan, RecordedResource

STACK = "urn:pulumi:dev::genai-platform::pulumi:pulumi:Stack::genai-platform-dev"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}


def res(type_token: str, name: str, inputs: dict) -> RecordedResource:
    return RecordedResource(urn=f"urn:pulumi:dev::genai-platform::{type_token}::{name}", type=type_token, name=name,
                            parent=STACK, custom=True, protect=False, dependencies=[], inputs=inputs, outputs={})


def pool(name: str = "gpu", **overrides) -> list[RecordedResource]:
    """A NodePool and its EC2NodeClass exactly as KarpenterNodePool writes them."""
    args = KarpenterNodePoolArgs(karpenter=None, **overrides)  # type: ignore[arg-type]
    gpu = args.preset == "gpu-serving"
    spec = node_pool_spec(args, name, {"nvidia.com/gpu.present": "true"} if gpu else {}, [GPU_TAINT] if gpu else [])
    return [res(NODE_POOL, f"{name}-node-pool", {"metadata": {"name": name}, "spec": spec}),
            res(NODE_CLASS, f"{name}-node-class", {"metadata": {"name": name},
                                                   "spec": node_class_spec(args, "role", "core", None, {})})]


def model_server(replicas: int | None, hpa_minimum: int | None = None, pool_name: str = "gpu") -> list[RecordedResource]:
    container = {"name": "model", "image": "model:1", "resources": {
        "requests": {"cpu": "2000m", "memory": "8192Mi"}, "limits": {"memory": "12Gi", "nvidia.com/gpu": "1"}}}
    spec = {"template": {"spec": {"nodeSelector": {"karpenter.sh/nodepool": pool_name}, "containers": [container]}},
            **({"replicas": replicas} if replicas is not None else {})}
    found = [res("kubernetes:apps/v1:Deployment", "model-deployment", {"metadata": {"name": "model"}, "spec": spec})]
    if hpa_minimum is not None:
        found.append(res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "model-hpa", {"spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "model"},
            "minReplicas": hpa_minimum, "maxReplicas": 4}}))
    return found


def priced(*resources: RecordedResource, budget: float | None = None):
    root = RecordedResource(urn=STACK, type="pulumi:pulumi:Stack", name="genai-platform-dev", parent=None,
                            custom=False, protect=False, dependencies=[], inputs={})
    return estimate(Plan(project="genai-platform", stack="dev", resources=[root, *resources], outputs={}), budget)


DEV_POOL = {"instance_families": ["g6", "g5"], "capacity_types": ["spot"], "gpu_limit": 1, "cpu_limit": 8,
            "memory_limit_gib": 32}
PROD_POOL = {"capacity_types": ["on-demand"], "gpu_limit": 4, "cpu_limit": 32, "memory_limit_gib": 64}


def test_an_idle_gpu_pool_costs_nothing_and_its_ceiling_is_its_limits_filled():
    result = priced(*pool(**DEV_POOL), *model_server(replicas=0))
    (item,) = result.items
    assert item["monthly"] == 0.0 and item["basis"].startswith("floor: no node while idle")
    (entry,) = result.at_max_scale
    # 1 GPU, 8 vCPU, 32 GiB: the dearest fit is one g5.2xlarge (8 vCPU, 32 GiB) on Spot, with its 200 GiB volume.
    assert (entry["floor"], entry["ceiling"], entry["gpu"]) == (0.0, 325.67, True)  # 1.212 x 0.35 x 730 + 16
    assert "1 x g5.2xlarge Spot at $1.212/h less 65%" in entry["basis"]
    assert entry["basis"].startswith("limits cpu 8, memory GiB 32, nvidia.com/gpu 1; costliest fill of 8 allowed types")
    assert result.monthly == 0.0 and result.gpu_at_max_scale == 325.67 and result.monthly_at_max_scale == 325.67


def test_always_running_replicas_set_the_floor_at_the_cheapest_fitting_type():
    result = priced(*pool(**PROD_POOL), *model_server(replicas=None, hpa_minimum=1))
    (item,) = result.items
    assert item["monthly"] == 603.5  # 0.8048 x 730 + 200 GiB x $0.08
    assert item["basis"].startswith("1 x g6.xlarge on-demand at $0.8048/h (floor: one node per always-running "
                                    "replica of model-deployment)")
    (entry,) = result.at_max_scale
    assert entry["ceiling"] == 3001.52  # 4 x g5.xlarge x 1.006 x 730 + 4 x 16
    assert result.monthly_at_max_scale == 3001.52


def test_a_deployment_without_hpa_counts_its_replicas_and_other_pools_pods_do_not_count():
    assert priced(*pool(**PROD_POOL), *model_server(replicas=2)).items[0]["monthly"] == 1207.01
    assert priced(*pool(**PROD_POOL), *model_server(replicas=2, pool_name="other")).items[0]["monthly"] == 0.0


def test_a_pool_allowing_spot_and_on_demand_is_capped_at_on_demand():
    result = priced(*pool("burst", preset="general-burst", cpu_limit=32, memory_limit_gib=128))
    (entry,) = result.at_max_scale
    # 32 vCPU / 128 GiB: every m7i size fills them for $1,177.34 of instances; 16 x m7i.large also brings 16
    # 50 GiB volumes ($64), the dearest fill.
    assert entry["gpu"] is False and entry["ceiling"] == 1241.34
    assert "16 x m7i.large on-demand at $0.1008/h" in entry["basis"]
    assert result.gpu_at_max_scale == 0.0


@pytest.mark.parametrize(("change", "reason"), [
    ({"limits": {}}, "the pool sets no limits, so nothing caps how many nodes it launches"),
    ({"template": {"spec": {"requirements": []}}},
     "the pool has no 'karpenter.k8s.aws/instance-family In [...]' requirement, so any instance type may launch and "
     "its ceiling is unbounded: list the families and sizes it may use"),
])
def test_an_unbounded_pool_is_unpriced_not_free(change, reason):
    node_pool, node_class = pool(**DEV_POOL)
    node_pool.inputs["spec"] = {**node_pool.inputs["spec"], **change}
    result = priced(node_pool, node_class)
    assert result.items == [] and [u["reason"] for u in result.unpriced] == [reason]


def test_report_and_json_show_gpu_at_max_scale_and_hold_it_against_the_budget_as_advice():
    resources = (*pool(**DEV_POOL), *model_server(replicas=0))
    tight = priced(*resources, budget=300)
    text = format_text(tight)
    assert "GPU at max scale: $325.67/month (the GPU NodePools' limits filled)." in text
    assert ("ADVISORY: At max scale $325.67/month: the NodePool limits allow $25.67 over the $300.00 budget; lower "
            "the pools' limits to cap it.") in text
    assert not tight.over_budget  # advice only: the plan's verdict is the floor
    document = json.loads(json.dumps(tight.to_json()))["at_max_scale"]
    assert (document["monthly"], document["gpu_monthly"], document["over_budget"]) == (325.67, 325.67, True)
    assert document["pools"][0]["floor"] == 0.0 and document["pools"][0]["ceiling"] == 325.67
    roomy = format_text(priced(*resources, budget=500))
    assert "At max scale $325.67/month: within the $500.00 budget ($174.33 left)." in roomy
