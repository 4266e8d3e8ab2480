"""Metrics, traces, dashboards and alerts of one environment.

* AWS: an AMP workspace (KMS) with the repository's rule files and an alert manager routing to the
  environment's alert topic; one ADOT collector in the cluster scraping kubelet/cAdvisor,
  kube-state-metrics, the DCGM exporter, vLLM and the apps, and receiving OTLP from every workload
  (pods in-cluster, ECS tasks through an internal NLB) for AMP and X-Ray (keeping ``traceSamplingPercent``
  of the traces); Amazon Managed Grafana where the tier enables it.
* GCP: Cloud Monitoring alert policies and an uptime check on the chat web app, to e-mail.

The CloudWatch dashboard and alarms (ALB, ECS, RDS, SQS) stay in ``guardrails``.
"""

import pulumi
from pulumi_gcp import organizations

from genai_platform.components.aws import ManagedGrafana, ManagedGrafanaArgs, PrometheusWorkspace, PrometheusWorkspaceArgs
from genai_platform.components.aws.data_helpers import allow, policy_json
from genai_platform.components.aws.eks.cluster import SYSTEM_POOL_LABELS
from genai_platform.components.gcp import CloudRunAlerts, CloudRunAlertsArgs
from genai_platform.components.k8s import MetricsExporters, MetricsExportersArgs, OtelCollector, OtelCollectorArgs
from genai_platform.components.k8s.otel_collector import OTLP_HTTP_PORT
from genai_platform.stacks import observability as files
from genai_platform.stacks.config import EnvConfig
from genai_platform.stacks.services.platform import Platform

NAMESPACE = "observability"
"""Namespace of the collector: workloads it scrapes admit it (``KubeServiceArgs.allow_from_namespaces``)."""
XRAY_WRITE_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
"""What the collector's awsxray exporter calls; X-Ray authorizes these only on ``*``. Sampling happens in the
collector, so it needs no X-Ray sampling rules (``xray:GetSampling*``)."""


class Observability(pulumi.ComponentResource):
    """The AWS side: AMP, the collector and exporters, Grafana (per tier)."""

    prometheus: PrometheusWorkspace
    collector: OtelCollector
    exporters: MetricsExporters
    grafana: ManagedGrafana | None

    def __init__(self, settings: EnvConfig, platform: Platform, opts: pulumi.ResourceOptions | None = None):
        env = settings.stack
        super().__init__("genai:stack:Observability", f"{env}-observability", None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._env, tags = env, {**settings.tags, "Service": "observability"}
        cluster = platform.cluster

        self.prometheus = PrometheusWorkspace(f"{env}-metrics", PrometheusWorkspaceArgs(
            alert_topic_arn=platform.alerts.topic_arn, rule_files=files.rule_files(settings.slo), tags=tags), child)
        name = f"{env}-otel-collector"
        role = platform.workload_role(name, NAMESPACE, {
            "remote-write": self.prometheus.remote_write_policy_json,
            "xray-write": policy_json([allow("SendTraces", XRAY_WRITE_ACTIONS, ["*"])]),
        }, tags, self)
        self.exporters = MetricsExporters(f"{env}-exporters", MetricsExportersArgs(
            # The default GPU selector (nvidia.com/gpu.present=true) matches every GPU pool, whatever its GPU model:
            # the managed node group and Karpenter GPU NodePools alike.
            provider=cluster.provider, node_selector=SYSTEM_POOL_LABELS,
        ), pulumi.ResourceOptions(parent=self, depends_on=platform.workload_dependencies))
        self.collector = OtelCollector(name, OtelCollectorArgs(
            provider=cluster.provider, namespace=NAMESPACE, create_namespace=True, iam_role_arn=role.role_arn,
            region=settings.aws_region, remote_write_url=self.prometheus.remote_write_url,
            scrape_configs=files.scrape_configs(), trace_sampling_percent=settings.trace_sampling_percent,
            # ECS tasks are outside the cluster: they reach the collector through an internal NLB.
            otlp_load_balancer_cidrs=[settings.vpc_cidr] if settings.ecs_otlp_load_balancer else [],
            node_selector=SYSTEM_POOL_LABELS, part_of="observability",
            tags=tags,
        ), pulumi.ResourceOptions(parent=self, depends_on=platform.workload_dependencies))
        self.grafana = ManagedGrafana(f"{env}-grafana", ManagedGrafanaArgs(
            region=settings.aws_region, prometheus_workspace_arn=self.prometheus.workspace_arn,
            prometheus_endpoint=self.prometheus.prometheus_endpoint, dashboards=files.dashboards(), tags=tags,
        ), child) if settings.grafana_workspace else None

        self.register_outputs({"prometheus_endpoint": self.prometheus.prometheus_endpoint,
                               "otlp_endpoint": self.collector.otlp_endpoint})

    @property
    def scraper_namespaces(self) -> list[str]:
        """Namespaces whose pods scrape ``/metrics``: what a scraped workload's NetworkPolicy must admit."""
        return [NAMESPACE]

    def pod_env(self, service: str, namespace: str) -> dict[str, str]:
        """OpenTelemetry SDK settings of a Kubernetes workload: the collector's in-cluster endpoint."""
        return self._otel_env(self.collector.otlp_endpoint, service, namespace)

    def task_env(self, service: str, namespace: str) -> dict[str, pulumi.Input[str]]:
        """OpenTelemetry SDK settings of an ECS task: the collector behind its internal NLB, or the SDK
        switched off where the tier has no NLB (it would otherwise retry localhost forever)."""
        endpoint = self.collector.otlp_load_balancer_endpoint
        if endpoint is None:
            return {"OTEL_SDK_DISABLED": "true", "OTEL_SERVICE_NAME": f"{self._env}-{service}"}
        return self._otel_env(endpoint, service, namespace)

    def task_egress_ports(self) -> list[int]:
        """VPC ports an ECS task must reach for its telemetry (the NLB's OTLP/HTTP port, if any)."""
        return [OTLP_HTTP_PORT] if self.collector.otlp_load_balancer_endpoint is not None else []

    def _otel_env(self, endpoint: pulumi.Input[str], service: str, namespace: str) -> dict:
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": f"{self._env}-{service}",
            "OTEL_RESOURCE_ATTRIBUTES": f"deployment.environment={self._env},service.namespace={namespace}",
            # The collector samples (one knob, pods and ECS alike); the SDKs send every span.
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        }


class CloudRunMonitoring(pulumi.ComponentResource):
    """The GCP side: alert policies and an uptime check on the chat web app, to the on-call e-mails."""

    alerts: CloudRunAlerts

    def __init__(self, settings: EnvConfig, service_name: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None):
        env = settings.stack
        super().__init__("genai:stack:CloudRunMonitoring", f"{env}-gcp-monitoring", None, opts)
        project = organizations.get_project(project_id=settings.gcp_project, opts=pulumi.InvokeOptions(parent=self))
        self.alerts = CloudRunAlerts(f"{env}-chat-web", CloudRunAlertsArgs(
            project=settings.gcp_project, project_number=project.number, region=settings.gcp_region,
            service_name=service_name, max_instances=settings.cloud_run_max_instances,
            notification_emails=settings.alert_emails, availability_slo_percent=settings.slo.availability_percent,
            p95_latency_ms=settings.slo.chat_p95_latency_ms, tags={**settings.tags, "Service": "chat"},
        ), pulumi.ResourceOptions(parent=self))
        self.register_outputs({"policy_names": self.alerts.policy_names})
