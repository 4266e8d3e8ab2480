"""MetricsExporters: the cluster-side exporters a Prometheus scrape needs beside the kubelet's own metrics.

* kube-state-metrics: Deployment, pod and container state (restarts, ``CrashLoopBackOff``, replicas);
* the NVIDIA DCGM exporter: a DaemonSet on GPU nodes only (utilisation, frame-buffer memory used,
  temperature, power), tolerating the ``nvidia.com/gpu`` NoSchedule taint every GPU pool carries
  (the managed GPU node group and Karpenter GPU NodePools alike).

Both are Helm releases with pinned chart versions; neither needs AWS permissions.
"""

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_kubernetes.helm.v3 import Release, RepositoryOptsArgs
from pulumi_kubernetes.provider import Provider

from genai_platform.components.k8s.pod import DEFAULT_GPU_NODE_SELECTOR, GPU_RESOURCE, check_labels

KUBE_STATE_METRICS_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
KUBE_STATE_METRICS_CHART_VERSION = "8.4.0"
"""kube-state-metrics chart 8.4.0 = kube-state-metrics v2.20.0 (prometheus-community/helm-charts
charts/kube-state-metrics/Chart.yaml, 2026-08)."""
DCGM_EXPORTER_REPOSITORY = "https://nvidia.github.io/dcgm-exporter/helm-charts"
DCGM_EXPORTER_CHART_VERSION = "4.8.2"
"""dcgm-exporter chart 4.8.2, image 4.5.3-4.8.2-distroless (NVIDIA/dcgm-exporter deployment/Chart.yaml, 2026-05)."""
DCGM_EXPORTER_PORT = 9400


@dataclass
class MetricsExportersArgs:
    """Arguments of :class:`MetricsExporters`."""

    provider: Provider
    """Kubernetes provider of the cluster (``EksCluster.provider``)."""

    namespace: str = "kube-system"
    """Namespace of both releases: the DCGM exporter runs as root with the kubelet's pod-resources socket
    mounted, which the ``restricted`` namespaces of the workloads refuse."""

    kube_state_metrics: bool = True
    """Install kube-state-metrics (the crash-looping-pod and replica alerts read it)."""

    dcgm_exporter: bool = True
    """Install the DCGM exporter on GPU nodes (the GPU dashboards and the GPU memory alert read it)."""

    node_selector: dict[str, str] = field(default_factory=dict)
    """Node labels kube-state-metrics is scheduled on (the stack passes the system pool's)."""

    gpu_node_selector: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_GPU_NODE_SELECTOR))
    """Node labels of the GPU nodes; default ``nvidia.com/gpu.present=true``, set on every GPU pool."""

    kube_state_metrics_chart_version: str = KUBE_STATE_METRICS_CHART_VERSION
    dcgm_exporter_chart_version: str = DCGM_EXPORTER_CHART_VERSION


class MetricsExporters(pulumi.ComponentResource):
    """kube-state-metrics and the NVIDIA DCGM exporter as pinned Helm releases."""

    dcgm_exporter_release: Release | None
    """The DCGM exporter release (None when not installed)."""

    def __init__(self, name: str, args: MetricsExportersArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:k8s:MetricsExporters", name, None, opts)
        self._name, self._args = name, args
        if args.kube_state_metrics:
            self._release("kube-state-metrics", KUBE_STATE_METRICS_REPOSITORY, args.kube_state_metrics_chart_version,
                          {"nodeSelector": args.node_selector, "prometheusScrape": True})
        self.dcgm_exporter_release = self._release(
            "dcgm-exporter", DCGM_EXPORTER_REPOSITORY, args.dcgm_exporter_chart_version,
            dcgm_exporter_values(args.gpu_node_selector)) if args.dcgm_exporter else None
        self.register_outputs({})

    def _release(self, chart: str, repository: str, version: str, values: dict[str, Any]) -> Release:
        return Release(f"{self._name}-{chart}", name=chart, chart=chart, version=version,
                       repository_opts=RepositoryOptsArgs(repo=repository), namespace=self._args.namespace,
                       values=values, opts=pulumi.ResourceOptions(parent=self, provider=self._args.provider))


def dcgm_exporter_values(gpu_node_selector: dict[str, str]) -> dict[str, Any]:
    """Helm values: GPU nodes only, tolerating their taint, no ServiceMonitor (no Prometheus operator here:
    the collector scrapes the Service), and without the chart's ``SYS_ADMIN``: that capability only serves the
    profiling counters (``DCGM_FI_PROF_*``), not utilisation, memory, temperature or power."""
    return {
        "nodeSelector": gpu_node_selector,
        "tolerations": [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}],
        "serviceMonitor": {"enabled": False},
        "service": {"port": DCGM_EXPORTER_PORT},
        "securityContext": {"runAsNonRoot": False, "runAsUser": 0, "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]}},
    }


def _validate(args: MetricsExportersArgs) -> None:
    if not args.kube_state_metrics and not args.dcgm_exporter:
        raise ValueError("kube_state_metrics=False and dcgm_exporter=False install nothing: enable one, or do not "
                         "create MetricsExporters.")
    if args.dcgm_exporter and not args.gpu_node_selector:
        raise ValueError("gpu_node_selector={} would run the DCGM exporter on every node, where it crash-loops "
                         "without a GPU: pass the GPU nodes' labels, e.g. {'nvidia.com/gpu.present': 'true'}.")
    check_labels("node_selector", args.node_selector)
    check_labels("gpu_node_selector", args.gpu_node_selector)
