"""KarpenterNodePool: a Karpenter NodePool and its EC2NodeClass, from a GPU-serving or a general-burst preset.

The pool's ``limits`` are its cost ceiling: Karpenter launches no node once the pool's nodes add up to them,
so ``genai-infra plan`` prices every pool at its floor (no node while idle) and at its ceiling.
"""

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource

from genai_platform.components.aws.data_helpers import check_kms_key_arn
from genai_platform.components.aws.eks.nodes import IMDS_HOP_LIMIT, check_root_volume
from genai_platform.components.aws.capacity.gpu_node_pool import GPU_MODELS
from genai_platform.components.aws.eks.nodes import GPU_PRESENT_LABEL, GPU_TAINT_KEY, GPU_TAINT_VALUE
from genai_platform.components.aws.capacity.karpenter import DISCOVERY_TAG, NODEPOOL_LABEL, Karpenter
from genai_platform.components.tagging import child_tags

GPU_SERVING = "gpu-serving"
GENERAL_BURST = "general-burst"
Preset = Literal["gpu-serving", "general-burst"]

DEFAULT_AMI_ALIAS = "al2023@v20260714"
"""EKS-optimized AL2023 release v20260714 (awslabs/amazon-eks-ami CHANGELOG: Kubernetes 1.30 to 1.36). Karpenter
picks its NVIDIA variant (driver and container toolkit, no device plugin) for GPU instances, the standard one
otherwise. Pinned: ``@latest`` replaces every node whenever AWS publishes an AMI."""

CONSOLIDATION_POLICIES = ("WhenEmpty", "WhenEmptyOrUnderutilized")
"""The values Karpenter v1 accepts for ``spec.disruption.consolidationPolicy``."""
CAPACITY_TYPES = ("spot", "on-demand")

GIB_PER_VCPU: dict[str, int] = {
    "g4dn": 4, "g5": 4, "g6": 4, "g6e": 8, "gr6": 8,
    "m6i": 4, "m7i": 4, "c6i": 2, "c7i": 2, "r6i": 8, "r7i": 8,
}
"""Memory per vCPU of the x86 families this component sizes (every size of a family has the same ratio)."""
GPU_FAMILIES = tuple(family for family in GIB_PER_VCPU if family in GPU_MODELS)
"""NVIDIA GPU families a GPU pool may use."""
_SIZE = re.compile(r"^(large|xlarge|(\d+)xlarge)$")
_GPUS_BY_SIZE = {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}
"""GPUs of the multi-GPU sizes of g5/g6/g6e/g4dn (every other size has one); see ``GPUS_PER_INSTANCE``."""

_ALIAS = re.compile(r"^(al2023@(latest|v\d{8})|bottlerocket@(latest|v\d+\.\d+\.\d+))$")
_DURATION = re.compile(r"^(([0-9]+(s|m|h))+|Never)$")
_BUDGET = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")

_PRESETS: dict[str, dict[str, Any]] = {
    GPU_SERVING: {
        "instance_families": ["g6", "g6e", "g5"],
        "instance_sizes": ["xlarge", "2xlarge", "4xlarge", "8xlarge"],
        "capacity_types": ["on-demand"],
        # Utilisation-based consolidation ignores GPU use and evicts model servers mid-load
        # (kubernetes-sigs/karpenter#2756): a GPU node goes only once no model server runs on it.
        "consolidation_policy": "WhenEmpty",
        "consolidate_after": "10m",
        "disruption_budget_nodes": "1",
        "root_volume_gib": 200,
    },
    GENERAL_BURST: {
        "instance_families": ["m7i", "c7i", "m6i", "c6i"],
        "instance_sizes": ["large", "xlarge", "2xlarge", "4xlarge"],
        "capacity_types": ["spot", "on-demand"],
        "consolidation_policy": "WhenEmptyOrUnderutilized",
        "consolidate_after": "1m",
        "disruption_budget_nodes": "10%",
        "root_volume_gib": 50,
    },
}


@dataclass(frozen=True)
class InstanceShape:
    """What one instance type brings to a pool's limits."""

    instance_type: str
    vcpus: int
    memory_gib: int
    gpus: int


def instance_shape(family: str, size: str) -> InstanceShape:
    """vCPUs, memory and GPUs of ``<family>.<size>`` for the families in :data:`GIB_PER_VCPU`."""
    match = _SIZE.match(size)
    if family not in GIB_PER_VCPU or not match:
        raise ValueError(f"{family}.{size} is not an instance type this component can size: use a family of "
                         f"{', '.join(GIB_PER_VCPU)} and a size such as 'xlarge' or '4xlarge'.")
    vcpus = 2 if size == "large" else 4 * int(match.group(2) or 1)
    gpus = (_GPUS_BY_SIZE.get(size, 1)) if family in GPU_FAMILIES else 0
    return InstanceShape(f"{family}.{size}", vcpus, vcpus * GIB_PER_VCPU[family], gpus)


@dataclass
class KarpenterNodePoolArgs:
    """Arguments of :class:`KarpenterNodePool`. ``None`` means the preset's value, given below per preset."""

    karpenter: Karpenter
    """The Karpenter installation: the pool uses its cluster's discovery tag and node role, and is created after
    its Helm release (which installs the CRDs)."""

    preset: Preset = GPU_SERVING
    """``gpu-serving``: model servers on NVIDIA nodes, tainted ``nvidia.com/gpu=true:NoSchedule`` so only pods that
    tolerate it land there, on-demand, consolidated only when empty. ``general-burst``: batch scoring and
    ingestion bursts on general-purpose nodes, Spot first (on-demand when Spot is short), consolidated when
    under-utilised too."""

    gpu_limit: int = 1
    """GPU ceiling of the pool (``limits["nvidia.com/gpu"]``, gpu-serving only): the number that caps the GPU bill."""

    cpu_limit: int = 16
    """vCPU ceiling over all the pool's nodes (``limits.cpu``)."""

    memory_limit_gib: int = 64
    """Memory ceiling over all the pool's nodes in GiB (``limits.memory``)."""

    instance_families: list[str] | None = None
    """EC2 families (``karpenter.k8s.aws/instance-family``). gpu-serving: g6 (L4), g6e (L40S), g5 (A10G);
    general-burst: m7i, c7i, m6i, c6i. A GPU pool takes only GPU families, a burst pool none."""

    instance_sizes: list[str] | None = None
    """Sizes (``karpenter.k8s.aws/instance-size``). gpu-serving: xlarge to 8xlarge (one GPU each);
    general-burst: large to 4xlarge. Bounding them keeps one pod from pulling in a 48xlarge."""

    capacity_types: list[str] | None = None
    """``spot`` and/or ``on-demand`` (Karpenter prefers Spot when both are allowed). gpu-serving: on-demand
    (a Spot reclaim drops every request in flight); general-burst: spot then on-demand."""

    consolidation_policy: str | None = None
    """``WhenEmpty`` or ``WhenEmptyOrUnderutilized``. gpu-serving: WhenEmpty (see kubernetes-sigs/karpenter#2756);
    general-burst: WhenEmptyOrUnderutilized."""

    consolidate_after: str | None = None
    """How long a node stays empty (or under-used) before it goes, e.g. ``10m``. gpu-serving: 10m, so a
    model server that restarts finds its node still there; general-burst: 1m."""

    disruption_budget_nodes: str | None = None
    """Nodes (count or percentage) voluntarily disrupted at once. gpu-serving: 1; general-burst: 10%."""

    expire_after: str = "720h"
    """Node lifetime before replacement (30 days), so nodes pick up new AMIs and never run for months; ``Never`` off."""

    ami_alias: str = DEFAULT_AMI_ALIAS
    """EC2NodeClass AMI alias: ``al2023@v<YYYYMMDD>`` (needs :class:`NvidiaDevicePlugin` on GPU nodes) or
    ``bottlerocket@v<x.y.z>`` (ships the device plugin). ``@latest`` is accepted but drifts every node."""

    root_volume_gib: int | None = None
    """Encrypted gp3 volume for images and model weights. gpu-serving: 200 GiB (CUDA images are 5-10 GiB);
    general-burst: 50 GiB. On Bottlerocket it is the data volume; the OS volume stays 4 GiB."""

    volume_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key for node volumes; default the cluster's ``node_volume_kms_key_arn`` (else aws/ebs)."""

    labels: dict[str, str] = field(default_factory=dict)
    """Extra node labels (``nvidia.com/gpu.present=true`` is set on GPU pools for the device plugin)."""

    weight: int | None = None
    """Priority among NodePools that fit a pod (higher first); default none."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on the EC2 instances, volumes and launch templates Karpenter creates."""

    def resolved(self, name: str) -> Any:
        """The value of ``name`` with the preset's default filled in."""
        value = getattr(self, name)
        return _PRESETS[self.preset][name] if value is None else value


class KarpenterNodePool(pulumi.ComponentResource):
    """A Karpenter ``NodePool`` (what to launch, its limits and disruption rules) and its ``EC2NodeClass``
    (AMI by alias, IMDSv2 with hop limit 1, encrypted gp3, subnets and security group by discovery tag)."""

    node_pool_name: str
    """Name of the NodePool (cluster-scoped; nodes carry ``karpenter.sh/nodepool=<name>``)."""
    node_selector: dict[str, str]
    """Node selector that puts a pod on this pool's nodes only."""
    labels: dict[str, str]
    """Labels every node of the pool carries (besides Karpenter's own)."""
    taints: list[dict[str, str]]
    """Taints of the pool's nodes (Kubernetes form); pods must tolerate them."""
    is_gpu: bool
    """True for a gpu-serving pool."""
    gpu_limit: int
    """GPU ceiling (0 for a burst pool)."""
    needs_device_plugin: bool
    """True when the cluster needs :class:`NvidiaDevicePlugin` for these nodes (AL2023 GPU pools)."""

    def __init__(self, name: str, args: KarpenterNodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:aws:KarpenterNodePool", name, None, opts)
        karpenter, cluster = args.karpenter, args.karpenter.cluster
        self.is_gpu = args.preset == GPU_SERVING
        self.node_pool_name = name
        self.node_selector = {NODEPOOL_LABEL: name}
        self.labels = {**args.labels, **({GPU_PRESENT_LABEL: "true"} if self.is_gpu else {})}
        self.taints = [{"key": GPU_TAINT_KEY, "value": GPU_TAINT_VALUE, "effect": "NoSchedule"}] if self.is_gpu else []
        self.gpu_limit = args.gpu_limit if self.is_gpu else 0
        bottlerocket = args.ami_alias.startswith("bottlerocket@")
        self.needs_device_plugin = self.is_gpu and not bottlerocket
        # Karpenter's CRDs exist only once its chart is installed.
        after_release = pulumi.ResourceOptions(parent=self, provider=cluster.provider, depends_on=[karpenter.release])

        node_class = CustomResource(
            f"{name}-node-class",
            api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass",
            metadata={"name": name},
            spec=node_class_spec(args, karpenter.node_role_name, cluster.known_cluster_name,
                                 args.volume_kms_key_arn or cluster.node_volume_kms_key_arn, child_tags(name, args.tags)),
            opts=after_release,
        )
        CustomResource(
            f"{name}-node-pool",
            api_version="karpenter.sh/v1",
            kind="NodePool",
            metadata={"name": name},
            spec=node_pool_spec(args, name, self.labels, self.taints),
            opts=pulumi.ResourceOptions.merge(after_release, pulumi.ResourceOptions(depends_on=[node_class])),
        )
        self.register_outputs({"node_pool_name": name, "gpu_limit": self.gpu_limit})


def node_class_spec(args: KarpenterNodePoolArgs, role_name: pulumi.Input[str], cluster_name: str,
                    kms_key_arn: pulumi.Input[str] | None, tags: dict[str, str]) -> dict[str, Any]:
    """The EC2NodeClass ``spec``: discovery by tag, IMDSv2 only at hop limit 1, encrypted gp3 volumes."""
    volume = {"volumeSize": f"{args.resolved('root_volume_gib')}Gi", "volumeType": "gp3", "encrypted": True,
              "deleteOnTermination": True, **({"kmsKeyID": kms_key_arn} if kms_key_arn is not None else {})}
    if args.ami_alias.startswith("bottlerocket@"):
        # Bottlerocket keeps images on its data volume (/dev/xvdb); the OS volume is small and read-only.
        devices = [{"deviceName": "/dev/xvda", "ebs": {**volume, "volumeSize": "4Gi"}},
                   {"deviceName": "/dev/xvdb", "ebs": volume}]
    else:
        devices = [{"deviceName": "/dev/xvda", "ebs": volume}]
    discovery = [{"tags": {DISCOVERY_TAG: cluster_name}}]
    return {
        "role": role_name,
        "amiSelectorTerms": [{"alias": args.ami_alias}],
        "subnetSelectorTerms": discovery,
        "securityGroupSelectorTerms": discovery,
        "metadataOptions": {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled",
                            "httpPutResponseHopLimit": IMDS_HOP_LIMIT, "httpTokens": "required"},
        "blockDeviceMappings": devices,
        "tags": tags,
    }


def node_pool_spec(args: KarpenterNodePoolArgs, node_class_name: str, labels: dict[str, str],
                   taints: list[dict[str, str]]) -> dict[str, Any]:
    """The NodePool ``spec``: requirements, taints, limits (the cost ceiling) and disruption rules."""
    limits = {"cpu": str(args.cpu_limit), "memory": f"{args.memory_limit_gib}Gi"}
    if args.preset == GPU_SERVING:
        limits["nvidia.com/gpu"] = str(args.gpu_limit)
    template_spec: dict[str, Any] = {
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class_name},
        "requirements": [
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": args.resolved("instance_families")},
            {"key": "karpenter.k8s.aws/instance-size", "operator": "In", "values": args.resolved("instance_sizes")},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": args.resolved("capacity_types")},
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        ],
        "expireAfter": args.expire_after,
    }
    if taints:
        template_spec["taints"] = taints
    spec: dict[str, Any] = {
        "template": {"metadata": {"labels": labels}, "spec": template_spec} if labels else {"spec": template_spec},
        "limits": limits,
        "disruption": {
            "consolidationPolicy": args.resolved("consolidation_policy"),
            "consolidateAfter": args.resolved("consolidate_after"),
            "budgets": [{"nodes": args.resolved("disruption_budget_nodes")}],
        },
    }
    if args.weight is not None:
        spec["weight"] = args.weight
    return spec


def allowed_shapes(args: KarpenterNodePoolArgs) -> list[InstanceShape]:
    """Every instance type the pool's family and size requirements allow."""
    return [instance_shape(family, size) for family in args.resolved("instance_families")
            for size in args.resolved("instance_sizes")]


def _validate(name: str, args: KarpenterNodePoolArgs) -> None:
    if args.preset not in _PRESETS:
        raise ValueError(f"preset={args.preset!r} is not a preset: use 'gpu-serving' or 'general-burst'.")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name):
        raise ValueError(f"name={name!r} cannot name a NodePool: use lower-case letters, digits and '-' "
                         "(a DNS label of at most 63 characters).")
    families, sizes = args.resolved("instance_families"), args.resolved("instance_sizes")
    if not families or not sizes:
        raise ValueError(f"instance_families={families} and instance_sizes={sizes} must each name at least one: "
                         "give e.g. instance_families=['g6'] and instance_sizes=['xlarge'].")
    gpu = args.preset == GPU_SERVING
    for family in families:
        if gpu and family not in GPU_FAMILIES:
            raise ValueError(f"instance_families contains {family!r}, which is not an NVIDIA GPU family: a gpu-serving "
                             f"pool takes only {', '.join(GPU_FAMILIES)} (e.g. ['g6', 'g6e', 'g5']).")
        if not gpu and family in GPU_FAMILIES:
            raise ValueError(f"instance_families contains {family!r}, a GPU family, in a general-burst pool: its nodes "
                             "would be untainted GPUs any pod can fill; use the gpu-serving preset for GPUs.")
        if family not in GIB_PER_VCPU:
            raise ValueError(f"instance_families contains {family!r}, which this component cannot size: use one of "
                             f"{', '.join(f for f in GIB_PER_VCPU if f not in GPU_FAMILIES)}.")
    for size in sizes:
        if not _SIZE.match(size):
            raise ValueError(f"instance_sizes contains {size!r}: use sizes such as 'large', 'xlarge' or '4xlarge' "
                             "(metal and the burstable t sizes are not sized here).")
        if gpu and size == "large":
            raise ValueError("instance_sizes contains 'large', which no NVIDIA GPU family has: start at 'xlarge'.")
    capacity_types = args.resolved("capacity_types")
    if not capacity_types or set(capacity_types) - set(CAPACITY_TYPES):
        raise ValueError(f"capacity_types={capacity_types} is invalid: use 'spot' and/or 'on-demand' "
                         "(Karpenter's names, lower case).")
    _validate_limits(args)
    if not _ALIAS.match(args.ami_alias):
        raise ValueError(f"ami_alias={args.ami_alias!r} is not a supported AMI alias: use 'al2023@v<YYYYMMDD>' "
                         f"(e.g. {DEFAULT_AMI_ALIAS!r}) or 'bottlerocket@v<x.y.z>'; both have NVIDIA variants.")
    policy = args.resolved("consolidation_policy")
    if policy not in CONSOLIDATION_POLICIES:
        raise ValueError(f"consolidation_policy={policy!r} is not one Karpenter knows: use 'WhenEmpty' "
                         "(serving pools) or 'WhenEmptyOrUnderutilized'.")
    for argument in ("consolidate_after", "expire_after"):
        value = args.resolved(argument)
        if not _DURATION.match(value):
            raise ValueError(f"{argument}={value!r} is not a Karpenter duration: use e.g. '10m', '720h' or 'Never'.")
    budget = args.resolved("disruption_budget_nodes")
    if not _BUDGET.match(budget):
        raise ValueError(f"disruption_budget_nodes={budget!r} is invalid: use a node count such as '1' or a "
                         "percentage such as '10%'.")
    check_root_volume("root_volume_gib", args.resolved("root_volume_gib"))
    check_kms_key_arn("volume_kms_key_arn", args.volume_kms_key_arn)
    if GPU_PRESENT_LABEL in args.labels or NODEPOOL_LABEL in args.labels:
        raise ValueError(f"labels={args.labels} sets a label the pool or Karpenter sets itself "
                         f"({GPU_PRESENT_LABEL}, {NODEPOOL_LABEL}): drop it.")
    if args.weight is not None and not 1 <= args.weight <= 100:
        raise ValueError(f"weight={args.weight} is out of range: use 1 to 100 (Karpenter's bounds) or None.")


def _validate_limits(args: KarpenterNodePoolArgs) -> None:
    """Limits below the smallest allowed node would let the pool launch nothing at all."""
    shapes = allowed_shapes(args)
    smallest_cpu = min(shapes, key=lambda shape: shape.vcpus)
    smallest_memory = min(shapes, key=lambda shape: shape.memory_gib)
    if args.preset == GPU_SERVING:
        fewest_gpus = min(shapes, key=lambda shape: shape.gpus)
        if args.gpu_limit < fewest_gpus.gpus:
            raise ValueError(f"gpu_limit={args.gpu_limit} is below one node ({fewest_gpus.instance_type} has "
                             f"{fewest_gpus.gpus} GPU): raise gpu_limit to at least {fewest_gpus.gpus}.")
    if args.cpu_limit < smallest_cpu.vcpus:
        raise ValueError(f"cpu_limit={args.cpu_limit} is below one node (the smallest allowed instance, "
                         f"{smallest_cpu.instance_type}, has {smallest_cpu.vcpus} vCPUs): raise cpu_limit to at "
                         f"least {smallest_cpu.vcpus}.")
    if args.memory_limit_gib < smallest_memory.memory_gib:
        raise ValueError(f"memory_limit_gib={args.memory_limit_gib} is below one node (the smallest allowed instance, "
                         f"{smallest_memory.instance_type}, has {smallest_memory.memory_gib} GiB): raise "
                         f"memory_limit_gib to at least {smallest_memory.memory_gib}.")
