"""OtelCollector: one OpenTelemetry collector (the AWS Distro, ADOT) that scrapes Prometheus targets in the
cluster and receives OTLP from every workload, writing metrics to Amazon Managed Service for Prometheus
and traces to AWS X-Ray.

Why a collector and not the AMP managed scraper: traces need an OTLP endpoint anyway, and the same
collector scrapes the cluster for the price of its pod on nodes that are already paid for, while a
managed scraper costs $0.04 per hour (~$29/month) per environment before a single sample. One replica:
a Prometheus receiver in two replicas would scrape, and bill, every target twice.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pulumi
import yaml
from pulumi_kubernetes.apps.v1 import Deployment
from pulumi_kubernetes.core.v1 import Service
from pulumi_kubernetes.networking.v1 import NetworkPolicy
from pulumi_kubernetes.rbac.v1 import ClusterRole, ClusterRoleBinding

from genai_platform.components.k8s.pod import KubeWorkload, WorkloadArgs, check_cidrs, validate_workload
from genai_platform.components.tagging import PLATFORM_TAGS
from genai_platform.components.validation import check_range

ADOT_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0"
"""AWS Distro for OpenTelemetry collector v0.49.0 (aws-observability/aws-otel-collector VERSION, 2026-07):
it bundles the prometheus receiver, prometheusremotewrite exporter, sigv4auth and awsxray exporter."""

OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
HEALTH_PORT = 13133
"""The collector's ``health_check`` extension: the probes' target, separate from the OTLP ports."""

CONFIG_VARIABLE = "COLLECTOR_CONFIG"
"""The container variable holding the collector's configuration (read with ``--config=env:...``)."""
COMPONENT_LABEL = "collector"
"""``app.kubernetes.io/component`` of the collector's objects."""
NLB_ANNOTATIONS = {
    # An NLB the AWS Load Balancer Controller owns, sending straight to the pod IPs, inside the VPC only.
    "service.beta.kubernetes.io/aws-load-balancer-type": "external",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
}
SCRAPE_RULES = [
    {"api_groups": [""], "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
     "verbs": ["get", "list", "watch"]},
    {"api_groups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
    {"non_resource_urls": ["/metrics"], "verbs": ["get"]},
]
"""What Kubernetes service discovery and the kubelets' /metrics need: read-only. Never ``nodes/proxy``: the
kubelet authorizes WebSocket upgrades as ``get``, so it would open exec sessions in every pod."""


@dataclass(kw_only=True)
class OtelCollectorArgs(WorkloadArgs):
    """Arguments of :class:`OtelCollector`. Every default is the secure, cheap one."""

    region: str
    """AWS region of the workspace and of X-Ray (SigV4 signs for it)."""

    image: str = ADOT_COLLECTOR_IMAGE
    """Collector image; default the pinned ADOT collector (see ``ADOT_COLLECTOR_IMAGE``)."""

    namespace: str = "observability"
    """Namespace of the collector."""

    remote_write_url: pulumi.Input[str] | None = None
    """``PrometheusWorkspace.remote_write_url``; None sends no metrics (then ``scrape_configs`` must be empty)."""

    scrape_configs: list[dict[str, Any]] = field(default_factory=list)
    """Prometheus ``scrape_configs`` (kubelet/cAdvisor, kube-state-metrics, exporters, apps), as the
    stack keeps them in its YAML file. ``$`` in relabel replacements is escaped for the collector."""

    xray_traces: bool = True
    """Export the OTLP traces it receives to AWS X-Ray."""

    trace_sampling_percent: float = 10
    """Share of traces kept (by trace ID, so every span of a kept trace is kept, from pods and ECS tasks alike).
    X-Ray bills $5 per million traces recorded: 10% keeps a busy service's bill small and still shows errors."""

    otlp_load_balancer_cidrs: list[str] = field(default_factory=list)
    """Networks outside the cluster (ECS tasks) that may send OTLP: with any, an internal NLB (~$21/month)
    fronts the OTLP ports, admitting only these ranges. Default none: in-cluster senders only."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra AWS tags on the NLB (the stack passes ``Environment`` for cost allocation)."""

    cpu_request_millicores: int = 200
    memory_request_mib: int = 512
    memory_limit_mib: int = 1024
    """A collector scraping a small cluster and batching traces stays well below 512 MiB; its
    ``memory_limiter`` keeps it at 80% of this limit."""


class OtelCollector(KubeWorkload):
    """Deployment (1 replica) + ClusterIP Service (+ internal NLB) + ServiceAccount (IRSA) + read-only
    ClusterRole for discovery + NetworkPolicy admitting OTLP only."""

    otlp_endpoint: str
    """In-cluster OTLP/HTTP endpoint: the value of ``OTEL_EXPORTER_OTLP_ENDPOINT`` for pods."""
    otlp_load_balancer_endpoint: pulumi.Output[str] | None
    """OTLP/HTTP endpoint on the internal NLB for senders outside the cluster (None without
    ``otlp_load_balancer_cidrs``)."""

    def __init__(self, name: str, args: OtelCollectorArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        config = pulumi.Output.from_input(args.remote_write_url).apply(
            lambda url: yaml.safe_dump(collector_config(args, url), sort_keys=False))
        args = dataclasses.replace(args, env={**args.env, CONFIG_VARIABLE: config},
                                   args=[f"--config=env:{CONFIG_VARIABLE}"],
                                   kubernetes_api_access=args.kubernetes_api_access or bool(args.scrape_configs))
        super().__init__("genai:k8s:OtelCollector", name, args, COMPONENT_LABEL, opts)
        selector = self.selector_labels()
        ports = [{"name": "otlp-grpc", "container_port": OTLP_GRPC_PORT, "protocol": "TCP"},
                 {"name": "otlp-http", "container_port": OTLP_HTTP_PORT, "protocol": "TCP"},
                 {"name": "health", "container_port": HEALTH_PORT, "protocol": "TCP"}]
        health = {"http_get": {"path": "/", "port": "health"}, "period_seconds": 10, "timeout_seconds": 2,
                  "failure_threshold": 3}
        Deployment(f"{name}-deployment", metadata=self._metadata(), spec={
            "replicas": 1,
            "selector": {"match_labels": selector},
            "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
            "template": self._pod_template(restart_policy="Always", ports=ports,
                                           probes={"liveness_probe": health, "readiness_probe": health}),
        }, opts=self._child())
        otlp_ports = [{"name": port["name"], "port": port["container_port"], "target_port": port["name"],
                       "protocol": "TCP"} for port in ports[:2]]
        Service(f"{name}-service", metadata=self._metadata(),
                spec={"type": "ClusterIP", "selector": selector, "ports": otlp_ports}, opts=self._child())
        self.otlp_load_balancer_endpoint = None
        if args.otlp_load_balancer_cidrs:
            tags = ",".join(f"{key}={value}" for key, value in {**PLATFORM_TAGS, **args.tags}.items())
            balancer = Service(f"{name}-nlb", metadata={
                **self._metadata({**NLB_ANNOTATIONS,
                                  "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags": tags}),
                "name": f"{name}-nlb"}, spec={
                "type": "LoadBalancer", "selector": selector, "ports": otlp_ports,
                "load_balancer_source_ranges": args.otlp_load_balancer_cidrs,
            }, opts=self._child())
            self.otlp_load_balancer_endpoint = balancer.status.apply(
                lambda status: f"http://{_hostname(status)}:{OTLP_HTTP_PORT}")
        if args.scrape_configs:
            self._scrape_permissions()
        NetworkPolicy(f"{name}-netpol", metadata=self._metadata(), spec={
            "pod_selector": {"match_labels": selector},
            "policy_types": ["Ingress"],
            # Any pod of any namespace may send telemetry; from outside, only the listed ranges (via the NLB).
            "ingress": [{"from": [{"namespace_selector": {}},
                                  *({"ip_block": {"cidr": cidr}} for cidr in args.otlp_load_balancer_cidrs)],
                         "ports": [{"port": port, "protocol": "TCP"} for port in (OTLP_GRPC_PORT, OTLP_HTTP_PORT)]}],
        }, opts=self._child())

        self.otlp_endpoint = f"http://{name}.{args.namespace}.svc.cluster.local:{OTLP_HTTP_PORT}"
        self.register_outputs({"otlp_endpoint": self.otlp_endpoint,
                               "otlp_load_balancer_endpoint": self.otlp_load_balancer_endpoint})

    def _scrape_permissions(self) -> None:
        name = self._name
        role = ClusterRole(f"{name}-scrape", metadata={"name": f"{name}-scrape", "labels": self._labels},
                           rules=SCRAPE_RULES, opts=self._child())
        ClusterRoleBinding(f"{name}-scrape", metadata={"name": f"{name}-scrape", "labels": self._labels},
                           role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                     "name": role.metadata.name},
                           subjects=[{"kind": "ServiceAccount", "name": self.service_account_name,
                                      "namespace": self.namespace}], opts=self._child())


def collector_config(args: OtelCollectorArgs, remote_write_url: str | None) -> dict[str, Any]:
    """The collector's configuration: OTLP (+ Prometheus) in, AMP and X-Ray out, health check for probes."""
    receivers: dict[str, Any] = {"otlp": {"protocols": {"grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"},
                                                        "http": {"endpoint": f"0.0.0.0:{OTLP_HTTP_PORT}"}}}}
    processors = {"memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
                  "batch": {}}
    exporters: dict[str, Any] = {}
    extensions: dict[str, Any] = {"health_check": {"endpoint": f"0.0.0.0:{HEALTH_PORT}"}}
    pipelines: dict[str, Any] = {}
    steps = ["memory_limiter", "batch"]
    if remote_write_url is not None:
        extensions["sigv4auth"] = {"region": args.region, "service": "aps"}
        exporters["prometheusremotewrite"] = {"endpoint": remote_write_url, "auth": {"authenticator": "sigv4auth"},
                                              "resource_to_telemetry_conversion": {"enabled": True}}
        metric_receivers = ["otlp"]
        if args.scrape_configs:
            receivers["prometheus"] = {"config": {"scrape_configs": _escape_dollars(args.scrape_configs)}}
            metric_receivers.insert(0, "prometheus")
        pipelines["metrics"] = {"receivers": metric_receivers, "processors": steps,
                                "exporters": ["prometheusremotewrite"]}
    if args.xray_traces:
        processors["probabilistic_sampler"] = {"sampling_percentage": args.trace_sampling_percent}
        exporters["awsxray"] = {"region": args.region, "indexed_attributes": ["service.name"]}
        pipelines["traces"] = {"receivers": ["otlp"], "processors": ["memory_limiter", "probabilistic_sampler", "batch"],
                               "exporters": ["awsxray"]}
    return {"receivers": receivers, "processors": processors, "exporters": exporters, "extensions": extensions,
            "service": {"extensions": list(extensions), "pipelines": pipelines}}


def _escape_dollars(value: Any) -> Any:
    # The collector expands $VAR and ${env:VAR} in its config; a relabel replacement '$1' must reach
    # Prometheus as written, so it is passed as '$$1'.
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [_escape_dollars(item) for item in value]
    if isinstance(value, dict):
        return {key: _escape_dollars(item) for key, item in value.items()}
    return value


def _hostname(status: Any) -> str:
    entries = (status.load_balancer.ingress if status and status.load_balancer else None) or []
    return (entries[0].hostname or "") if entries else ""


def _validate(name: str, args: OtelCollectorArgs) -> None:
    validate_workload(name, args, max_name_length=59)  # leaves room for the '-nlb' Service
    if args.scrape_configs and args.remote_write_url is None:
        raise ValueError("scrape_configs are set but remote_write_url=None: pass PrometheusWorkspace."
                         "remote_write_url, or drop the scrape configs.")
    if args.remote_write_url is None and not args.xray_traces:
        raise ValueError("remote_write_url=None and xray_traces=False export nothing: enable one of them.")
    check_cidrs("otlp_load_balancer_cidrs", args.otlp_load_balancer_cidrs)
    check_range("trace_sampling_percent", args.trace_sampling_percent, 0, 100, " percent")
    for job in args.scrape_configs:
        if not isinstance(job, dict) or not job.get("job_name"):
            raise ValueError(f"scrape_configs entry {job!r} has no job_name: every Prometheus scrape config names "
                             "its job.")
