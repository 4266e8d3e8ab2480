"""The observability files (rules, dashboards, scrape configs) and how the stacks wire them."""

import json
import re
from pathlib import Path

import promql_parser
import pytest
import yaml

from genai_platform import planning
from genai_platform.stacks import observability as files
from genai_platform.stacks.config import ConfigError, Slo, load

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "docs" / "runbook.md").read_text()
BASE = {"aws:region": "us-east-1", "gcp:project": "genai-platform-dev", "genai-platform:tier": "dev",
        "genai-platform:gcpBillingAccount": "01A2B3-C4D5E6-F7A8B9",
        "genai-platform:redisAuthToken": "a-long-enough-token"}
SLO = Slo(availability_percent=99.5, rag_p95_latency_ms=800, chat_p95_latency_ms=5000)
RECORDED = re.compile(r"\b((?:service|model|gpu):[a-z0-9_]+:[a-z0-9_]+)\b")


def rules(slo: Slo = SLO) -> list[dict]:
    return [rule for text in files.rule_files(slo).values() for group in yaml.safe_load(text)["groups"]
            for rule in group["rules"]]


def alerts(slo: Slo = SLO) -> dict[str, dict]:
    return {rule["alert"]: rule for rule in rules(slo) if "alert" in rule}


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to '-'."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-") for heading in headings}


def test_every_expression_is_promql():
    found = rules()
    assert len(found) == 14
    for rule in found:
        promql_parser.parse(rule["expr"])
    assert "[[" not in "".join(files.rule_files(SLO).values())


def test_the_issue_alerts_exist_with_severity_and_runbook():
    found = alerts()
    assert set(found) == {"High5xxRatio", "RagLatencyAboveSlo", "PodCrashLooping", "GpuMemorySaturated",
                          "VllmRequestsWaiting", "MetricsPipelineDown"}
    for name, rule in found.items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}, name
        page, anchor = rule["annotations"]["runbook_url"].split("#")
        assert page == "docs/runbook.md" and anchor == name.lower(), name
        assert anchor in anchors(RUNBOOK), f"{name}: docs/runbook.md has no section #{anchor}"


def test_thresholds_follow_the_slo():
    assert "> 0.072\n" in alerts()["High5xxRatio"]["expr"] + "\n"  # 14.4 x the 0.5 % budget
    assert alerts()["RagLatencyAboveSlo"]["expr"].endswith("> 0.8")
    strict = alerts(Slo(availability_percent=99.9, rag_p95_latency_ms=500, chat_p95_latency_ms=5000))
    assert strict["High5xxRatio"]["expr"].count("> 0.0144") == 2
    assert strict["RagLatencyAboveSlo"]["expr"].endswith("> 0.5")
    assert "99.9%" in strict["High5xxRatio"]["annotations"]["description"]


def test_alerts_and_dashboards_read_only_recorded_series_that_exist():
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    used = {name for rule in alerts().values() for name in RECORDED.findall(rule["expr"])}
    for dashboard in files.dashboards().values():
        used |= set(RECORDED.findall(dashboard))
    assert used and used <= recorded, sorted(used - recorded)


def test_dashboards_are_grafana_models_on_the_provisioned_data_sources():
    models = {name: json.loads(text) for name, text in files.dashboards().items()}
    assert set(models) == {"services", "llm-gpu", "queues"}
    assert len({model["uid"] for model in models.values()}) == 3
    for model in models.values():
        for panel in model["panels"]:
            assert panel["datasource"]["uid"] in ("amp", "cloudwatch")
            for target in panel["targets"]:
                if panel["datasource"]["uid"] == "amp":
                    promql_parser.parse(target["expr"])
    titles = {panel["title"] for model in models.values() for panel in model["panels"]}
    assert {"Requests per second", "p95 latency", "p99 latency", "5xx ratio", "Generation tokens per second",
            "Time to first token (p95)", "Requests running and waiting", "GPU utilisation", "GPU memory used",
            "Messages visible (all queues, DLQs included)", "Age of the oldest message"} <= titles


def test_scrape_jobs():
    jobs = {job["job_name"]: job for job in files.scrape_configs()}
    assert set(jobs) == {"kubelet", "cadvisor", "kube-state-metrics", "dcgm-exporter", "vllm", "apps"}
    assert jobs["cadvisor"]["metrics_path"] == "/metrics/cadvisor"
    assert all(job["kubernetes_sd_configs"] for job in jobs.values())


def test_slo_settings_are_typed_and_checked():
    settings = load({**BASE, "genai-platform:availabilitySloPercent": "99.9"}, "dev", "stacks/Pulumi.dev.yaml")
    assert settings.slo == Slo(availability_percent=99.9, rag_p95_latency_ms=800, chat_p95_latency_ms=5000)
    assert settings.slo.error_budget == 0.001
    with pytest.raises(ConfigError) as error:
        load({**BASE, "genai-platform:availabilitySloPercent": "100"}, "dev", "stacks/Pulumi.dev.yaml")
    assert str(error.value) == ("stacks/Pulumi.dev.yaml: genai-platform:availabilitySloPercent = '100' is invalid: "
                                "use a percentage from 90 to below 100, e.g. \"99.5\".")


# ----------------------------------------------------------------------------------------------- the stacks


def env_of(plan, deployment: str) -> dict[str, str]:
    container = plan.named(deployment, "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"][
        "containers"][0]
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def task_env(plan, service: str) -> dict[str, str]:
    definitions = [r for r in plan.of_type("aws:ecs/taskDefinition:TaskDefinition") if r.name.startswith(service)]
    container = json.loads(definitions[0].inputs["containerDefinitions"])[0]
    return {e["name"]: e["value"] for e in container.get("environment", [])}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_metrics_land_in_one_workspace_whose_alerts_reach_the_alert_topic(plans, stack):
    plan = plans[stack]
    workspace = plan.one("aws:amp/workspace:Workspace")
    definition = plan.one("aws:amp/alertManagerDefinition:AlertManagerDefinition").inputs["definition"]
    receivers = yaml.safe_load(yaml.safe_load(definition)["alertmanager_config"])["receivers"]
    topic = plan.named(f"{stack}-alerts-topic", "aws:sns/topic:Topic")
    assert receivers[0]["sns_configs"][0]["topic_arn"] == topic.outputs["arn"]
    namespaces = {r.inputs["name"]: r.inputs["data"] for r in plan.of_type("aws:amp/ruleGroupNamespace:RuleGroupNamespace")}
    assert namespaces == files.rule_files(planning.stack_settings(stack, ROOT).slo)
    # The collector writes to that workspace with a role only its service account can assume.
    policies = {r.name: json.loads(r.inputs["policy"]) for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")
                if r.name.startswith(f"{stack}-otel-collector")}
    assert policies[f"{stack}-otel-collector-remote-write"]["Statement"][0]["Resource"] == [workspace.outputs["arn"]]
    assert policies[f"{stack}-otel-collector-xray-write"]["Statement"][0]["Action"] == [
        "xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    role = plan.named(f"{stack}-otel-collector-role", "aws:iam/role:Role")
    trust = json.dumps(json.loads(role.inputs["assumeRolePolicy"]))
    assert f"system:serviceaccount:observability:{stack}-otel-collector" in trust


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_workload_is_told_where_to_send_telemetry(plans, stack):
    plan = plans[stack]
    collector = f"http://{stack}-otel-collector.observability.svc.cluster.local:4318"
    for deployment, service in ((f"{stack}-rag-api-deployment", "rag-api"), (f"{stack}-rag-worker-deployment",
                                "rag-worker"), (f"{stack}-rag-llm-deployment", "rag-llm")):
        env = env_of(plan, deployment)
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == collector, deployment
        assert env["OTEL_SERVICE_NAME"] == f"{stack}-{service}"
        assert env["OTEL_RESOURCE_ATTRIBUTES"].startswith(f"deployment.environment={stack},service.namespace=")
    task = task_env(plan, f"{stack}-tabular-api")
    if stack == "prod":
        nlb = plan.named(f"{stack}-otel-collector-nlb", "kubernetes:core/v1:Service")
        hostname = nlb.outputs["status"]["loadBalancer"]["ingress"][0]["hostname"]
        assert task["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://{hostname}:4318"
    else:  # dev has no NLB (ecsOtlpLoadBalancer=false): the SDK is off instead of retrying localhost
        assert task["OTEL_SDK_DISABLED"] == "true" and "OTEL_EXPORTER_OTLP_ENDPOINT" not in task
        assert plan.of_type("kubernetes:core/v1:Service") and not [
            r for r in plan.of_type("kubernetes:core/v1:Service") if r.inputs["spec"]["type"] == "LoadBalancer"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_scrape_jobs_find_the_pods_the_stack_runs(plans, stack):
    plan = plans[stack]
    jobs = {job["job_name"]: job for job in files.scrape_configs()}
    model = plan.named(f"{stack}-rag-llm-deployment", "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]
    keep = jobs["vllm"]["relabel_configs"][0]
    assert re.fullmatch(keep["regex"], model["metadata"]["labels"]["app.kubernetes.io/name"])
    # The apps job leaves vLLM to its own job: scraped once, not twice.
    drop = jobs["apps"]["relabel_configs"][0]
    assert drop["action"] == "drop" and re.fullmatch(drop["regex"], model["metadata"]["labels"]["app.kubernetes.io/name"])
    assert [p["name"] for p in model["spec"]["containers"][0]["ports"]] == ["http"]
    release = {r.inputs["chart"]: r for r in plan.of_type("kubernetes:helm.sh/v3:Release")}["dcgm-exporter"]
    gpu_pools = [pool for pool in plan.of_type("kubernetes:karpenter.sh/v1:NodePool")
                 if any(t["key"] == "nvidia.com/gpu" for t in pool.inputs["spec"]["template"]["spec"].get("taints", []))]
    assert gpu_pools
    for pool in gpu_pools:  # the exporter lands on every GPU node Karpenter launches
        assert release.inputs["values"]["nodeSelector"].items() <= pool.inputs["spec"]["template"]["metadata"][
            "labels"].items()


def test_grafana_where_the_tier_enables_it(plans):
    assert plans["dev"].of_type("aws:grafana/workspace:Workspace") == []
    prod = plans["prod"]
    assert len(prod.of_type("aws:grafana/workspace:Workspace")) == 1
    assert len(prod.of_type("grafana:oss/dashboard:Dashboard")) == 3
    assert prod.outputs["grafanaUrl"].startswith("https://g-")


def test_cloud_run_alerts_on_the_chat_web_app(plans):
    plan = plans["prod"]
    policies = plan.of_type("gcp:monitoring/alertPolicy:AlertPolicy")
    assert len(policies) == 4
    web = plan.named("prod-chat-web-service", "gcp:cloudrunv2/service:Service")
    queries = [p.inputs["conditions"][0]["conditionPrometheusQueryLanguage"]["query"] for p in policies]
    assert sum(f'service_name="{web.outputs["name"]}"' in query for query in queries) == 3
    assert any(query.endswith(">= 20") for query in queries)  # prod's cloudRunMaxInstances


@pytest.mark.parametrize("deployment", ["rag-api", "rag-worker", "rag-llm"])
def test_scraped_workloads_admit_the_collector(plans, deployment):
    policy = plans["dev"].named(f"dev-{deployment}-netpol", "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    peers = policy.inputs["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}} in peers
    collector = plans["dev"].named("dev-otel-collector-deployment", "kubernetes:apps/v1:Deployment")
    assert collector.inputs["metadata"]["namespace"] == "observability"
