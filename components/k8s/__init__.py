"""Kubernetes workload components. ``from genai_platform.components.k8s import KubeService, KubeServiceArgs``."""

from genai_platform.components.exports import lazy_exports

_EXPORTS = {
    "KubeCronJob": "kube_cronjob",
    "KubeCronJobArgs": "kube_cronjob",
    "KubeService": "kube_service",
    "KubeServiceArgs": "kube_service",
    "MetricsExporters": "metrics_exporters",
    "MetricsExportersArgs": "metrics_exporters",
    "OtelCollector": "otel_collector",
    "OtelCollectorArgs": "otel_collector",
    "ScaledObject": "scaled_object",
    "ScaledObjectArgs": "scaled_object",
    "Trigger": "scaled_object",
    "VllmServer": "vllm_server",
    "VllmServerArgs": "vllm_server",
    "WorkloadArgs": "pod",
    "cpu_trigger": "scaled_object",
    "cron_trigger": "scaled_object",
    "prometheus_trigger": "scaled_object",
    "sqs_queue_trigger": "scaled_object",
}
"""Each exported name and the module defining it: importing the package imports none of them."""

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
