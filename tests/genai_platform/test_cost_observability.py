"""Prices of the observability resources: fixed Grafana licences, usage-priced AMP and X-Ray, the collector."""

from genai_platform.cost import estimate
from genai_platform.mockcloud import Plan, RecordedResource

STACK = "urn:pulumi:prod::genai-platform::pulumi:pulumi:Stack::genai-platform-prod"


def plan_of(*resources: tuple[str, str, dict]) -> Plan:
    recorded = [RecordedResource(urn=f"urn:pulumi:prod::genai-platform::{t}::{n}", type=t, name=n, parent=STACK,
                                 custom=True, protect=False, dependencies=[], inputs=i) for t, n, i in resources]
    return Plan(project="genai-platform", stack="prod", resources=recorded, outputs={})


def items(*resources) -> tuple[dict[str, tuple[float, str]], dict[str, str]]:
    result = estimate(plan_of(*resources))
    assert result.unpriced == []
    return ({i["urn"].rsplit("::", 1)[1]: (i["monthly"], i["basis"]) for i in result.items},
            {u["urn"].rsplit("::", 1)[1]: u["basis"] for u in result.usage_based})


def test_grafana_licences_are_fixed_and_further_users_usage_priced():
    fixed, usage = items(("aws:grafana/workspace:Workspace", "grafana", {}),
                         ("aws:grafana/workspaceServiceAccount:WorkspaceServiceAccount", "provisioner",
                          {"grafanaRole": "ADMIN"}),
                         ("aws:grafana/workspaceServiceAccount:WorkspaceServiceAccount", "reader",
                          {"grafanaRole": "VIEWER"}))
    assert fixed == {
        "grafana": (9.0, "the Editor licence every workspace needs $9.00/month (billed even if nobody signs in)"),
        "provisioner": (9.0, "API user licence (ADMIN service account) $9.00/month"),
        "reader": (5.0, "API user licence (VIEWER service account) $5.00/month"),
    }
    assert usage == {"grafana": "each further active editor or admin $9.00/month, viewer $5.00/month"}


def test_prometheus_is_listed_with_its_unit_prices():
    fixed, usage = items(("aws:amp/workspace:Workspace", "metrics", {}))
    assert fixed == {}
    assert usage == {"metrics": "AMP ingestion $0.90 per 10M samples (first 2B a month), storage $0.03/GB-month, "
                                "queries $0.10 per billion samples processed"}


def deployment(component: str, config: str | None = None) -> dict:
    env = [{"name": "COLLECTOR_CONFIG", "value": config}] if config is not None else []
    return {"metadata": {"labels": {"app.kubernetes.io/component": component}}, "spec": {
        "replicas": 1, "template": {"spec": {"containers": [{"env": env, "resources": {"requests": {
            "cpu": "200m", "memory": "512Mi"}}}]}}}}


def test_the_collector_is_itemised_inside_the_node_groups_price_and_x_ray_priced_by_its_sampling():
    config = "processors:\n  probabilistic_sampler: {sampling_percentage: 5}\n"
    fixed, usage = items(("kubernetes:apps/v1:Deployment", "otel", deployment("collector", config)),
                         ("kubernetes:apps/v1:Deployment", "api", deployment("server")))
    assert fixed == {"otel": (0.0, "OpenTelemetry collector: 1 x (0.2 vCPU + 0.5 GiB requested) on the system "
                                   "nodes, whose price is counted on their node group")}
    assert usage == {"otel": "X-Ray traces recorded $5.00 per million (first 100,000 a month free), retrieved or "
                             "scanned $0.50 per million; the collector keeps 5% of the traces"}
    _, unknown = items(("kubernetes:apps/v1:Deployment", "otel", deployment("collector")))
    assert unknown["otel"].endswith("the collector keeps the traces its config samples")


def test_the_pricer_recognises_the_collector_as_the_component_labels_it():
    from genai_platform.components.k8s import otel_collector
    from genai_platform.cost.pricers import observability

    assert (observability.COMPONENT_LABEL, observability.CONFIG_VARIABLE) == (otel_collector.COMPONENT_LABEL,
                                                                              otel_collector.CONFIG_VARIABLE)
