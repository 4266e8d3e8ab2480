"""Every Kubernetes object the workload components declare is valid for the targeted cluster versions,
and genai_platform.k8s_schema (the checker stacks reuse) catches what the API server would reject."""

import re

import pytest

from genai_platform.components.k8s.kube_cronjob import KubeCronJob, KubeCronJobArgs
from genai_platform.components.k8s.kube_service import KubeService, KubeServiceArgs
from genai_platform.k8s_schema import DEFAULT_KUBERNETES_VERSION, manifest_of, supported_versions, \
    validate_manifest, validate_plan_manifests
from genai_platform.mockcloud import Plan, RecordedResource, run_under_mocks

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rag-api:1.4.2"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f6d3c5e-1111-2222-3333-444455556666"
# EKS standard and extended support; unhealthyPodEvictionPolicy (PDB) needs 1.26 or later.
TARGET_VERSIONS = [v for v in supported_versions() if tuple(map(int, v.split("."))) >= (1, 26)]


def everything():
    KubeService("rag-api", KubeServiceArgs(
        image=IMAGE, namespace="rag", create_namespace=True, iam_role_arn="arn:aws:iam::123456789012:role/rag-api",
        env={"LOG_LEVEL": "info"}, secret_env={"DB_PASSWORD": ("rag-db", "password")}, env_from_secrets=["rag-env"],
        command=["uvicorn"], args=["app:api"], cpu_limit_millicores=2000, gpu_count=1,
        node_selector={"karpenter.sh/capacity-type": "on-demand"}, readiness_path="/readyz",
        allow_from_pod_labels=[{"app.kubernetes.io/name": "rag-ui"}], allow_from_namespaces=["monitoring"],
        ingress=True, load_balancer_cidrs=["10.10.0.0/16"], certificate_arn=CERT, ingress_host="rag.example.com",
        ingress_scheme="internet-facing", ingress_group_name="public", tags={"Environment": "prod"},
    ))
    KubeCronJob("ingest", KubeCronJobArgs(
        image=IMAGE, namespace="rag", schedule="*/30 * * * *", time_zone="Europe/Berlin",
        iam_role_arn="arn:aws:iam::123456789012:role/ingest", secret_env={"DB_PASSWORD": ("rag-db", "password")},
        writable_paths=["/tmp", "/cache"], gpu_count=1,
    ))


def defaults():
    KubeService("api", KubeServiceArgs(image=IMAGE, namespace="rag"))
    KubeCronJob("job", KubeCronJobArgs(image=IMAGE, namespace="rag", schedule="@daily"))


@pytest.fixture(scope="module")
def full_plan():
    return run_under_mocks(everything)


def test_every_kubernetes_object_is_checked(full_plan):
    kinds = sorted(m["kind"] for m in map(manifest_of, full_plan.resources) if m)
    assert kinds == sorted(["Namespace", "ServiceAccount", "Deployment", "Service", "HorizontalPodAutoscaler",
                            "PodDisruptionBudget", "NetworkPolicy", "Ingress",
                            "ServiceAccount", "CronJob", "NetworkPolicy"])


@pytest.mark.parametrize("version", TARGET_VERSIONS)
def test_all_options_are_schema_valid(full_plan, version):
    assert validate_plan_manifests(full_plan, version) == []


def test_defaults_are_schema_valid():
    assert validate_plan_manifests(run_under_mocks(defaults), DEFAULT_KUBERNETES_VERSION) == []


def test_versions_before_the_pdb_eviction_policy_are_flagged(full_plan):
    assert validate_plan_manifests(full_plan, "1.25") == [
        "rag-api-pdb (policy/v1 PodDisruptionBudget): spec: Additional properties are not allowed "
        "('unhealthyPodEvictionPolicy' was unexpected)"
    ]


def _resource(token: str, inputs: dict, *, name: str = "x", custom: bool = True) -> RecordedResource:
    return RecordedResource(urn=f"urn:pulumi:test::genai-platform::{token}::{name}", type=token, name=name,
                            parent=None, custom=custom, protect=False, dependencies=[], inputs=inputs)


def _plan(*resources: RecordedResource) -> Plan:
    return Plan(project="genai-platform", stack="test", resources=list(resources), outputs={})


def test_core_group_maps_to_v1_and_named_groups_keep_their_prefix():
    assert manifest_of(_resource("kubernetes:core/v1:ConfigMap", {"data": {"a": "b"}})) == {
        "apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}
    assert manifest_of(_resource("kubernetes:networking.k8s.io/v1:Ingress", {}))["apiVersion"] == "networking.k8s.io/v1"


@pytest.mark.parametrize(("token", "custom"), [
    ("genai:k8s:KubeService", False), ("pulumi:providers:kubernetes", True), ("kubernetes:helm.sh/v3:Release", True),
    ("kubernetes:yaml/v2:ConfigGroup", False), ("kubernetes:apps/v1:DeploymentPatch", True),
    ("kubernetes:core/v1:ConfigMapList", True), ("aws:ec2/vpc:Vpc", True),
])
def test_non_objects_are_skipped(token, custom):
    assert manifest_of(_resource(token, {"spec": {"bogus": 1}}, custom=custom)) is None


def test_unknown_fields_and_wrong_types_are_reported_with_their_path():
    bad = _plan(
        _resource("kubernetes:core/v1:Service", {"metadata": {"name": "a"}, "spec": {"type": "ClusterIP",
                                                                                      "ports": [{"port": "80"}]}},
                  name="wrong-type"),
        _resource("kubernetes:apps/v1:Deployment", {"metadata": {"name": "b"}, "spec": {
            "selector": {"matchLabels": {"a": "b"}}, "replica": 2,
            "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}, name="typo"),
        _resource("kubernetes:core/v1:ConfigMap", {"metadata": {"name": "fine"}, "data": {"k": "v"}}, name="fine"),
    )
    errors = validate_plan_manifests(bad)
    assert len(errors) == 2
    assert errors[0].startswith("wrong-type (v1 Service): spec.ports.0.port: ")
    assert errors[1] == ("typo (apps/v1 Deployment): spec: Additional properties are not allowed "
                         "('replica' was unexpected)")


def test_apis_the_version_no_longer_serves_are_reported():
    removed = _plan(_resource("kubernetes:policy/v1beta1:PodDisruptionBudget",
                              {"metadata": {"name": "old"}, "spec": {"minAvailable": 1}}, name="old-pdb"))
    assert validate_plan_manifests(removed, "1.33") == [
        "old-pdb (policy/v1beta1 PodDisruptionBudget): Kubernetes 1.33 serves no PodDisruptionBudget in policy/v1beta1"
    ]


def test_named_custom_kinds_are_skipped():
    scaled = _resource("kubernetes:keda.sh/v1alpha1:ScaledJob", {"metadata": {"name": "worker"}, "spec": {}},
                       name="scaled")
    assert validate_plan_manifests(_plan(scaled)) == [
        "scaled (keda.sh/v1alpha1 ScaledJob): Kubernetes 1.36 serves no ScaledJob in keda.sh/v1alpha1"]
    assert validate_plan_manifests(_plan(scaled), custom_kinds={"keda.sh/v1alpha1/ScaledJob"}) == []


def test_custom_resources_with_a_vendored_crd_are_checked_against_it():
    pool = _resource("kubernetes:karpenter.sh/v1:NodePool", {"metadata": {"name": "gpu"}, "spec": {}}, name="pool")
    assert validate_plan_manifests(_plan(pool)) == [
        "pool (karpenter.sh/v1 NodePool): spec: 'template' is a required property"]


def test_validate_manifest_returns_none_for_a_valid_object():
    assert validate_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rag"}}) is None


@pytest.mark.parametrize("version", ["1.9", "v1.33", "1.33.2", "2.0"])
def test_unsupported_versions_are_refused(version):
    first, last = supported_versions()[0], supported_versions()[-1]
    message = (f"Kubernetes version {version!r} has no schemas in the installed kubernetes-validate: use one of "
               f"{first} to {last} (major.minor, e.g. '1.36').")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        validate_manifest({"apiVersion": "v1", "kind": "Namespace"}, version)
