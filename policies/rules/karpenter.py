"""Karpenter: every NodePool has a cost ceiling, GPU pools are tainted and not consolidated by utilisation,
and every EC2NodeClass launches nodes with IMDSv2 (hop limit 1) on encrypted volumes.

NodePools and EC2NodeClasses are custom resources (``kubernetes:karpenter.sh/v1:NodePool``,
``kubernetes:karpenter.k8s.aws/v1:EC2NodeClass``); their props are the objects in Kubernetes JSON shape.
Where a field is unset, the rule judges Karpenter's own default, as the API server would apply it.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import ADVISORY, MANDATORY, RuleContext, resource_rule
from genai_platform.policies.values import as_list, each_mapping, get, is_true, number

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_FAMILY_PREFIXES = ("g4", "g5", "g6", "gr6", "p3", "p4", "p5", "p6")
"""NVIDIA instance families (g4ad is AMD, but tainting it too costs nothing)."""
_GPU_REQUIREMENT_KEYS = ("karpenter.k8s.aws/instance-gpu-count", "karpenter.k8s.aws/instance-gpu-name",
                         "karpenter.k8s.aws/instance-gpu-manufacturer", "karpenter.k8s.aws/instance-gpu-memory")
_DEFAULT_CONSOLIDATION = "WhenEmptyOrUnderutilized"
"""Karpenter v1's default ``spec.disruption.consolidationPolicy``."""


def _template_spec(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return get(props, "spec.template.spec", {})


def is_gpu_pool(props: Mapping[str, Any]) -> bool:
    """A pool that may launch GPU nodes: GPU families or GPU requirements, a GPU limit or the GPU label."""
    for requirement in each_mapping(as_list(get(_template_spec(props), "requirements"))):
        key = requirement.get("key")
        if key in _GPU_REQUIREMENT_KEYS and requirement.get("operator") != "DoesNotExist":
            return True
        if key == "karpenter.k8s.aws/instance-family" and requirement.get("operator") == "In" and any(
                str(family).startswith(GPU_FAMILY_PREFIXES) for family in as_list(requirement.get("values"))):
            return True
    return get(props, "spec.limits", {}).get(GPU_RESOURCE) is not None or \
        get(props, "spec.template.metadata.labels", {}).get("nvidia.com/gpu.present") == "true"


@resource_rule(
    name="karpenter-nodepool-limits",
    types=[NODE_POOL],
    description="Every Karpenter NodePool sets limits (CPU, memory and, on GPU pools, nvidia.com/gpu): without "
                "them nothing caps how many nodes it launches, so nothing caps the bill (platform rule).",
    severity="high",
    levels=MANDATORY,
    remediation="Set spec.limits (KarpenterNodePoolArgs cpu_limit, memory_limit_gib and gpu_limit): the most the "
                "pool may run at once, which genai-infra plan prices as its ceiling.",
)
def node_pool_limits(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    limits = get(args.props, "spec.limits", {})
    missing = [key for key in ("cpu", "memory") if limits.get(key) is None]
    if is_gpu_pool(args.props) and limits.get(GPU_RESOURCE) is None:
        missing.append(GPU_RESOURCE)
    if missing:
        yield f"spec.limits sets no {', '.join(missing)}."


@resource_rule(
    name="karpenter-gpu-nodepool-tainted",
    types=[NODE_POOL],
    description="A NodePool that launches GPU nodes taints them nvidia.com/gpu:NoSchedule, so only pods that ask "
                "for a GPU land on a $0.80-$30/hour node (platform rule; EKS best practices for accelerated workloads).",
    severity="medium",
    levels=MANDATORY,
    remediation="Add spec.template.spec.taints [{key: nvidia.com/gpu, value: 'true', effect: NoSchedule}] "
                "(the gpu-serving preset of KarpenterNodePool does).",
)
def gpu_node_pool_tainted(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not is_gpu_pool(args.props):
        return
    taints = each_mapping(as_list(get(_template_spec(args.props), "taints")))
    if not any(t.get("key") == GPU_RESOURCE and t.get("effect") == "NoSchedule" for t in taints):
        yield "The pool launches GPU nodes without an nvidia.com/gpu NoSchedule taint."


@resource_rule(
    name="karpenter-serving-pool-consolidation",
    types=[NODE_POOL],
    description="GPU (model-serving) NodePools consolidate only empty nodes: WhenEmptyOrUnderutilized ignores GPU "
                "use and evicts model servers mid-load (platform rule; kubernetes-sigs/karpenter#2756). Advisory.",
    severity="medium",
    levels=ADVISORY,
    remediation="Set spec.disruption.consolidationPolicy: WhenEmpty with a consolidateAfter such as 10m.",
)
def serving_pool_consolidation(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not is_gpu_pool(args.props):
        return
    policy = get(args.props, "spec.disruption.consolidationPolicy", _DEFAULT_CONSOLIDATION)
    if policy == _DEFAULT_CONSOLIDATION:
        yield f"consolidationPolicy is {policy} on a GPU pool."


@resource_rule(
    name="karpenter-nodeclass-imdsv2",
    types=[NODE_CLASS],
    description="EC2NodeClasses require IMDSv2 tokens with a hop limit of 1, so pods cannot read the node role's "
                "credentials (checkov CKV_AWS_79/341). Karpenter's defaults comply; an override must too.",
    severity="high",
    levels=MANDATORY,
    remediation="Set spec.metadataOptions {httpTokens: required, httpPutResponseHopLimit: 1} or leave them unset.",
)
def node_class_imdsv2(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    options = get(args.props, "spec.metadataOptions", {})
    tokens = options.get("httpTokens", "required")
    hops = number(options.get("httpPutResponseHopLimit", 1))
    if tokens != "required":
        yield f"metadataOptions.httpTokens is {tokens!r}, so IMDSv1 answers without a token."
    if hops != 1:
        yield f"metadataOptions.httpPutResponseHopLimit is {options.get('httpPutResponseHopLimit')!r}, not 1."


@resource_rule(
    name="karpenter-nodeclass-encrypted-volumes",
    types=[NODE_CLASS],
    description="Every EBS volume an EC2NodeClass maps is encrypted (checkov CKV_AWS_8). Karpenter's default root "
                "volume is; a blockDeviceMappings entry must say so itself.",
    severity="high",
    levels=MANDATORY,
    remediation="Set ebs.encrypted: true (and kmsKeyID for a customer-managed key) on every blockDeviceMappings entry.",
)
def node_class_encrypted_volumes(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for mapping in each_mapping(as_list(get(args.props, "spec.blockDeviceMappings"))):
        if not is_true(get(mapping, "ebs.encrypted")):
            yield f"The volume on {mapping.get('deviceName', '?')} is not encrypted."
