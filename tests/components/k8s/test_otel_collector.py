import pytest
import yaml

from genai_platform.components.k8s.otel_collector import ADOT_COLLECTOR_IMAGE, OtelCollector, OtelCollectorArgs
from genai_platform.k8s_schema import validate_plan_manifests
from genai_platform.mockcloud import run_under_mocks

ROLE = "arn:aws:iam::123456789012:role/dev-otel-collector-role"
REMOTE_WRITE = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
SCRAPE = [{"job_name": "cadvisor", "kubernetes_sd_configs": [{"role": "node"}],
           "relabel_configs": [{"source_labels": ["__meta_kubernetes_node_name"], "regex": "(.+)",
                                "target_label": "__metrics_path__",
                                "replacement": "/api/v1/nodes/$1/proxy/metrics/cadvisor"}]}]


def plan_collector(**kwargs):
    args = {"region": "us-east-1", "iam_role_arn": ROLE, "remote_write_url": REMOTE_WRITE, "scrape_configs": SCRAPE,
            "create_namespace": True, **kwargs}
    return run_under_mocks(lambda: OtelCollector("otel", OtelCollectorArgs(**args)))


def container(plan):
    return plan.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]["containers"][0]


def config_of(plan):
    env = {e["name"]: e["value"] for e in container(plan)["env"]}
    assert container(plan)["args"] == ["--config=env:COLLECTOR_CONFIG"]
    return yaml.safe_load(env["COLLECTOR_CONFIG"])


def test_objects_are_valid_and_counted():
    plan = plan_collector(otlp_load_balancer_cidrs=["10.10.0.0/16"])
    assert validate_plan_manifests(plan) == []
    counts = plan.type_counts()
    assert {t: n for t, n in counts.items() if t.startswith("kubernetes:")} == {
        "kubernetes:core/v1:Namespace": 1, "kubernetes:core/v1:ServiceAccount": 1, "kubernetes:apps/v1:Deployment": 1,
        "kubernetes:core/v1:Service": 2, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": 1,
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": 1,
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": 1}
    deployment = plan.one("kubernetes:apps/v1:Deployment").inputs["spec"]
    assert deployment["replicas"] == 1  # two Prometheus receivers would scrape (and bill) every target twice
    assert container(plan)["image"] == ADOT_COLLECTOR_IMAGE
    assert container(plan)["securityContext"]["readOnlyRootFilesystem"] is True
    assert container(plan)["livenessProbe"]["httpGet"] == {"path": "/", "port": "health"}


def test_pipelines_write_metrics_to_amp_and_traces_to_xray():
    config = config_of(plan_collector())
    assert config["service"]["pipelines"] == {
        "metrics": {"receivers": ["prometheus", "otlp"], "processors": ["memory_limiter", "batch"],
                    "exporters": ["prometheusremotewrite"]},
        "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "probabilistic_sampler", "batch"],
                   "exporters": ["awsxray"]}}
    assert config["processors"]["probabilistic_sampler"] == {"sampling_percentage": 10}
    assert config["exporters"]["prometheusremotewrite"]["endpoint"] == REMOTE_WRITE
    assert config["exporters"]["prometheusremotewrite"]["auth"] == {"authenticator": "sigv4auth"}
    assert config["extensions"]["sigv4auth"] == {"region": "us-east-1", "service": "aps"}
    assert config["exporters"]["awsxray"]["region"] == "us-east-1"
    assert config["service"]["extensions"] == ["health_check", "sigv4auth"]


def test_relabel_dollars_are_escaped_for_the_collector():
    job = config_of(plan_collector())["receivers"]["prometheus"]["config"]["scrape_configs"][0]
    assert job["relabel_configs"][0]["replacement"] == "/api/v1/nodes/$$1/proxy/metrics/cadvisor"


def test_identity_and_discovery_rights_are_read_only():
    plan = plan_collector()
    account = plan.one("kubernetes:core/v1:ServiceAccount").inputs
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE}
    rules = plan.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").inputs["rules"]
    assert {verb for rule in rules for verb in rule["verbs"]} == {"get", "list", "watch"}
    # nodes/proxy 'get' would open exec sessions through the kubelet; /metrics needs nodes/metrics only.
    assert "nodes/proxy" not in {resource for rule in rules for resource in rule.get("resources", [])}
    binding = plan.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").inputs
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "otel", "namespace": "observability"}]


def test_no_load_balancer_and_no_scrape_rights_unless_needed():
    plan = plan_collector(scrape_configs=[])
    counts = plan.type_counts()
    assert counts["kubernetes:core/v1:Service"] == 1
    assert "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole" not in counts
    assert plan.one("kubernetes:core/v1:Service").inputs["spec"]["type"] == "ClusterIP"


def test_the_nlb_is_internal_and_admits_the_given_ranges_only():
    plan = plan_collector(otlp_load_balancer_cidrs=["10.10.0.0/16"], tags={"Environment": "staging"})
    balancer = plan.named("otel-nlb", "kubernetes:core/v1:Service").inputs
    annotations = balancer["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags"] == \
        "ManagedBy=pulumi,Platform=genai-platform,Environment=staging"
    assert balancer["spec"]["loadBalancerSourceRanges"] == ["10.10.0.0/16"]
    assert [p["port"] for p in balancer["spec"]["ports"]] == [4317, 4318]
    policy = plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs["spec"]
    assert policy["ingress"] == [{"from": [{"namespaceSelector": {}}, {"ipBlock": {"cidr": "10.10.0.0/16"}}],
                                  "ports": [{"port": 4317, "protocol": "TCP"}, {"port": 4318, "protocol": "TCP"}]}]


def test_endpoints():
    def program():
        collector = OtelCollector("otel", OtelCollectorArgs(region="us-east-1", remote_write_url=REMOTE_WRITE,
                                                            otlp_load_balancer_cidrs=["10.10.0.0/16"]))
        assert collector.otlp_endpoint == "http://otel.observability.svc.cluster.local:4318"
        import pulumi
        pulumi.export("nlb", collector.otlp_load_balancer_endpoint)

    plan = run_under_mocks(program)
    hostname = plan.named("otel-nlb", "kubernetes:core/v1:Service").outputs["status"]["loadBalancer"]["ingress"][0][
        "hostname"]
    assert plan.outputs["nlb"] == f"http://{hostname}:4318"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"remote_write_url": None},
     "scrape_configs are set but remote_write_url=None: pass PrometheusWorkspace.remote_write_url, or drop the "
     "scrape configs."),
    ({"remote_write_url": None, "scrape_configs": [], "xray_traces": False},
     "remote_write_url=None and xray_traces=False export nothing: enable one of them."),
    ({"otlp_load_balancer_cidrs": ["0.0.0.0/0"]},
     "otlp_load_balancer_cidrs entry '0.0.0.0/0' admits every address: load balancers reach pods from their own "
     "subnets, so use the VPC CIDR (or the load balancer subnets' CIDRs)."),
    ({"trace_sampling_percent": 150}, "trace_sampling_percent=150 is out of range: use 0 to 100 percent."),
    ({"scrape_configs": [{"static_configs": []}]},
     "scrape_configs entry {'static_configs': []} has no job_name: every Prometheus scrape config names its job."),
])
def test_validation(kwargs, message):
    args = {"region": "us-east-1", "remote_write_url": REMOTE_WRITE, "scrape_configs": SCRAPE, **kwargs}
    with pytest.raises(ValueError) as error:
        OtelCollector("otel", OtelCollectorArgs(**args))
    assert str(error.value) == message
