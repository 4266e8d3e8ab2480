"""LLM serving as a graph: who calls which model with which identity, where the weights come from and who may read
them, what scales the workloads, and how uploads reach the ingest queue. Each connection is asserted from both ends."""

import json

import pytest

from genai_platform.components.gcp.cloud_run import GPU_REGIONS
from genai_platform.components.k8s.keda_crds import CRDS
from genai_platform.components.k8s.vllm_server import VLLM_IMAGE
from genai_platform import cost
from genai_platform.cost.prices import load_prices
from genai_platform.crd_schema import has_vendored_schema, validate_custom_resource
from genai_platform.k8s_schema import manifest_of
from genai_platform.mockcloud import Plan

STACKS = ("dev", "staging", "prod")
RUN = "gcp:cloudrunv2/service:Service"
INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
GCS = "gcp:storage/bucket:Bucket"
GCS_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
ACCOUNT = "gcp:serviceaccount/account:Account"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
TRIGGER_AUTH = "kubernetes:keda.sh/v1alpha1:TriggerAuthentication"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"



def env_of(deployment) -> dict[str, str]:
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    return {item["name"]: item.get("value") for item in container["env"]}


def statements(policy_json: str) -> list[dict]:
    return json.loads(policy_json)["Statement"]


def policies_of_role(plan: Plan, role) -> list[dict]:
    return [s for p in plan.of_type(ROLE_POLICY) if p.inputs["role"] == role.id for s in statements(p.inputs["policy"])]


# ------------------------------------------------------------------------------------------------------------ chat


@pytest.mark.parametrize("stack", STACKS)
def test_the_web_app_calls_the_model_service_by_its_url_and_only_it_may(plans, stack):
    plan = plans[stack]
    web, model = plan.named(f"{stack}-chat-web-service", RUN), plan.named(f"{stack}-chat-model-service", RUN)
    web_env = {e["name"]: e.get("value") for e in web.inputs["template"]["containers"][0]["envs"]}
    assert web_env["MODEL_URL"] == model.outputs["uri"]
    web_account = plan.named(f"{stack}-chat-web-sa", ACCOUNT)
    assert web.inputs["template"]["serviceAccount"] == web_account.outputs["email"]
    # Exactly one principal may invoke the model: the web app (the other binding lets the uptime check reach the web).
    (binding,) = [b for b in plan.of_type(INVOKER) if b.inputs["name"] == model.outputs["name"]]
    assert (binding.inputs["name"], binding.inputs["location"], binding.inputs["role"], binding.inputs["member"]) == (
        model.outputs["name"], model.inputs["location"], "roles/run.invoker", web_account.outputs["member"])
    assert binding.parent.endswith(f"genai:gcp:CloudRunService::{stack}-chat-model")


@pytest.mark.parametrize(("stack", "min_instances", "zonal_redundancy_off"),
                         [("dev", 0, True), ("staging", 0, True), ("prod", 1, False)])
def test_the_model_service_runs_on_an_l4_under_cloud_runs_gpu_rules(plans, stack, min_instances, zonal_redundancy_off):
    template = plans[stack].named(f"{stack}-chat-model-service", RUN).inputs["template"]
    resources = template["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    assert resources["cpuIdle"] is False
    assert template["nodeSelector"] == {"accelerator": "nvidia-l4"}
    assert template["gpuZonalRedundancyDisabled"] is zonal_redundancy_off
    assert template["scaling"]["minInstanceCount"] == min_instances
    assert plans[stack].named(f"{stack}-chat-model-service", RUN).inputs["location"] in GPU_REGIONS["nvidia-l4"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_model_weights_bucket_is_private_and_readable_only_by_the_models_account(plans, stack):
    plan = plans[stack]
    bucket = plan.one(GCS)
    assert (bucket.inputs["uniformBucketLevelAccess"], bucket.inputs["publicAccessPrevention"],
            bucket.inputs["versioning"]) == (True, "enforced", {"enabled": True})
    assert bucket.inputs["encryption"]["defaultKmsKeyName"] == plan.named(
        f"{stack}-chat-keys-models", "gcp:kms/cryptoKey:CryptoKey").id
    assert bucket.protect is (stack != "dev")
    (reader,) = plan.of_type(GCS_MEMBER)
    model_account = plan.named(f"{stack}-chat-model-sa", ACCOUNT)
    assert (reader.inputs["bucket"], reader.inputs["role"], reader.inputs["member"]) == (
        bucket.outputs["name"], "roles/storage.objectViewer", model_account.outputs["member"])
    # The model mounts that bucket read-only, and its first revision waits for the grant.
    model = plan.named(f"{stack}-chat-model-service", RUN)
    template = model.inputs["template"]
    assert template["volumes"] == [{"name": "weights", "gcs": {"bucket": bucket.outputs["name"], "readOnly": True}}]
    assert template["containers"][0]["volumeMounts"] == [{"name": "weights", "mountPath": "/models"}]
    assert template["executionEnvironment"] == "EXECUTION_ENVIRONMENT_GEN2"
    assert reader.urn in model.dependencies


# ------------------------------------------------------------------------------------------------------------- rag


@pytest.mark.parametrize("stack", STACKS)
def test_the_rag_api_calls_the_vllm_service_in_cluster_and_only_rag_pods_may(plans, stack):
    plan = plans[stack]
    service = plan.named(f"{stack}-rag-llm-service", SERVICE).inputs
    (port,) = service["spec"]["ports"]
    dns = f"http://{service['metadata']['name']}.{service['metadata']['namespace']}.svc.cluster.local:{port['port']}"
    api_env = env_of(plan.named(f"{stack}-rag-api-deployment", DEPLOYMENT))
    assert api_env["LLM_BASE_URL"] == f"{dns}/v1"
    assert api_env["LLM_MODEL"] == "mistral-7b-instruct-v0.3"
    policy = plan.named(f"{stack}-rag-llm-netpol", "kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs
    assert policy["metadata"]["namespace"] == "rag"
    assert policy["spec"]["podSelector"] == {"matchLabels": service["spec"]["selector"]}
    # Only the rag namespace's pods call it; the observability collector may scrape /metrics (what KEDA scales on).
    assert policy["spec"]["ingress"] == [{"from": [
        {"podSelector": {}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}},
    ], "ports": [{"port": 8000, "protocol": "TCP"}]}]
    assert policy["spec"]["policyTypes"] == ["Ingress"]


@pytest.mark.parametrize("stack", STACKS)
def test_vllm_streams_its_weights_from_the_model_store_with_a_read_only_role(plans, stack):
    plan = plans[stack]
    pod = plan.named(f"{stack}-rag-llm-deployment", DEPLOYMENT).inputs["spec"]["template"]
    container = pod["spec"]["containers"][0]
    bucket = plan.named(f"{stack}-rag-models-weights-bucket", "aws:s3/bucket:Bucket")
    assert container["image"] == VLLM_IMAGE and container["command"] == ["vllm", "serve"]
    assert container["args"][:3] == [f"s3://{bucket.outputs['bucket']}/mistralai/Mistral-7B-Instruct-v0.3",
                                     "--load-format", "runai_streamer"]
    args = dict(zip(container["args"][3::2], container["args"][4::2]))
    assert {key: args[key] for key in ("--max-model-len", "--gpu-memory-utilization", "--tensor-parallel-size")} == {
        "--max-model-len": "8192", "--gpu-memory-utilization": "0.9", "--tensor-parallel-size": "1"}
    assert pod["metadata"]["annotations"] == {"karpenter.sh/do-not-disrupt": "true"}
    # One g6.xlarge (4 vCPU, 16 GiB, one L4) holds the pod; the startup probe allows 240 s + 20 s per GiB of 15 GiB.
    assert container["resources"] == {"requests": {"cpu": "3000m", "memory": "10240Mi"},
                                      "limits": {"memory": "12288Mi", "nvidia.com/gpu": "1"}}
    assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] == 540
    assert container["startupProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    # The service account's role is the model store's reader, which reads that bucket and nothing else.
    account = plan.named(f"{stack}-rag-llm-sa", "kubernetes:core/v1:ServiceAccount").inputs
    reader = plan.named(f"{stack}-rag-models-reader-role", ROLE)
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": reader.outputs["arn"]}
    trust = statements(reader.inputs["assumeRolePolicy"])[0]["Condition"]["StringEquals"]
    assert {v for k, v in trust.items() if k.endswith(":sub")} == {f"system:serviceaccount:rag:{stack}-rag-llm"}
    key = plan.named(f"{stack}-rag-models-weights-key", "aws:kms/key:Key")
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in policies_of_role(plan, reader)] == [
        ("Allow", ["s3:ListBucket"], [bucket.outputs["arn"]]),
        ("Allow", ["s3:GetObject"], [f"{bucket.outputs['arn']}/*"]),
        ("Allow", ["kms:Decrypt"], [key.outputs["arn"]]),
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_uploads_under_incoming_reach_the_ingest_queue_and_only_from_the_documents_bucket(plans, stack):
    plan = plans[stack]
    documents = plan.named(f"{stack}-rag-documents-bucket", "aws:s3/bucket:Bucket")
    queue = plan.named(f"{stack}-rag-ingest-queue", "aws:sqs/queue:Queue")
    notification = plan.one("aws:s3/bucketNotification:BucketNotification")
    assert notification.inputs["bucket"] == documents.outputs["bucket"]
    (target,) = notification.inputs["queues"]
    assert (target["queueArn"], target["events"], target["filterPrefix"]) == (
        queue.outputs["arn"], ["s3:ObjectCreated:*"], "incoming/")
    queue_policy = plan.named(f"{stack}-rag-ingest-queue-policy", "aws:sqs/queuePolicy:QueuePolicy")
    assert queue_policy.urn in notification.dependencies  # S3 tests its access when the notification is created
    allows = [s for s in statements(queue_policy.inputs["policy"]) if s["Effect"] == "Allow"]
    assert allows == [{
        "Sid": "S3EventNotifications", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": queue.outputs["arn"],
        "Condition": {"ArnEquals": {"aws:SourceArn": [documents.outputs["arn"]]},
                      "StringEquals": {"aws:SourceAccount": "123456789012"}},
    }]
    dlq_policy = plan.named(f"{stack}-rag-ingest-dlq-policy", "aws:sqs/queuePolicy:QueuePolicy")
    assert [s["Effect"] for s in statements(dlq_policy.inputs["policy"])] == ["Deny"]
    # The API still sends for re-embedding.
    api_role = plan.named(f"{stack}-rag-api-role", ROLE)
    assert any("sqs:SendMessage" in s["Action"] and s["Resource"] == [queue.outputs["arn"]]
               for s in policies_of_role(plan, api_role))


# ------------------------------------------------------------------------------------------------------------ KEDA


@pytest.mark.parametrize(("stack", "idles", "window"), [("dev", True, False), ("staging", True, True),
                                                     ("prod", False, False)])
def test_keda_scales_vllm_on_its_waiting_requests_in_the_environments_prometheus(plans, stack, idles, window):
    plan = plans[stack]
    spec = plan.named(f"{stack}-rag-llm-scaled-object", SCALED_OBJECT).inputs["spec"]
    workspace = plan.one("aws:amp/workspace:Workspace")
    prometheus = spec["triggers"][0]
    assert prometheus == {"type": "prometheus", "authenticationRef": {"name": f"{stack}-rag-llm"}, "metadata": {
        "serverAddress": workspace.outputs["prometheusEndpoint"].rstrip("/"),
        "query": f'sum(vllm:num_requests_waiting{{namespace="rag",pod=~"{stack}-rag-llm-.*"}})',
        "threshold": "4", "awsRegion": "us-east-1"}}
    # SigV4 with the KEDA operator's own role.
    auth = plan.named(f"{stack}-rag-llm-auth", TRIGGER_AUTH).inputs["spec"]
    assert auth == {"podIdentity": {"provider": "aws", "identityOwner": "keda"}}
    # No pods, no metric: staging's awake-hours window wakes one replica; dev's GPU stays at zero until woken.
    assert spec["minReplicaCount"] == (0 if idles else 1)
    assert [t["type"] for t in spec["triggers"][1:]] == (["cron"] if window else [])
    if window:
        assert spec["triggers"][1]["metadata"] == {"timezone": "UTC", "start": "0 8 * * 1-5", "end": "0 19 * * 1-5",
                                                   "desiredReplicas": "1"}



@pytest.mark.parametrize("stack", STACKS)
def test_keda_scales_the_worker_on_queue_depth_to_zero_as_its_own_least_privilege_role(plans, stack):
    plan = plans[stack]
    release = next(r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "keda")
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["repositoryOpts"],
            release.inputs["namespace"]) == ("keda", CRDS.version, {"repo": "https://kedacore.github.io/charts"}, "keda")
    operator = plan.named(f"{stack}-keda-operator", ROLE)
    assert release.inputs["values"]["podIdentity"]["aws"]["irsa"] == {"enabled": True, "roleArn": operator.outputs["arn"]}
    trust = statements(operator.inputs["assumeRolePolicy"])[0]["Condition"]["StringEquals"]
    assert {v for k, v in trust.items() if k.endswith(":sub")} == {"system:serviceaccount:keda:keda-operator"}
    queue = plan.named(f"{stack}-rag-ingest-queue", "aws:sqs/queue:Queue")
    workspace = plan.one("aws:amp/workspace:Workspace")
    assert policies_of_role(plan, operator) == [
        {"Sid": "ReadQueueDepth", "Effect": "Allow", "Action": ["sqs:GetQueueAttributes"],
         "Resource": [queue.outputs["arn"]]},
        {"Sid": "QueryMetrics", "Effect": "Allow", "Action": ["aps:QueryMetrics"], "Resource": [workspace.outputs["arn"]]},
    ]

    scaled = plan.named(f"{stack}-rag-worker-scaled-object", SCALED_OBJECT)
    spec = scaled.inputs["spec"]
    assert spec["scaleTargetRef"]["name"] == f"{stack}-rag-worker" and spec["minReplicaCount"] == 0
    (trigger,) = spec["triggers"]
    assert trigger == {"type": "aws-sqs-queue", "authenticationRef": {"name": f"{stack}-rag-worker"},
                       "metadata": {"queueURL": queue.outputs["url"], "queueLength": "5", "awsRegion": "us-east-1"}}
    auth = plan.named(f"{stack}-rag-worker-auth", TRIGGER_AUTH).inputs
    assert auth["metadata"]["name"] == f"{stack}-rag-worker" and auth["metadata"]["namespace"] == "rag"
    assert auth["spec"] == {"podIdentity": {"provider": "aws", "identityOwner": "keda"}}
    # KEDA runs the worker's HPA: the Deployment starts at zero and has none of its own.
    assert plan.named(f"{stack}-rag-worker-deployment", DEPLOYMENT).inputs["spec"]["replicas"] == 0
    assert not any(h.name == f"{stack}-rag-worker-hpa" for h in plan.of_type(
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"))
    # ScaledObjects are created after the release that installs their CRDs.
    assert release.urn in scaled.dependencies
    assert release.urn in plan.named(f"{stack}-rag-llm-scaled-object", SCALED_OBJECT).dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_keda_objects_are_checked_against_the_vendored_crd_schemas(plans, stack):
    objects = plans[stack].of_type(SCALED_OBJECT) + plans[stack].of_type(TRIGGER_AUTH)
    assert len(objects) == 4  # worker and LLM ScaledObjects and their TriggerAuthentications
    for resource in objects:
        manifest = manifest_of(resource)
        assert has_vendored_schema(manifest) and validate_custom_resource(manifest) is None


def test_the_eks_chat_model_and_its_ingress_are_gone(plans):
    for stack, plan in plans.items():
        assert not [r.name for r in plan.resources if r.name.startswith(f"{stack}-chat-model-")
                    and r.type.startswith("kubernetes:")]
        assert len(plan.of_type("kubernetes:networking.k8s.io/v1:Ingress")) == 1  # the RAG API's


def test_the_l4_model_service_is_priced_per_tier(plans):
    prices = load_prices()["cloud_run"]
    for stack, plan in plans.items():
        estimate = cost.estimate(plan)
        priced = {item["urn"].rsplit("::", 1)[-1]: item["monthly"] for item in estimate.items}
        usage = {item["urn"].rsplit("::", 1)[-1]: item["basis"] for item in estimate.usage_based}
        if stack != "prod":  # scales to zero: only request time is billed
            assert f"{stack}-chat-model-service" not in priced
            assert usage[f"{stack}-chat-model-service"].startswith("scales to zero")
            continue
        seconds = 730 * 3600
        instance = seconds * (4 * prices["instance_based"]["vcpu_second"] + 16 * prices["instance_based"]["gib_second"])
        gpu = seconds * prices["gpu_second_zonal_redundancy"]["nvidia-l4"]  # prod keeps zonal redundancy
        assert priced[f"{stack}-chat-model-service"] == pytest.approx(instance + gpu, abs=0.01)
