"""What every EKS managed node group here shares: validation, the node IAM role, the launch template.

Used by :class:`genai_platform.components.aws.eks.cluster.EksCluster` (its system node group) and
:class:`genai_platform.components.aws.capacity.gpu_node_pool.GpuNodePool`.
"""

import json
from collections.abc import Mapping, Sequence

import pulumi
from pulumi_aws import ec2, eks, iam

from genai_platform.components.tagging import child_tags
from genai_platform.components.validation import check_range

# The GPU nodes' taint and label: here, below both the GPU capacity (node pools) and the cluster's NVIDIA
# device plugin that must tolerate and select them.
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "true"
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
"""Node label the NVIDIA device plugin chart's default affinity selects; set on every GPU node."""

CAPACITY_TYPES = ("ON_DEMAND", "SPOT")
"""Purchase options of a managed node group."""

ROOT_VOLUME_GIB_RANGE = (20, 16384)
"""gp3 sizes we accept: 20 GiB holds the OS and a few images; 16 TiB is the gp3 maximum."""

IMDS_HOP_LIMIT = 1
"""IMDSv2 response hop limit on every node.

1 (as terraform-aws-eks) means only processes in the node's own network namespace get an answer:
a pod on the pod network cannot read the node role's credentials. Nothing here needs more: pods get
AWS credentials through IRSA, host-network daemons (aws-node, kube-proxy) are on hop 1, and the
add-ons that would otherwise ask IMDS for their region or VPC (load balancer controller, cluster
autoscaler) are given them in their Helm values. Raise it to 2 only for a workload that must reach
IMDS from a pod, and give that workload IRSA instead if you can.
"""

_AWS_POLICY = "arn:aws:iam::aws:policy/"
NODE_MANAGED_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
"""AWS managed policies on the node role. No AmazonEKS_CNI_Policy: the VPC CNI gets its own IRSA role,
so pods that reach node credentials could not rewrite the VPC's network interfaces."""


def check_capacity_type(argument: str, value: str) -> None:
    if value not in CAPACITY_TYPES:
        raise ValueError(f"{argument}={value!r} is not a capacity type: use 'ON_DEMAND' or 'SPOT'.")


def check_scaling(prefix: str, min_size: int, desired_size: int, max_size: int) -> None:
    """Validate a node group's sizes; ``prefix`` is prepended to the argument names in messages."""
    if min_size < 0:
        raise ValueError(f"{prefix}min_size={min_size} is negative: use 0 or more (0 lets the pool scale to zero).")
    if max_size < 1:
        raise ValueError(f"{prefix}max_size={max_size} is below 1: a node group must have room for at least one node.")
    if min_size > max_size:
        raise ValueError(
            f"{prefix}min_size={min_size} is greater than {prefix}max_size={max_size}: "
            f"make {prefix}min_size <= {prefix}max_size."
        )
    if not min_size <= desired_size <= max_size:
        raise ValueError(
            f"{prefix}desired_size={desired_size} is outside [{prefix}min_size={min_size}, "
            f"{prefix}max_size={max_size}]: pick a value in that range."
        )


def check_root_volume(argument: str, gib: int) -> None:
    check_range(argument, gib, *ROOT_VOLUME_GIB_RANGE, " GiB (gp3)")


def check_instance_types(argument: str, instance_types: Sequence[str], example: str) -> None:
    if not instance_types:
        raise ValueError(f"{argument}=[] names no instance type: give at least one, e.g. [{example!r}].")


def node_role(name: str, tags: Mapping[str, str],
              parent: pulumi.Resource) -> tuple[iam.Role, list[iam.RolePolicyAttachment]]:
    """The IAM role EC2 nodes assume and its policy attachments; EKS creates their access entries for
    managed node groups itself.

    Node groups must depend on the attachments, not only on the role: a node that boots before they
    exist cannot join (the group fails after ~20 minutes), and a destroy that detaches them first leaves
    EKS unable to drain and delete the instances and their network interfaces.
    """
    role = iam.Role(
        name,
        assume_role_policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                           "Action": "sts:AssumeRole"}],
        }),
        tags=child_tags(name, tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    attachments = [iam.RolePolicyAttachment(f"{name}-{policy}", role=role.name, policy_arn=_AWS_POLICY + policy,
                                            opts=pulumi.ResourceOptions(parent=parent))
                   for policy in NODE_MANAGED_POLICIES]
    return role, attachments


def node_launch_template(name: str, *, device_name: str, volume_gib: int, kms_key_arn: pulumi.Input[str] | None,
                         tags: Mapping[str, str], parent: pulumi.Resource) -> ec2.LaunchTemplate:
    """A launch template with IMDSv2 enforced and an encrypted gp3 volume on ``device_name``.

    No AMI and no instance type: EKS picks the AMI from the node group's ``ami_type`` and merges its
    bootstrap user data, and instance types stay on the node group so they can be a list.
    """
    instance_tags = child_tags(name, tags)
    return ec2.LaunchTemplate(
        name,
        description=f"EKS nodes of {name}: IMDSv2 only, encrypted gp3 volume",
        update_default_version=True,
        metadata_options=ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=IMDS_HOP_LIMIT,
            instance_metadata_tags="disabled",
        ),
        block_device_mappings=[ec2.LaunchTemplateBlockDeviceMappingArgs(
            device_name=device_name,
            ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                volume_size=volume_gib,
                volume_type="gp3",  # 20% cheaper than gp2 with 3000 IOPS / 125 MB/s at any size
                encrypted="true",
                kms_key_id=kms_key_arn,
                delete_on_termination="true",
            ),
        )],
        # Instances and volumes carry the cost-allocation tags too; they are most of the bill.
        tag_specifications=[ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=instance_tags)
                            for kind in ("instance", "volume")],
        tags=instance_tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def managed_node_group(
    name: str,
    *,
    cluster_name: pulumi.Input[str],
    node_role_arn: pulumi.Input[str],
    subnet_ids: Sequence[pulumi.Input[str]],
    launch_template: ec2.LaunchTemplate,
    ami_type: str,
    instance_types: Sequence[str],
    capacity_type: str,
    min_size: int,
    desired_size: int,
    max_size: int,
    labels: Mapping[str, str],
    taints: Sequence[eks.NodeGroupTaintArgs],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
) -> eks.NodeGroup:
    """An EKS managed node group on ``launch_template``, auto-named so immutable changes replace it safely."""
    return eks.NodeGroup(
        name,
        cluster_name=cluster_name,
        node_role_arn=node_role_arn,
        subnet_ids=list(subnet_ids),
        ami_type=ami_type,
        instance_types=list(instance_types),
        capacity_type=capacity_type,
        scaling_config=eks.NodeGroupScalingConfigArgs(min_size=min_size, desired_size=desired_size,
                                                      max_size=max_size),
        launch_template=eks.NodeGroupLaunchTemplateArgs(id=launch_template.id,
                                                        version=launch_template.latest_version.apply(str)),
        update_config=eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
        # EKS replaces nodes whose kubelet, network or (on GPU AMIs) NVIDIA driver reports unhealthy.
        node_repair_config=eks.NodeGroupNodeRepairConfigArgs(enabled=True),
        labels=dict(labels),
        taints=list(taints),
        tags=child_tags(name, tags),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(depends_on),
            # The cluster autoscaler owns the current size; re-applying the program must not reset it.
            ignore_changes=["scalingConfig.desiredSize"],
        ),
    )
