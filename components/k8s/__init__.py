"""Kubernetes workload components. ``from genai_platform.components.k8s import KubeService, KubeServiceArgs``."""

from genai_platform.components.k8s.kube_cronjob import KubeCronJob, KubeCronJobArgs
from genai_platform.components.k8s.kube_service import KubeService, KubeServiceArgs
from genai_platform.components.k8s.metrics_exporters import MetricsExporters, MetricsExportersArgs
from genai_platform.components.k8s.otel_collector import OtelCollector, OtelCollectorArgs
from genai_platform.components.k8s.pod import WorkloadArgs
from genai_platform.components.k8s.scaled_object import (ScaledObject, ScaledObjectArgs, Trigger, cpu_trigger, cron_trigger,
                                          prometheus_trigger, sqs_queue_trigger)
from genai_platform.components.k8s.vllm_server import VllmServer, VllmServerArgs

__all__ = ["KubeCronJob", "KubeCronJobArgs", "KubeService", "KubeServiceArgs", "MetricsExporters",
           "MetricsExportersArgs", "OtelCollector", "OtelCollectorArgs", "ScaledObject", "ScaledObjectArgs", "Trigger",
           "VllmServer", "VllmServerArgs", "WorkloadArgs", "cpu_trigger", "cron_trigger", "prometheus_trigger",
           "sqs_queue_trigger"]
