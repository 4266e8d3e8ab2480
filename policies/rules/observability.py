"""Observability rules: every environment stores metrics and routes alerts; every GPU pool is watched.

GPU pools are recognised by the ``nvidia.com/gpu`` taint, whether they are EKS managed node groups or
Karpenter ``karpenter.sh/v1`` NodePools.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, StackValidationArgs

from genai_platform.policies.registry import MANDATORY, RuleContext, stack_rule
from genai_platform.policies.stackview import Deferred, label, of_types
from genai_platform.policies.values import as_list, each_mapping, get, peek

PROMETHEUS_WORKSPACE = "aws:amp/workspace:Workspace"
ALERT_MANAGER = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
GCP_ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
KARPENTER_NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
WORKLOADS = ("eks:index:Cluster", "aws:eks/cluster:Cluster", "aws:ecs/service:Service")
"""What makes a stack an environment that serves traffic: a cluster or an ECS service."""
HELM_RELEASES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
GPU_TAINT_KEY = "nvidia.com/gpu"
DCGM_CHART = "dcgm-exporter"


@stack_rule(
    name="stack-metrics-and-alert-route",
    description="Every environment running workloads on AWS (EKS or ECS) has a Prometheus (AMP) workspace and an "
                "alert manager that routes to an SNS topic; every environment with Cloud Run services has an alert "
                "policy with a notification channel (platform rule).",
    severity="high",
    levels=MANDATORY,
    remediation="Add PrometheusWorkspace with alert_topic_arn=<the AlertTopic> (stacks/services/observability.py), "
                "and CloudRunAlerts for the Cloud Run services.",
)
def metrics_and_alert_route(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str | None, str]]:
    types = {resource.resource_type for resource in args.resources}
    if types & set(WORKLOADS):
        if PROMETHEUS_WORKSPACE not in types:
            yield None, f"The stack runs workloads on AWS but has no {PROMETHEUS_WORKSPACE}."
        # The definition embeds the topic's ARN, so a first preview does not know it: judged at the update.
        deferred = Deferred()
        routes = [r for r in of_types(args, [ALERT_MANAGER])
                  if deferred.check(lambda props: "sns_configs" in str(get(props, "definition", "")), r.props)]
        if not routes:
            yield None, "No AMP alert manager definition routes alerts to an SNS topic (sns_configs)."
        deferred.raise_if_any()
    if "gcp:cloudrunv2/service:Service" in types:
        notified = [r for r in of_types(args, [GCP_ALERT_POLICY]) if as_list(peek(r.props, "notificationChannels"))]
        if not notified:
            yield None, f"The stack runs Cloud Run services but no {GCP_ALERT_POLICY} notifies a channel."


@stack_rule(
    name="stack-gpu-pools-have-dcgm-exporter",
    description="A stack with a GPU pool (a node group or Karpenter NodePool tainted nvidia.com/gpu) installs the "
                "NVIDIA DCGM exporter tolerating that taint, so GPU utilisation and memory are measured "
                "(platform rule).",
    severity="medium",
    levels=MANDATORY,
    remediation="Add MetricsExporters(dcgm_exporter=True) with the GPU pools' node selector "
                "(components/k8s/metrics_exporters.py).",
)
def gpu_pools_have_dcgm_exporter(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    # A pool whose taints a first preview does not know may be a GPU pool: judged at the update.
    deferred = Deferred()
    pools = [r for r in of_types(args, [NODE_GROUP]) if not deferred.check(lambda p: not _tainted(get(p, "taints")),
                                                                            r.props)]
    pools += [r for r in of_types(args, [KARPENTER_NODE_POOL])
              if not deferred.check(lambda p: not _tainted(get(p, "spec.template.spec.taints")), r.props)]
    if pools and not any(_tolerating_dcgm_exporter(r) for r in of_types(args, HELM_RELEASES)):
        for pool in pools:
            yield pool.urn, (f"{label(pool)} is a GPU pool, and no dcgm-exporter release tolerates its "
                             f"{GPU_TAINT_KEY} taint.")
    deferred.raise_if_any()


def _tainted(taints: Any) -> bool:
    return any(taint.get("key") == GPU_TAINT_KEY for taint in each_mapping(as_list(taints)))


def _tolerating_dcgm_exporter(release: PolicyResource) -> bool:
    if peek(release.props, "chart") != DCGM_CHART:
        return False
    values = peek(release.props, "values", {})
    tolerations = peek(values, "tolerations") if isinstance(values, Mapping) else None
    return any(toleration.get("key") == GPU_TAINT_KEY or toleration.get("operator") == "Exists"
               and not toleration.get("key") for toleration in each_mapping(as_list(tolerations)))
