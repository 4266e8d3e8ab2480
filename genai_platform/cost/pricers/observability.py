"""Observability: Amazon Managed Prometheus, Amazon Managed Grafana, X-Ray and the OpenTelemetry collector.

AMP and X-Ray are billed by usage (samples, traces) and listed with their unit prices; Grafana licences
are fixed per workspace; the collector runs on the cluster's nodes, whose node group carries its price.
"""

import yaml

from genai_platform.cost.prices import rate
from genai_platform.cost.pricers.context import PricingContext
from genai_platform.cost.pricers.quantities import count_text, gib, number, vcpus
from genai_platform.cost.pricers.registry import Priced, pricer_for
from genai_platform.mockcloud import RecordedResource

# genai_platform.components.k8s.otel_collector's COMPONENT_LABEL and CONFIG_VARIABLE, repeated so that pricing never loads the
# Kubernetes SDK (a test keeps them equal).
COMPONENT_LABEL = "collector"
CONFIG_VARIABLE = "COLLECTOR_CONFIG"



@pricer_for("aws:amp/workspace:Workspace")
def _prometheus_workspace(resource: RecordedResource, context: PricingContext) -> Priced:
    prices = context.prices["prometheus"]
    return Priced(usage=f"AMP ingestion {rate(prices['ingested_samples_per_10m'])} per 10M samples (first 2B a "
                        f"month), storage {rate(prices['storage_gb_month'])}/GB-month, queries "
                        f"{rate(prices['query_samples_per_billion'])} per billion samples processed")


@pricer_for("aws:grafana/workspace:Workspace")
def _grafana_workspace(resource: RecordedResource, context: PricingContext) -> Priced:
    prices = context.prices["grafana"]
    return Priced([(prices["editor_month"], f"the Editor licence every workspace needs {rate(prices['editor_month'])}"
                                            "/month (billed even if nobody signs in)")],
                  usage=f"each further active editor or admin {rate(prices['editor_month'])}/month, viewer "
                        f"{rate(prices['viewer_month'])}/month")


@pricer_for("aws:grafana/workspaceServiceAccount:WorkspaceServiceAccount")
def _grafana_service_account(resource: RecordedResource, context: PricingContext) -> Priced:
    prices = context.prices["grafana"]
    role = resource.inputs.get("grafanaRole", "VIEWER")
    amount = prices["viewer_month"] if role == "VIEWER" else prices["editor_month"]
    return Priced([(amount, f"API user licence ({role} service account) {rate(amount)}/month")])


@pricer_for("kubernetes:apps/v1:Deployment")
def _collector(resource: RecordedResource, context: PricingContext) -> Priced | None:
    labels = (resource.inputs.get("metadata") or {}).get("labels") or {}
    if labels.get("app.kubernetes.io/component") != COMPONENT_LABEL:
        return None  # other workloads: their nodes are priced on the node groups
    spec = resource.inputs.get("spec") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    requests = (containers[0].get("resources") or {}).get("requests") or {} if containers else {}
    replicas = number(spec.get("replicas", 1), "spec.replicas")
    cpu, memory = vcpus(requests.get("cpu", "0"), "requests.cpu"), gib(requests.get("memory", "0"), "requests.memory")
    xray = context.prices["xray"]
    sampled = _trace_sampling_percent(containers[0] if containers else {})
    return Priced([(0.0, f"OpenTelemetry collector: {count_text(replicas)} x ({cpu:g} vCPU + {memory:g} GiB requested) "
                         "on the system nodes, whose price is counted on their node group")],
                  usage=f"X-Ray traces recorded {rate(xray['traces_recorded_per_million'])} per million (first "
                        f"{xray['free_traces_recorded_month']:,} a month free), retrieved or scanned "
                        f"{rate(xray['traces_retrieved_per_million'])} per million; the collector keeps "
                        + (f"{sampled:g}% of the traces" if sampled is not None else "the traces its config samples"))


def _trace_sampling_percent(container: dict) -> float | None:
    """The ``probabilistic_sampler`` share of the collector's config (its ``CONFIG_VARIABLE``)."""
    text = next((e.get("value") for e in container.get("env") or [] if e.get("name") == CONFIG_VARIABLE), None)
    try:
        config = yaml.safe_load(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        return None
    sampler = ((config or {}).get("processors") or {}).get("probabilistic_sampler") or {}
    share = sampler.get("sampling_percentage")
    return float(share) if isinstance(share, (int, float)) else None
