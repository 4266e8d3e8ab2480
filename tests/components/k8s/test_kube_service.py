"""KubeService: Deployment, Service, HPA, PDB, NetworkPolicy and the optional ALB Ingress."""

import json
import re

import pulumi
import pytest

from genai_platform.components.k8s.kube_service import KubeService, KubeServiceArgs
from genai_platform.mockcloud import run_under_mocks

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rag-api:1.4.2"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f6d3c5e-1111-2222-3333-444455556666"
VPC_CIDR = "10.10.0.0/16"
ALB = "alb.ingress.kubernetes.io"
SELECTOR = {"app.kubernetes.io/name": "rag-api"}


def plan_service(**kwargs):
    args = KubeServiceArgs(**{"image": IMAGE, "namespace": "rag", **kwargs})

    def program():
        service = KubeService("rag-api", args)
        pulumi.export("cluster_url", service.cluster_url)
        pulumi.export("ingress_hostname", service.ingress_hostname)
        pulumi.export("service_account_name", service.service_account_name)

    return run_under_mocks(program)


def spec_of(plan, token: str) -> dict:
    return plan.one(f"kubernetes:{token}").inputs["spec"]


def test_children_are_exactly_the_serving_set():
    plan = plan_service()
    assert plan.type_counts() == {
        "genai:k8s:KubeService": 1,
        "kubernetes:apps/v1:Deployment": 1,
        "kubernetes:core/v1:Service": 1,
        "kubernetes:core/v1:ServiceAccount": 1,
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 1,
        "kubernetes:policy/v1:PodDisruptionBudget": 1,
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": 1,
    }
    for resource in plan.resources:
        if resource.type.startswith("kubernetes:"):
            assert resource.parent.endswith("genai:k8s:KubeService::rag-api")
            assert resource.inputs["metadata"]["name"] == "rag-api"
            assert resource.inputs["metadata"]["namespace"] == "rag"
    assert plan.outputs["cluster_url"] == "http://rag-api.rag.svc.cluster.local:80"
    assert plan.outputs["service_account_name"] == "rag-api"
    assert plan.outputs.get("ingress_hostname") is None  # None exports are dropped


def test_deployment_leaves_replicas_to_the_hpa_and_rolls_without_downtime():
    spec = spec_of(plan_service(), "apps/v1:Deployment")
    assert "replicas" not in spec
    assert spec["selector"] == {"matchLabels": SELECTOR}
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Always"
    assert pod["topologySpreadConstraints"] == [{
        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": SELECTOR},
    }]
    assert spec["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "server"


def test_probes_default_to_the_health_path_with_a_startup_budget():
    container = spec_of(plan_service(), "apps/v1:Deployment")["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    http = {"path": "/healthz", "port": "http"}
    assert container["startupProbe"] == {"httpGet": http, "periodSeconds": 5, "timeoutSeconds": 2,
                                         "failureThreshold": 24}  # 120 s / 5 s
    assert container["livenessProbe"] == {"httpGet": http, "periodSeconds": 10, "timeoutSeconds": 2,
                                          "failureThreshold": 3}
    assert container["readinessProbe"] == {"httpGet": http, "periodSeconds": 5, "timeoutSeconds": 2,
                                           "failureThreshold": 3}


def test_probe_paths_port_and_startup_timeout_are_arguments():
    container = spec_of(plan_service(container_port=9000, health_check_path="/livez", readiness_path="/readyz",
                                     startup_timeout_seconds=601), "apps/v1:Deployment")["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == 9000
    assert container["startupProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert container["startupProbe"]["failureThreshold"] == 121  # rounded up: never less than asked
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_cluster_ip_service_targets_the_named_port():
    plan = plan_service(service_port=8000)
    assert spec_of(plan, "core/v1:Service") == {
        "type": "ClusterIP", "selector": SELECTOR,
        "ports": [{"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}],
    }
    assert plan.outputs["cluster_url"] == "http://rag-api.rag.svc.cluster.local:8000"


def test_hpa_scales_the_deployment_on_cpu_between_min_and_max():
    spec = spec_of(plan_service(min_replicas=3, max_replicas=10, cpu_target_utilization_percent=60),
                   "autoscaling/v2:HorizontalPodAutoscaler")
    assert spec == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rag-api"},
        "minReplicas": 3, "maxReplicas": 10,
        "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}],
    }


@pytest.mark.parametrize(("kwargs", "min_available"), [
    ({}, 1),                                     # default 2 replicas: drains go one pod at a time
    ({"min_replicas": 4, "max_replicas": 8}, 3),
    ({"min_replicas": 4, "max_replicas": 8, "pdb_min_available": 2}, 2),
])
def test_pdb_keeps_all_but_one_pod_by_default(kwargs, min_available):
    spec = spec_of(plan_service(**kwargs), "policy/v1:PodDisruptionBudget")
    assert spec == {"minAvailable": min_available, "selector": {"matchLabels": SELECTOR},
                    "unhealthyPodEvictionPolicy": "AlwaysAllow"}


def test_a_single_replica_gets_no_disruption_budget_that_would_protect_nothing():
    plan = plan_service(min_replicas=1, max_replicas=3)
    assert plan.of_type("kubernetes:policy/v1:PodDisruptionBudget") == []
    assert len(plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")) == 1


def test_network_policy_admits_only_the_namespace_on_the_app_port_and_leaves_egress_open():
    spec = spec_of(plan_service(), "networking.k8s.io/v1:NetworkPolicy")
    assert spec == {
        "podSelector": {"matchLabels": SELECTOR},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 8080, "protocol": "TCP"}]}],
    }


def test_network_policy_narrows_to_named_pods_and_namespaces():
    spec = spec_of(plan_service(allow_from_pod_labels=[{"app.kubernetes.io/name": "rag-ui"}],
                                allow_from_namespaces=["monitoring"]), "networking.k8s.io/v1:NetworkPolicy")
    assert spec["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rag-ui"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
    ]


def test_network_policy_admits_the_alb_subnets_with_an_ingress():
    spec = spec_of(plan_service(ingress=True, load_balancer_cidrs=[VPC_CIDR]), "networking.k8s.io/v1:NetworkPolicy")
    assert spec["ingress"][0]["from"] == [{"podSelector": {}}, {"ipBlock": {"cidr": VPC_CIDR}}]


def test_internal_http_ingress_without_certificate():
    plan = plan_service(ingress=True, load_balancer_cidrs=[VPC_CIDR], readiness_path="/readyz",
                        tags={"Environment": "dev"})
    ingress = plan.one("kubernetes:networking.k8s.io/v1:Ingress").inputs
    assert ingress["spec"] == {"ingressClassName": "alb", "rules": [{"http": {"paths": [{
        "path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "rag-api", "port": {"name": "http"}}},
    }]}}]}
    assert ingress["metadata"]["annotations"] == {
        f"{ALB}/scheme": "internal",
        f"{ALB}/target-type": "ip",
        f"{ALB}/healthcheck-path": "/readyz",
        f"{ALB}/listen-ports": '[{"HTTP": 80}]',
        f"{ALB}/load-balancer-attributes": "routing.http.drop_invalid_header_fields.enabled=true",
        f"{ALB}/tags": "ManagedBy=pulumi,Platform=genai-platform,Environment=dev",
    }
    hostname = plan.outputs["ingress_hostname"]
    assert re.fullmatch(r"internal-k8s-rag-rag-api-[0-9a-f]{10}-\d{10}\.us-east-1\.elb\.amazonaws\.com", hostname)


def test_https_ingress_with_certificate_redirects_http_and_pins_tls12():
    plan = plan_service(ingress=True, load_balancer_cidrs=[VPC_CIDR], certificate_arn=CERT,
                        ingress_scheme="internet-facing", ingress_host="rag.example.com", ingress_group_name="public")
    ingress = plan.one("kubernetes:networking.k8s.io/v1:Ingress").inputs
    annotations = ingress["metadata"]["annotations"]
    assert annotations[f"{ALB}/scheme"] == "internet-facing"
    assert json.loads(annotations[f"{ALB}/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations[f"{ALB}/certificate-arn"] == CERT
    assert annotations[f"{ALB}/ssl-redirect"] == "443"
    assert annotations[f"{ALB}/ssl-policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert annotations[f"{ALB}/group.name"] == "public"
    assert annotations[f"{ALB}/healthcheck-path"] == "/healthz"
    assert ingress["spec"]["rules"][0]["host"] == "rag.example.com"
    assert re.fullmatch(r"k8s-public-[0-9a-f]{10}-\d{10}\.us-east-1\.elb\.amazonaws\.com",
                        plan.outputs["ingress_hostname"])


def test_certificate_arn_may_be_an_output():
    plan = plan_service(ingress=True, load_balancer_cidrs=[VPC_CIDR], certificate_arn=pulumi.Output.from_input(CERT))
    annotations = plan.one("kubernetes:networking.k8s.io/v1:Ingress").inputs["metadata"]["annotations"]
    assert annotations[f"{ALB}/certificate-arn"] == CERT


PDB_DRAIN = "node drains and cluster upgrades would block whenever the service runs at its minimum"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"container_port": 80}, "container_port=80 is out of range: use 1024 to 65535 (the container has no "
                             "capabilities, so it cannot bind a privileged port)."),
    ({"service_port": 0}, "service_port=0 is out of range: use 1 to 65535."),
    ({"health_check_path": "healthz"},
     "health_check_path='healthz' is not an HTTP path: start it with '/', e.g. '/healthz'."),
    ({"readiness_path": "ready"}, "readiness_path='ready' is not an HTTP path: start it with '/', e.g. '/healthz'."),
    ({"startup_timeout_seconds": 5}, "startup_timeout_seconds=5 is out of range: use 10 to 3600 seconds."),
    ({"min_replicas": -1}, "min_replicas=-1 is out of range: use 0 or more replicas."),
    ({"min_replicas": 0, "pdb_min_available": 0}, "pdb_min_available=0 with min_replicas=0: a parked service has no "
                                                  "disruption budget; leave pdb_min_available unset."),
    ({"min_replicas": 3, "max_replicas": 2},
     "max_replicas=2 is below min_replicas=3: set max_replicas to at least min_replicas."),
    ({"cpu_target_utilization_percent": 0}, "cpu_target_utilization_percent=0 is out of range: use 1 to 100 percent."),
    ({"cpu_target_utilization_percent": 101},
     "cpu_target_utilization_percent=101 is out of range: use 1 to 100 percent."),
    ({"pdb_min_available": 2}, f"pdb_min_available=2 is not below min_replicas=2: {PDB_DRAIN}; use 1."),
    ({"min_replicas": 3, "max_replicas": 6, "pdb_min_available": 5},
     f"pdb_min_available=5 is not below min_replicas=3: {PDB_DRAIN}; use 1 to 2."),
    ({"min_replicas": 1, "pdb_min_available": 1}, f"pdb_min_available=1 is not below min_replicas=1: {PDB_DRAIN}; use 0."),
    ({"pdb_min_available": 0}, "pdb_min_available=0 with min_replicas=2 lets a node drain evict every pod at once: "
                               "use 1."),
    ({"min_replicas": 4, "pdb_min_available": -1}, "pdb_min_available=-1 with min_replicas=4 lets a node drain evict "
                                                   "every pod at once: use 1 to 3."),
    ({"allow_from_pod_labels": [{"app": "rag ui"}]}, "allow_from_pod_labels has an invalid label value 'rag ui' for "
     "'app': use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit."),
    ({"allow_from_namespaces": ["Monitoring"]}, "allow_from_namespaces entry='Monitoring' is not a valid Kubernetes "
     "name: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit."),
    ({"ingress_scheme": "public"}, "ingress_scheme='public' is not an ALB scheme: use 'internal' or 'internet-facing'."),
    ({"certificate_arn": CERT}, "certificate_arn is set but ingress=False: set ingress=True or drop certificate_arn."),
    ({"ingress_host": "rag.example.com"},
     "ingress_host is set but ingress=False: set ingress=True or drop ingress_host."),
    ({"load_balancer_cidrs": [VPC_CIDR]},
     "load_balancer_cidrs is set but ingress=False: set ingress=True or drop load_balancer_cidrs."),
    ({"ingress_scheme": "internet-facing"},
     "ingress_scheme is set but ingress=False: set ingress=True or drop ingress_scheme."),
    ({"ingress": True}, "ingress=True needs load_balancer_cidrs: the ALB calls pod IPs from its subnets and the "
                        "NetworkPolicy must admit them; pass the VPC CIDR."),
    ({"ingress": True, "load_balancer_cidrs": ["10.10.0.1/16"]},
     "load_balancer_cidrs entry '10.10.0.1/16' is not a CIDR block: use e.g. '10.10.0.0/16'."),
    ({"ingress": True, "load_balancer_cidrs": ["0.0.0.0/0"]},
     "load_balancer_cidrs entry '0.0.0.0/0' admits every address: load balancers reach pods from their own "
     "subnets, so use the VPC CIDR (or the load balancer subnets' CIDRs)."),
    ({"ingress": True, "load_balancer_cidrs": [VPC_CIDR], "ingress_scheme": "internet-facing"},
     "ingress_scheme='internet-facing' without certificate_arn would serve plain HTTP to the internet: "
     "pass an ACM certificate_arn."),
    ({"ingress": True, "load_balancer_cidrs": [VPC_CIDR], "certificate_arn": "arn:aws:iam::123456789012:role/x"},
     "certificate_arn='arn:aws:iam::123456789012:role/x' is not an ACM certificate ARN: "
     "use 'arn:aws:acm:<region>:<account>:certificate/<id>'."),
    ({"ingress": True, "load_balancer_cidrs": [VPC_CIDR], "ingress_host": "https://rag.example.com"},
     "ingress_host='https://rag.example.com' is not a host name: use a lower-case DNS name like "
     "'rag.internal.example.com' (a leading '*.' is allowed)."),
    ({"ingress": True, "load_balancer_cidrs": [VPC_CIDR], "ingress_group_name": "Public_ALB"},
     "ingress_group_name='Public_ALB' is invalid: use at most 63 lower-case letters, digits, '-' and '.', "
     "starting and ending with a letter or digit."),
    ({"ingress": True, "load_balancer_cidrs": [VPC_CIDR], "tags": {"Owner": "ml,platform"}},
     "tags entry 'Owner': 'ml,platform' contains ',' or '=', which the ALB tags annotation cannot carry: "
     "remove them."),
])
def test_service_arguments_are_validated_with_exact_messages(kwargs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        plan_service(**kwargs)


def test_wildcard_host_is_accepted():
    plan = plan_service(ingress=True, load_balancer_cidrs=[VPC_CIDR], ingress_host="*.rag.example.com")
    assert plan.one("kubernetes:networking.k8s.io/v1:Ingress").inputs["spec"]["rules"][0]["host"] == "*.rag.example.com"


def test_min_replicas_zero_parks_the_service_at_zero_pods():
    plan = plan_service(min_replicas=0, max_replicas=2, gpu_count=1)
    assert plan.type_counts() == {
        "genai:k8s:KubeService": 1,
        "kubernetes:apps/v1:Deployment": 1,
        "kubernetes:core/v1:Service": 1,
        "kubernetes:core/v1:ServiceAccount": 1,
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": 1,
    }
    assert spec_of(plan, "apps/v1:Deployment")["replicas"] == 0
    assert "replicas" not in spec_of(plan_service(), "apps/v1:Deployment")


@pytest.mark.parametrize("min_replicas", [0, 1])
def test_an_external_autoscaler_owns_the_count_from_min_replicas_on(min_replicas):
    plan = plan_service(min_replicas=min_replicas, external_autoscaler=True,
                        pod_annotations={"karpenter.sh/do-not-disrupt": "true"})
    assert not plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert not plan.of_type("kubernetes:policy/v1:PodDisruptionBudget")
    deployment = plan.one("kubernetes:apps/v1:Deployment").inputs
    assert deployment["spec"]["replicas"] == min_replicas
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"karpenter.sh/do-not-disrupt": "true"}
    assert "annotations" not in deployment["metadata"]


def test_pod_annotation_keys_are_checked():
    with pytest.raises(ValueError) as error:
        plan_service(pod_annotations={"not a key": "x"})
    assert str(error.value).startswith("pod_annotations has an invalid label key 'not a key'")
