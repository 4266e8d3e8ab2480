"""GpuNodePool: an EKS managed node group of NVIDIA GPU instances that scales to zero.

The no-Karpenter option: it needs the cluster autoscaler (``ClusterAddonsArgs(cluster_autoscaler=True)``).
The stacks provision GPU capacity with :class:`genai_platform.components.aws.capacity.karpenter_node_pool.KarpenterNodePool` instead.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi
from pulumi_aws import autoscaling, eks

from genai_platform.components.aws.eks.nodes import (GPU_PRESENT_LABEL, GPU_TAINT_KEY, GPU_TAINT_VALUE, check_capacity_type,
                                                     check_instance_types, check_root_volume, check_scaling,
                                                     managed_node_group, node_launch_template)

if TYPE_CHECKING:
    from genai_platform.components.aws.eks.cluster import EksCluster

GPU_AMI_TYPES = ("AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA")
"""EKS-optimized AMIs with the NVIDIA driver. Bottlerocket also ships the device plugin; AL2023 does not."""

ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
"""The label the cluster autoscaler's AWS provider reads to know a node has GPUs (its ``GPULabel``).
A new GPU node advertises no ``nvidia.com/gpu`` until the device plugin starts; with this label the
autoscaler treats the node as not ready yet, without it as a node on which the pending pod does not
fit, and launches another GPU node for the same pod."""

GPUS_PER_INSTANCE: dict[str, int] = {
    **{f"g4dn.{size}": 1 for size in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")},
    "g4dn.12xlarge": 4, "g4dn.metal": 8,
    **{f"{family}.{size}": 1 for family in ("g5", "g6", "g6e")
       for size in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")},
    **{f"{family}.{size}": count for family in ("g5", "g6", "g6e")
       for size, count in (("12xlarge", 4), ("24xlarge", 4), ("48xlarge", 8))},
    "gr6.4xlarge": 1, "gr6.8xlarge": 1,
    "p4d.24xlarge": 8, "p4de.24xlarge": 8,
    "p5.4xlarge": 1, "p5.48xlarge": 8, "p5e.48xlarge": 8, "p5en.48xlarge": 8,
    "p6-b200.48xlarge": 8,
}
"""NVIDIA GPUs per instance type (x86_64 only: the AMI types above are x86). The count feeds the
cluster autoscaler's node template, which it needs to scale a pool up from zero."""

_GPU_FAMILIES = sorted({t.split(".")[0] for t in GPUS_PER_INSTANCE})
GPU_MODELS: dict[str, str] = {
    "g4dn": "nvidia-tesla-t4", "g5": "nvidia-a10g", "g6": "nvidia-l4", "gr6": "nvidia-l4", "g6e": "nvidia-l40s",
    "p4d": "nvidia-tesla-a100", "p4de": "nvidia-a100-80gb", "p5": "nvidia-h100", "p5e": "nvidia-h200",
    "p5en": "nvidia-h200", "p6-b200": "nvidia-b200",
}
"""GPU model of each instance family: the value of ``k8s.amazonaws.com/accelerator`` (the autoscaler's
own names where it has one)."""
_AUTOSCALER_TAG = "k8s.io/cluster-autoscaler"


@dataclass
class GpuNodePoolArgs:
    """Arguments of :class:`GpuNodePool`. Every default is the secure, cheap one."""

    cluster: "EksCluster"
    """The cluster to join; the pool uses its name, node role, private subnets and node volume key,
    and is created after the cluster's add-ons and system nodes."""

    subnet_ids: list[pulumi.Input[str]] | None = None
    """Subnets for the nodes; default the cluster's private subnets. Narrow them to zones with GPU capacity."""

    instance_types: list[str] = field(default_factory=lambda: ["g6.xlarge"])
    """NVIDIA GPU instance types, all with the same GPU count. Default ``g6.xlarge`` (1 x L4, 24 GiB,
    ~$0.80/hour on demand in us-east-1): room for a 7-8B model in 16-bit. ``g4dn.xlarge`` (T4, 16 GiB,
    ~$0.53/hour) is cheaper but older and slower."""

    ami_type: str = "AL2023_x86_64_NVIDIA"
    """``AL2023_x86_64_NVIDIA`` (needs :class:`NvidiaDevicePlugin` once per cluster) or
    ``BOTTLEROCKET_x86_64_NVIDIA`` (device plugin built in; read-only OS)."""

    capacity_type: str = "ON_DEMAND"
    """``ON_DEMAND`` or ``SPOT`` (often 50-70% cheaper on GPUs, but nodes are reclaimed on 2 minutes' notice)."""

    min_size: int = 0
    """Minimum nodes. 0: no GPU is paid for while nothing asks for one; the autoscaler adds a node for a
    pending pod that requests ``nvidia.com/gpu`` (first pod waits a few minutes for the node)."""

    desired_size: int = 0
    """Initial nodes; afterwards the cluster autoscaler owns it (changes are ignored on update)."""

    max_size: int = 2
    """Upper bound the autoscaler may scale to; it caps the GPU bill."""

    root_volume_gib: int = 200
    """Encrypted gp3 volume for container images and model weights (CUDA images alone are 5-10 GiB).
    On AL2023 it is the root volume; on Bottlerocket the data volume (``/dev/xvdb``) where images live."""

    volume_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key for the volume; default the cluster's ``node_volume_kms_key_arn`` (else aws/ebs)."""

    labels: dict[str, str] = field(default_factory=dict)
    """Extra Kubernetes node labels (``nvidia.com/gpu.present=true`` and ``k8s.amazonaws.com/accelerator``,
    the GPU model, are always set)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class GpuNodePool(pulumi.ComponentResource):
    """A managed node group of GPU nodes, tainted so only pods that tolerate ``nvidia.com/gpu`` land there.

    Nodes enforce IMDSv2 and keep images and weights on an encrypted gp3 volume. For scale-from-zero the
    cluster autoscaler must know what a node would look like before one exists: the node-template tags
    (labels, taint, GPU count) are put on the node group AND on its Auto Scaling group, because EKS does
    not copy node group tags to the ASG (terraform-aws-eks #2597).
    """

    node_group_name: pulumi.Output[str]
    """Name of the EKS node group."""
    autoscaling_group_name: pulumi.Output[str]
    """Name of the Auto Scaling group EKS created for the node group."""
    gpus_per_node: int
    """NVIDIA GPUs each node has."""
    labels: dict[str, str]
    """Node labels; use them as the workload's node selector."""
    taint_key: str
    """Key of the ``NoSchedule`` taint workloads must tolerate (``nvidia.com/gpu``)."""
    needs_device_plugin: bool
    """True when the cluster needs :class:`NvidiaDevicePlugin` for these nodes (AL2023; Bottlerocket has it)."""

    def __init__(self, name: str, args: GpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:aws:GpuNodePool", name, None, opts)
        cluster = args.cluster
        self.gpus_per_node = GPUS_PER_INSTANCE[args.instance_types[0]]
        models = sorted({GPU_MODELS[t.split(".")[0]] for t in args.instance_types})
        self.labels = {**args.labels, GPU_PRESENT_LABEL: "true",
                       ACCELERATOR_LABEL: models[0] if len(models) == 1 else "nvidia-mixed"}
        self.taint_key = GPU_TAINT_KEY
        self.needs_device_plugin = args.ami_type.startswith("AL2023")

        bottlerocket = args.ami_type.startswith("BOTTLEROCKET")
        launch_template = node_launch_template(
            f"{name}-nodes",
            device_name="/dev/xvdb" if bottlerocket else "/dev/xvda",
            volume_gib=args.root_volume_gib,
            kms_key_arn=args.volume_kms_key_arn or cluster.node_volume_kms_key_arn,
            tags=args.tags,
            parent=self,
        )
        autoscaler_tags = self._autoscaler_tags(cluster.known_cluster_name)
        node_group = managed_node_group(
            f"{name}-nodes",
            cluster_name=cluster.cluster_name,
            node_role_arn=cluster.node_role_arn,
            subnet_ids=args.subnet_ids or cluster.private_subnet_ids,
            launch_template=launch_template,
            ami_type=args.ami_type,
            instance_types=args.instance_types,
            capacity_type=args.capacity_type,
            min_size=args.min_size,
            desired_size=args.desired_size,
            max_size=args.max_size,
            labels=self.labels,
            taints=[eks.NodeGroupTaintArgs(key=GPU_TAINT_KEY, value=GPU_TAINT_VALUE, effect="NO_SCHEDULE")],
            tags={**args.tags, **autoscaler_tags},
            parent=self,
            # Nodes join only once the cluster's CNI add-on runs; waiting for the whole cluster covers it.
            depends_on=[cluster],
        )
        self.node_group_name = node_group.node_group_name
        self.autoscaling_group_name = node_group.resources.apply(lambda r: r[0].autoscaling_groups[0].name)
        for key, value in autoscaler_tags.items():
            autoscaling.Tag(
                f"{name}-asg-{key.removeprefix(_AUTOSCALER_TAG + '/').replace('/', '-')}",
                autoscaling_group_name=self.autoscaling_group_name,
                # The template describes the ASG to the autoscaler; instances need not carry it.
                tag=autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.register_outputs({
            "node_group_name": self.node_group_name,
            "autoscaling_group_name": self.autoscaling_group_name,
            "gpus_per_node": self.gpus_per_node,
        })

    def _autoscaler_tags(self, cluster_name: str) -> dict[str, str]:
        return {
            f"{_AUTOSCALER_TAG}/enabled": "true",
            f"{_AUTOSCALER_TAG}/{cluster_name}": "owned",
            **{f"{_AUTOSCALER_TAG}/node-template/label/{key}": value for key, value in self.labels.items()},
            f"{_AUTOSCALER_TAG}/node-template/taint/{GPU_TAINT_KEY}": f"{GPU_TAINT_VALUE}:NoSchedule",
            f"{_AUTOSCALER_TAG}/node-template/resources/nvidia.com/gpu": str(self.gpus_per_node),
        }


def _validate(args: GpuNodePoolArgs) -> None:
    if args.ami_type not in GPU_AMI_TYPES:
        raise ValueError(f"ami_type={args.ami_type!r} is not an NVIDIA GPU AMI type: use 'AL2023_x86_64_NVIDIA' "
                         "or 'BOTTLEROCKET_x86_64_NVIDIA'.")
    check_instance_types("instance_types", args.instance_types, "g6.xlarge")
    for instance_type in args.instance_types:
        if instance_type not in GPUS_PER_INSTANCE:
            raise ValueError(
                f"instance_types contains {instance_type!r}, which is not an NVIDIA GPU instance type: use a size of "
                f"{', '.join(_GPU_FAMILIES)} (e.g. 'g6.xlarge')."
            )
    counts = {t: GPUS_PER_INSTANCE[t] for t in args.instance_types}
    if len(set(counts.values())) > 1:
        mix = ", ".join(f"{t}: {n}" for t, n in counts.items())
        raise ValueError(f"instance_types={args.instance_types} mix GPU counts ({mix}): put types with the same GPU "
                         "count in one pool, so the autoscaler's node template is right.")
    check_capacity_type("capacity_type", args.capacity_type)
    check_scaling("", args.min_size, args.desired_size, args.max_size)
    check_root_volume("root_volume_gib", args.root_volume_gib)
    reserved = sorted(set(args.labels) & {GPU_PRESENT_LABEL, ACCELERATOR_LABEL})
    if reserved:
        raise ValueError(f"labels sets {reserved[0]!r}, which the pool sets itself: drop it from labels.")
