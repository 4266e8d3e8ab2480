"""VllmServer: vLLM on the GPU pool through KubeService, weights streamed from S3, no HPA of its own."""

import pulumi
import pytest

from genai_platform.components.k8s.vllm_server import VLLM_IMAGE, VllmServer, VllmServerArgs, startup_budget_seconds
from genai_platform.mockcloud import run_under_mocks

ROLE = "arn:aws:iam::123456789012:role/llm-reader"
URI = "s3://models-bucket/mistralai/Mistral-7B-Instruct-v0.3"


def plan_server(**overrides):
    args = VllmServerArgs(**{"namespace": "rag", "model_uri": URI, "served_model_name": "mistral-7b",
                             "model_size_gib": 15, "iam_role_arn": ROLE, "aws_region": "us-east-1", **overrides})

    def program():
        server = VllmServer("llm", args)
        pulumi.export("base_url", server.base_url)

    return run_under_mocks(program)


def test_a_kube_service_without_hpa_or_pdb_serving_vllm_on_one_gpu():
    plan = plan_server()
    assert plan.type_counts() == {
        "genai:k8s:VllmServer": 1, "genai:k8s:KubeService": 1, "kubernetes:core/v1:ServiceAccount": 1,
        "kubernetes:apps/v1:Deployment": 1, "kubernetes:core/v1:Service": 1,
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": 1,
    }
    assert plan.outputs["base_url"] == "http://llm.rag.svc.cluster.local:80/v1"
    deployment = plan.one("kubernetes:apps/v1:Deployment")
    assert deployment.inputs["spec"]["replicas"] == 0
    pod = deployment.inputs["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["image"] == VLLM_IMAGE and container["command"] == ["vllm", "serve"]
    assert container["args"] == [URI, "--load-format", "runai_streamer", "--served-model-name", "mistral-7b",
                                 "--max-model-len", "8192", "--gpu-memory-utilization", "0.9",
                                 "--tensor-parallel-size", "1", "--port", "8000", "--enable-prefix-caching"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["HF_HUB_OFFLINE"] == "1" and env["AWS_REGION"] == "us-east-1" and env["HOME"] == "/cache"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/tmp", "/cache", "/dev/shm"]
    assert pod["metadata"]["annotations"] == {"karpenter.sh/do-not-disrupt": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["spec"]["tolerations"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


@pytest.mark.parametrize(("size", "budget"), [(1, 260), (15, 540), (70.5, 1650)])
def test_the_startup_budget_follows_the_model_size(size, budget):
    assert startup_budget_seconds(size) == budget
    probe = plan_server(model_size_gib=size).one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"][
        "spec"]["containers"][0]["startupProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] == budget


def test_tensor_parallel_over_two_gpus():
    container = plan_server(tensor_parallel_size=2, gpus_per_replica=2).one("kubernetes:apps/v1:Deployment").inputs[
        "spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert container["args"][container["args"].index("--tensor-parallel-size") + 1] == "2"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"model_size_gib": 0}, "model_size_gib=0 is not a size: pass the weights' size in GiB, e.g. 14.5 for a 7B model "
                            "in bf16."),
    ({"model_size_gib": 200}, "model_size_gib=200 needs a 4240 s startup budget, above the 3600 s a startup probe may "
                              "take: serve a quantised or smaller model."),
    ({"model_uri": "/models/mistral"}, "model_uri='/models/mistral' is not an S3 path: use 's3://<bucket>/<prefix>' "
                                       "(ModelStore.model_uri)."),
    ({"gpu_memory_utilization": 0.99}, "gpu_memory_utilization=0.99 is out of range: use 0.5 to 0.95 (above, CUDA "
                                       "runs out of memory for its own buffers)."),
    ({"tensor_parallel_size": 1, "gpus_per_replica": 2},
     "tensor_parallel_size=1 differs from gpus_per_replica=2: vLLM shards the model over tensor_parallel_size GPUs and "
     "the others idle while billed; set them equal."),
    ({"max_model_len": 100}, "max_model_len=100 is out of range: use 256 to 131072 tokens."),
    ({"served_model_name": "mistral/7b"}, "served_model_name='mistral/7b' is not a model name: use letters, digits, "
                                          "'-', '_' and '.', e.g. 'mistral-7b-instruct'."),
])
def test_invalid_arguments_are_refused(overrides, message):
    with pytest.raises(ValueError) as error:
        plan_server(**overrides)
    assert str(error.value) == message
