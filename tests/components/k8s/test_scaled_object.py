"""ScaledObject (KEDA) and its triggers, validated against the vendored CRD schemas of the pinned release."""

import hashlib

import pytest

from genai_platform.components.k8s.keda_crds import CRDS
from genai_platform.components.k8s.scaled_object import (ScaledObject, ScaledObjectArgs, cpu_trigger, cron_trigger,
                                          prometheus_trigger, sqs_queue_trigger)
from genai_platform.crd_schema import validate_custom_resource
from genai_platform.k8s_schema import manifest_of
from genai_platform.mockcloud import run_under_mocks

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/ingest-queue"
SCALED = "kubernetes:keda.sh/v1alpha1:ScaledObject"
AUTH = "kubernetes:keda.sh/v1alpha1:TriggerAuthentication"


def plan_scaled(**overrides):
    args = {"namespace": "rag", "deployment": "worker", "triggers": [sqs_queue_trigger(QUEUE_URL, "us-east-1", 5)],
            "aws_operator_identity": True, **overrides}
    return run_under_mocks(lambda: ScaledObject("worker", ScaledObjectArgs(**args)))


def test_vendored_crds_are_upstreams_files_at_the_pinned_release():
    assert CRDS.version == "2.20.2"
    for file_name in CRDS.files.values():
        assert hashlib.sha256(CRDS.text(file_name).encode()).hexdigest() == CRDS.sha256[file_name]


def test_queue_scaling_to_zero_as_the_keda_operator_is_schema_valid():
    plan = plan_scaled()
    assert plan.type_counts() == {"genai:k8s:ScaledObject": 1, SCALED: 1, AUTH: 1}
    scaled, auth = plan.one(SCALED), plan.one(AUTH)
    assert scaled.inputs["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"},
        "minReplicaCount": 0, "maxReplicaCount": 4, "pollingInterval": 30, "cooldownPeriod": 300,
        "triggers": [{"type": "aws-sqs-queue", "authenticationRef": {"name": "worker"},
                      "metadata": {"queueURL": QUEUE_URL, "queueLength": "5", "awsRegion": "us-east-1"}}],
    }
    assert auth.inputs["spec"] == {"podIdentity": {"provider": "aws", "identityOwner": "keda"}}
    assert auth.urn in scaled.dependencies
    for resource in (scaled, auth):
        assert validate_custom_resource(manifest_of(resource)) is None


def test_every_trigger_kind_is_schema_valid():
    triggers = [cpu_trigger(70), cron_trigger("0 8 * * 1-5", "0 19 * * 1-5", "UTC", 1),
                prometheus_trigger("https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1",
                                   "sum(vllm:num_requests_waiting)", 5, "us-east-1")]
    plan = plan_scaled(triggers=triggers, min_replicas=1)
    spec = plan.one(SCALED).inputs["spec"]
    assert [t["type"] for t in spec["triggers"]] == ["cpu", "cron", "prometheus"]
    assert spec["triggers"][0] == {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}
    assert validate_custom_resource(manifest_of(plan.one(SCALED))) is None


def test_the_schema_refuses_what_keda_would():
    manifest = manifest_of(plan_scaled().one(SCALED))
    manifest["spec"]["minReplicaCount"] = "zero"
    assert validate_custom_resource(manifest) == "spec.minReplicaCount: 'zero' is not of type 'integer'"
    manifest = manifest_of(plan_scaled().one(SCALED))
    manifest["spec"]["scaleTargetRef"]["deployment"] = "worker"
    assert validate_custom_resource(manifest) == (
        "spec.scaleTargetRef: Additional properties are not allowed ('deployment' was unexpected)")
    auth = manifest_of(plan_scaled().one(AUTH))
    auth["spec"]["podIdentity"]["identityOwner"] = "operator"
    assert validate_custom_resource(auth).startswith("spec.podIdentity.identityOwner: 'operator' is not one of")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"triggers": []}, "triggers=[] gives KEDA nothing to scale on: pass at least one trigger."),
    ({"triggers": [cpu_trigger(70)], "aws_operator_identity": False},
     "min_replicas=0 with only cpu/memory triggers never wakes the Deployment (no pods, no usage to measure): add an "
     "event trigger (queue, Prometheus, cron) or set min_replicas=1."),
    ({"aws_operator_identity": False}, "a trigger uses authentication but aws_operator_identity=False: set it, so the "
                                       "scaler calls AWS with the KEDA operator's role."),
    ({"max_replicas": 0}, "max_replicas=0 is below max(min_replicas, 1)=1: raise max_replicas."),
    ({"deployment": "Worker"}, "deployment='Worker' is not a valid Kubernetes name: use at most 63 lower-case "
                               "letters, digits and '-', starting and ending with a letter or digit."),
])
def test_invalid_arguments_are_refused(overrides, message):
    with pytest.raises(ValueError) as error:
        plan_scaled(**overrides)
    assert str(error.value) == message


def test_trigger_helpers_refuse_nonsense():
    with pytest.raises(ValueError, match=r"^messages_per_replica=0 is out of range: use 1 or more messages\.$"):
        sqs_queue_trigger(QUEUE_URL, "us-east-1", 0)
    with pytest.raises(ValueError) as error:
        cron_trigger("8am", "0 19 * * 1-5", "UTC", 1)
    assert str(error.value) == "start='8am' is not a five-field cron expression: use e.g. '0 8 * * 1-5'."
