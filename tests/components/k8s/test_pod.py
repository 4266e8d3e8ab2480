"""The secure pod both workload components share (components/k8s/pod.py), checked through each of them."""

import re

import pulumi
import pytest
from pulumi_kubernetes.provider import Provider

from genai_platform.components.k8s.kube_cronjob import KubeCronJob, KubeCronJobArgs
from genai_platform.components.k8s.kube_service import KubeService, KubeServiceArgs
from genai_platform.mockcloud import run_under_mocks

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rag-api:1.4.2"
ROLE_ARN = "arn:aws:iam::123456789012:role/rag-api"
DIGEST = "sha256:" + "0123456789abcdef" * 4
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
NAMESPACE = "kubernetes:core/v1:Namespace"

WORKLOADS = {
    "service": (lambda **kw: KubeService("api", KubeServiceArgs(**{"image": IMAGE, "namespace": "rag", **kw})),
                DEPLOYMENT, ("spec", "template", "spec")),
    "cronjob": (lambda **kw: KubeCronJob("api", KubeCronJobArgs(
        **{"image": IMAGE, "namespace": "rag", "schedule": "0 2 * * *", **kw})),
                CRONJOB, ("spec", "jobTemplate", "spec", "template", "spec")),
}


def pod_spec(plan, kind: str) -> dict:
    _, token, path = WORKLOADS[kind]
    spec = plan.one(token).inputs
    for key in path:
        spec = spec[key]
    return spec


@pytest.fixture(params=list(WORKLOADS))
def kind(request) -> str:
    return request.param


@pytest.fixture
def workload(kind):
    """``plan(**args) -> (plan, pod spec)`` for each workload component."""

    def plan(**kwargs):
        result = run_under_mocks(lambda: WORKLOADS[kind][0](**kwargs))
        return result, pod_spec(result, kind)

    return plan


def test_pod_runs_non_root_read_only_without_capabilities(workload):
    plan, spec = workload()
    assert spec["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = spec["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": True,
        "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
    }
    assert container["image"] == IMAGE
    assert container["imagePullPolicy"] == "IfNotPresent"
    # The read-only root filesystem gets one size-capped scratch directory at /tmp.
    assert spec["volumes"] == [{"name": "scratch-0", "emptyDir": {"sizeLimit": "1024Mi"}}]
    assert container["volumeMounts"] == [{"name": "scratch-0", "mountPath": "/tmp"}]
    assert spec["enableServiceLinks"] is False
    assert spec["serviceAccountName"] == "api"
    assert spec["automountServiceAccountToken"] is False
    assert "tolerations" not in spec and "nodeSelector" not in spec


def test_custom_uid_and_writable_paths(workload):
    _, spec = workload(run_as_user=20000, run_as_group=30000, writable_paths=["/tmp", "/models"],
                       scratch_size_limit_mib=20480)
    assert spec["securityContext"]["runAsUser"] == 20000
    assert spec["securityContext"]["runAsGroup"] == spec["securityContext"]["fsGroup"] == 30000
    assert spec["volumes"] == [{"name": "scratch-0", "emptyDir": {"sizeLimit": "20480Mi"}},
                               {"name": "scratch-1", "emptyDir": {"sizeLimit": "20480Mi"}}]
    assert spec["containers"][0]["volumeMounts"] == [{"name": "scratch-0", "mountPath": "/tmp"},
                                                     {"name": "scratch-1", "mountPath": "/models"}]


def test_requests_and_memory_limit_without_cpu_limit_by_default(workload):
    _, spec = workload()
    assert spec["containers"][0]["resources"] == {"requests": {"cpu": "250m", "memory": "256Mi"},
                                                  "limits": {"memory": "512Mi"}}


def test_explicit_resources_and_cpu_limit(workload):
    _, spec = workload(cpu_request_millicores=500, cpu_limit_millicores=1500, memory_request_mib=1024,
                       memory_limit_mib=1024)
    assert spec["containers"][0]["resources"] == {"requests": {"cpu": "500m", "memory": "1024Mi"},
                                                  "limits": {"cpu": "1500m", "memory": "1024Mi"}}


def test_gpu_adds_limit_toleration_and_gpu_pool_selector(workload):
    _, spec = workload(gpu_count=2, node_selector={"karpenter.sh/capacity-type": "on-demand"})
    assert spec["containers"][0]["resources"]["limits"] == {"memory": "512Mi", "nvidia.com/gpu": "2"}
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["nodeSelector"] == {"karpenter.sh/capacity-type": "on-demand", "nvidia.com/gpu.present": "true"}


def test_gpu_node_selector_is_configurable(workload):
    _, spec = workload(gpu_count=1, gpu_node_selector={"genai-platform/pool": "gpu-l4"})
    assert spec["nodeSelector"] == {"genai-platform/pool": "gpu-l4"}


def test_node_selector_without_gpu_has_no_gpu_bits(workload):
    _, spec = workload(node_selector={"genai-platform/pool": "batch"})
    assert spec["nodeSelector"] == {"genai-platform/pool": "batch"}
    assert "tolerations" not in spec
    assert "nvidia.com/gpu" not in spec["containers"][0]["resources"]["limits"]


def test_env_plain_and_from_secrets_by_name(workload):
    _, spec = workload(command=["python", "-m", "app"], args=["--port", "8080"],
                       env={"LOG_LEVEL": "info", "MAX_TOKENS": "512", "TOKENIZER_NAME": "gpt2",
                            "GOOGLE_APPLICATION_CREDENTIALS": "/var/run/gcp/key.json"},
                       secret_env={"DB_PASSWORD": ("rag-db", "password"), "HF_TOKEN": ("hugging-face", "token")},
                       env_from_secrets=["rag-settings"])
    container = spec["containers"][0]
    assert container["command"] == ["python", "-m", "app"]
    assert container["args"] == ["--port", "8080"]
    assert container["env"] == [
        {"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": "/var/run/gcp/key.json"},
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "MAX_TOKENS", "value": "512"},
        {"name": "TOKENIZER_NAME", "value": "gpt2"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "rag-db", "key": "password"}}},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hugging-face", "key": "token"}}},
    ]
    assert container["envFrom"] == [{"secretRef": {"name": "rag-settings"}}]


def test_dedicated_service_account_without_token_or_role_by_default(workload):
    plan, _ = workload()
    account = plan.one(SERVICE_ACCOUNT).inputs
    assert account["metadata"]["name"] == "api"
    assert account["metadata"]["namespace"] == "rag"
    assert "annotations" not in account["metadata"]
    assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("role_arn", [ROLE_ARN, pulumi.Output.from_input(ROLE_ARN)], ids=["str", "output"])
def test_iam_role_annotates_service_account_for_irsa(workload, role_arn):
    plan, spec = workload(iam_role_arn=role_arn)
    account = plan.one(SERVICE_ACCOUNT).inputs
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE_ARN}
    # IRSA needs no Kubernetes API token: the pod identity webhook projects its own aws-iam-token volume for the
    # annotated ServiceAccount the pod runs as, whatever automountServiceAccountToken says.
    assert spec["serviceAccountName"] == account["metadata"]["name"] == "api"
    assert account["automountServiceAccountToken"] is False
    assert spec["automountServiceAccountToken"] is False


def test_irsa_and_kubernetes_api_access_together_mount_the_token(workload):
    plan, spec = workload(iam_role_arn=ROLE_ARN, kubernetes_api_access=True)
    account = plan.one(SERVICE_ACCOUNT).inputs
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE_ARN}
    assert account["automountServiceAccountToken"] is True and spec["automountServiceAccountToken"] is True


@pytest.mark.parametrize("digest", [DIGEST, pulumi.Output.from_input(DIGEST)], ids=["str", "output"])
def test_image_digest_deploys_the_tagged_image_by_digest(workload, digest):
    _, spec = workload(image_digest=digest)
    assert spec["containers"][0]["image"] == f"{IMAGE}@{DIGEST}"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"image_digest": "sha256:abc"},
     "image_digest='sha256:abc' is not an image digest: use 'sha256:' followed by 64 lower-case hex digits "
     "(docker buildx imagetools inspect <image> prints it)."),
    ({"image": f"{IMAGE}@{DIGEST}", "image_digest": DIGEST},
     f"image='{IMAGE}@{DIGEST}' already carries a digest and image_digest is set: keep one of them."),
])
def test_a_wrong_image_digest_is_refused(kind, overrides, message):
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: WORKLOADS[kind][0](**overrides))
    assert str(error.value) == message


def test_kubernetes_api_access_mounts_token_without_role(workload):
    plan, spec = workload(kubernetes_api_access=True)
    assert spec["automountServiceAccountToken"] is True
    assert plan.one(SERVICE_ACCOUNT).inputs["automountServiceAccountToken"] is True
    assert "annotations" not in plan.one(SERVICE_ACCOUNT).inputs["metadata"]


def test_namespace_is_not_created_by_default(workload):
    plan, _ = workload()
    assert plan.of_type(NAMESPACE) == []


def test_created_namespace_enforces_restricted_pod_security_and_comes_first(workload):
    plan, _ = workload(create_namespace=True)
    namespace = plan.one(NAMESPACE)
    assert namespace.inputs["metadata"]["name"] == "rag"
    labels = namespace.inputs["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    objects = [r for r in plan.resources if r.type.startswith("kubernetes:") and r.type != NAMESPACE]
    assert objects and all(namespace.urn in r.dependencies for r in objects)


def test_every_object_carries_the_standard_labels(workload):
    plan, spec = workload(labels={"team": "ml-platform", "app.kubernetes.io/name": "hijack"}, part_of="rag")
    objects = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert len(objects) >= 3
    for resource in objects:
        labels = resource.inputs["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "api"  # the component's own label wins
        assert labels["app.kubernetes.io/part-of"] == "rag"
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"
        assert labels["team"] == "ml-platform"
        assert resource.parent.endswith("::api")


def test_children_wait_for_what_the_component_depends_on(kind):
    # Pulumi does not pass a component's depends_on on to its children (pulumi/pulumi#8721); the stacks
    # rely on it to create a namespace first, so every object of the workload must carry it itself.
    def program():
        first = KubeService("owner", KubeServiceArgs(image=IMAGE, namespace="rag", create_namespace=True))
        if kind == "service":  # depends_on as a list here, as a single resource for the CronJob
            KubeService("api", KubeServiceArgs(image=IMAGE, namespace="rag"),
                        pulumi.ResourceOptions(depends_on=[first]))
        else:
            KubeCronJob("api", KubeCronJobArgs(image=IMAGE, namespace="rag", schedule="0 2 * * *"),
                        pulumi.ResourceOptions(depends_on=first))

    plan = run_under_mocks(program)
    namespace = plan.one(NAMESPACE)
    children = [r for r in plan.resources if r.type.startswith("kubernetes:") and r.parent.endswith("::api")]
    assert len(children) >= 3
    assert all(namespace.urn in r.dependencies for r in children)


def test_children_use_the_given_kubernetes_provider(kind):
    providers: dict[str, object] = {}

    def record(args: pulumi.ResourceTransformationArgs):
        providers[args.name] = args.opts.provider if args.opts else None

    def program():
        pulumi.runtime.register_stack_transformation(record)
        providers["eks"] = Provider("eks", kubeconfig="{}")
        WORKLOADS[kind][0](provider=providers["eks"])

    plan = run_under_mocks(program)
    children = [r.name for r in plan.resources if r.type.startswith("kubernetes:")]
    assert len(children) >= 3
    assert all(providers[name] is providers["eks"] for name in children)


LATEST_MESSAGE = ("image='ghcr.io/acme/rag:latest' uses the mutable tag 'latest': pin a version tag or a digest "
                  "(@sha256:...) so rollouts are reproducible and nodes never run a stale cached 'latest'.")
LABEL_KEY_RULE = ("use an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', "
                  "starting and ending with a letter or digit.")
LABEL_VALUE_RULE = "use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit."


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"image": ""}, "image='' is not an image reference: use '<registry>/<repository>:<tag>' "
                    "or '<registry>/<repository>@sha256:<digest>'."),
    ({"image": "ghcr.io/acme/rag"}, "image='ghcr.io/acme/rag' has no tag or digest: pin it, e.g. "
     "'ghcr.io/acme/rag:1.0.0' or 'ghcr.io/acme/rag@sha256:<digest>', so every rollout runs the image that was "
     "reviewed."),
    ({"image": "localhost:5000/rag"}, "image='localhost:5000/rag' has no tag or digest: pin it, e.g. "
     "'localhost:5000/rag:1.0.0' or 'localhost:5000/rag@sha256:<digest>', so every rollout runs the image that was "
     "reviewed."),
    ({"image": "ghcr.io/acme/rag:latest"}, LATEST_MESSAGE),
    ({"image": "ghcr.io/acme/rag@sha256:abc"},
     "image='ghcr.io/acme/rag@sha256:abc' has a malformed digest: use '@sha256:' followed by 64 hex digits."),
    ({"image": "ghcr.io/acme/rag:-1"},
     "image='ghcr.io/acme/rag:-1' has an invalid tag '-1': use letters, digits, '_', '.' and '-'."),
    ({"namespace": "ML_Team"}, "namespace='ML_Team' is not a valid Kubernetes name: use at most 63 lower-case "
                               "letters, digits and '-', starting and ending with a letter or digit."),
    ({"cpu_request_millicores": 0},
     "cpu_request_millicores=0 is out of range: use 1 or more millicores (1000 = one vCPU)."),
    ({"cpu_request_millicores": 500, "cpu_limit_millicores": 250},
     "cpu_limit_millicores=250 is below cpu_request_millicores=500: set the limit at or above the request, "
     "or leave it None."),
    ({"memory_request_mib": 0}, "memory_request_mib=0 is out of range: use 1 or more MiB."),
    ({"memory_request_mib": 1024, "memory_limit_mib": 512},
     "memory_limit_mib=512 is below memory_request_mib=1024: set the limit at or above the request."),
    ({"gpu_count": 9}, "gpu_count=9 is out of range: use 0 to 8 GPUs per pod."),
    ({"gpu_count": -1}, "gpu_count=-1 is out of range: use 0 to 8 GPUs per pod."),
    ({"run_as_user": 0}, "run_as_user=0 is out of range: use 1000 to 2147483647 "
                         "(default 10001: never root or a host account)."),
    ({"run_as_group": 999}, "run_as_group=999 is out of range: use 1000 to 2147483647 "
                            "(default 10001: never root or a host account)."),
    ({"iam_role_arn": "rag-api"},
     "iam_role_arn='rag-api' is not an IAM role ARN: use 'arn:aws:iam::<account>:role/<name>'."),
    ({"env": {"1ST": "x"}}, "environment variable name '1ST' is invalid: use letters, digits, '_', '-' and '.', "
                            "not starting with a digit."),
    ({"secret_env": {"DB PASSWORD": ("db", "password")}}, "environment variable name 'DB PASSWORD' is invalid: "
     "use letters, digits, '_', '-' and '.', not starting with a digit."),
    ({"env": {"HF_TOKEN": "hf_abc"}}, "env['HF_TOKEN'] looks like a credential (its name contains 'TOKEN'): "
     "store it in a Kubernetes Secret and pass secret_env={'HF_TOKEN': ('<secret-name>', '<key>')}."),
    ({"env": {"db_password": "hunter2"}}, "env['db_password'] looks like a credential (its name contains "
     "'PASSWORD'): store it in a Kubernetes Secret and pass secret_env={'db_password': ('<secret-name>', '<key>')}."),
    ({"env": {"OPENAI_API_KEY": "sk-x"}}, "env['OPENAI_API_KEY'] looks like a credential (its name contains "
     "'API_KEY'): store it in a Kubernetes Secret and pass secret_env={'OPENAI_API_KEY': ('<secret-name>', '<key>')}."),
    ({"env": {"MODE": "a"}, "secret_env": {"MODE": ("settings", "mode")}},
     "environment variable 'MODE' is in both env and secret_env: set it once."),
    ({"secret_env": {"DB_PASSWORD": ("Rag_DB", "password")}}, "Secret name 'Rag_DB' is invalid: use lower-case "
     "letters, digits, '-' and '.' (the name of an existing Kubernetes Secret, never its value)."),
    ({"env_from_secrets": ["sk-live-abc/def"]}, "Secret name 'sk-live-abc/def' is invalid: use lower-case "
     "letters, digits, '-' and '.' (the name of an existing Kubernetes Secret, never its value)."),
    ({"writable_paths": ["tmp"]}, "writable_paths entry 'tmp' is not an absolute directory: use e.g. '/tmp'."),
    ({"writable_paths": ["/"]}, "writable_paths entry '/' is not an absolute directory: use e.g. '/tmp'."),
    ({"writable_paths": ["/tmp", "/tmp"]},
     "writable_paths=['/tmp', '/tmp'] lists a directory twice: list each once."),
    ({"scratch_size_limit_mib": 0}, "scratch_size_limit_mib=0 is out of range: use 1 or more MiB."),
    ({"labels": {"team name": "ml"}}, f"labels has an invalid label key 'team name': {LABEL_KEY_RULE}"),
    ({"labels": {"Example.com/team": "ml"}}, f"labels has an invalid label key 'Example.com/team': {LABEL_KEY_RULE}"),
    ({"labels": {"team": "ML Ops"}}, f"labels has an invalid label value 'ML Ops' for 'team': {LABEL_VALUE_RULE}"),
    ({"node_selector": {"pool": "-spot"}},
     f"node_selector has an invalid label value '-spot' for 'pool': {LABEL_VALUE_RULE}"),
    ({"gpu_node_selector": {"/gpu": "yes"}}, f"gpu_node_selector has an invalid label key '/gpu': {LABEL_KEY_RULE}"),
    ({"part_of": "GenAI Platform"}, "part_of has an invalid label value 'GenAI Platform' for "
                                    f"'app.kubernetes.io/part-of': {LABEL_VALUE_RULE}"),
])
def test_shared_pod_arguments_are_validated_with_exact_messages(kind, kwargs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        run_under_mocks(lambda: WORKLOADS[kind][0](**kwargs))


@pytest.mark.parametrize("image", [
    "ghcr.io/acme/rag:1.4.2", "localhost:5000/rag:2024.06.01", f"ghcr.io/acme/rag@{DIGEST}",
    f"ghcr.io/acme/rag:1.4.2@{DIGEST}", "python:3.11-slim",
])
def test_pinned_images_are_accepted(image):
    plan = run_under_mocks(lambda: WORKLOADS["service"][0](image=image))
    assert pod_spec(plan, "service")["containers"][0]["image"] == image


@pytest.mark.parametrize(("kind_name", "name", "limit"), [("service", "Rag_API", 63), ("service", "1api", 63),
                                                          ("service", "a" * 64, 63), ("cronjob", "a" * 53, 52)])
def test_object_names_must_be_dns_labels_within_the_kind_limit(kind_name, name, limit):
    factory = {"service": lambda: KubeService(name, KubeServiceArgs(image=IMAGE, namespace="rag")),
               "cronjob": lambda: KubeCronJob(name, KubeCronJobArgs(image=IMAGE, namespace="rag",
                                                                    schedule="@daily"))}[kind_name]
    message = (f"name={name!r} is not a valid Kubernetes object name: use at most {limit} lower-case letters, "
               "digits and '-', starting with a letter and ending with a letter or digit.")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        run_under_mocks(factory)


def test_an_image_output_from_a_repository_is_accepted_and_rendered():
    import pulumi

    from genai_platform.components.k8s import KubeCronJob, KubeCronJobArgs
    from genai_platform.mockcloud import run_under_mocks

    image = pulumi.Output.from_input("123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/scoring:1.2.0")
    plan = run_under_mocks(lambda: KubeCronJob("scoring", KubeCronJobArgs(image=image, namespace="tabular",
                                                                         schedule="0 2 * * *")))
    job = plan.one("kubernetes:batch/v1:CronJob").inputs
    container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/scoring:1.2.0"
