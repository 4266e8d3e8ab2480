"""Edge cases of the observability stack rules and of labels on Cloud Monitoring resources."""

from genai_platform.mockcloud.plan import Plan, RecordedResource
from genai_platform.policy_check import evaluate

LABELS = {"environment": "prod", "managedby": "pulumi", "platform": "genai-platform"}
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
RELEASE = "kubernetes:helm.sh/v3:Release"


def R(type_token: str, name: str, inputs: dict | None = None) -> RecordedResource:
    return RecordedResource(urn=f"urn:pulumi:prod::genai-platform::{type_token}::{name}", type=type_token, name=name,
                            parent=None, custom=True, protect=False, dependencies=[], inputs=inputs or {})


def messages(rule: str, *resources: RecordedResource) -> list[str]:
    plan = Plan(project="genai-platform", stack="prod", resources=list(resources), outputs={})
    return [v["message"].split(" Fix:")[0] for v in evaluate(plan, "prod").violations if v["policy"] == rule]


def karpenter_gpu_pool() -> RecordedResource:
    return R(NODE_POOL, "gpu-burst", {"spec": {"template": {"spec": {"taints": [GPU_TAINT]}}}})


def test_a_karpenter_gpu_pool_needs_the_exporter_too():
    assert messages("stack-gpu-pools-have-dcgm-exporter", karpenter_gpu_pool()) == [
        "gpu-burst (kubernetes:karpenter.sh/v1:NodePool) is a GPU pool, and no dcgm-exporter release tolerates "
        "its nvidia.com/gpu taint."]


def test_an_exporter_that_does_not_tolerate_the_taint_does_not_count():
    untolerated = R(RELEASE, "dcgm", {"chart": "dcgm-exporter", "values": {"tolerations": [
        {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]}})
    assert len(messages("stack-gpu-pools-have-dcgm-exporter", karpenter_gpu_pool(), untolerated)) == 1
    everything = R(RELEASE, "dcgm", {"chart": "dcgm-exporter", "values": {"tolerations": [{"operator": "Exists"}]}})
    assert messages("stack-gpu-pools-have-dcgm-exporter", karpenter_gpu_pool(), everything) == []


def test_cpu_pools_need_no_exporter():
    cpu = R(NODE_POOL, "burst", {"spec": {"template": {"spec": {"taints": [{"key": "burst", "effect": "NoSchedule"}]}}}})
    assert messages("stack-gpu-pools-have-dcgm-exporter", cpu) == []


def test_a_stack_without_workloads_needs_no_workspace():
    assert messages("stack-metrics-and-alert-route", R("aws:sqs/queue:Queue", "ingest")) == []


def test_a_workspace_without_a_route_is_reported():
    assert messages("stack-metrics-and-alert-route", R("eks:index:Cluster", "eks")) == [
        "The stack runs workloads on AWS but has no aws:amp/workspace:Workspace.",
        "No AMP alert manager definition routes alerts to an SNS topic (sns_configs)."]


def test_cloud_run_needs_an_alert_policy_that_notifies_someone():
    service = R("gcp:cloudrunv2/service:Service", "web", {"labels": LABELS})
    silent = R("gcp:monitoring/alertPolicy:AlertPolicy", "web-5xx", {"userLabels": LABELS})
    assert messages("stack-metrics-and-alert-route", service, silent) == [
        "The stack runs Cloud Run services but no gcp:monitoring/alertPolicy:AlertPolicy notifies a channel."]
    notified = R("gcp:monitoring/alertPolicy:AlertPolicy", "web-5xx",
                 {"userLabels": LABELS, "notificationChannels": ["projects/p/notificationChannels/1"]})
    assert messages("stack-metrics-and-alert-route", service, notified) == []


def test_monitoring_resources_carry_their_labels_in_user_labels():
    # A notification channel's 'labels' are its settings (the address), not labels.
    channel = R("gcp:monitoring/notificationChannel:NotificationChannel", "oncall",
                {"type": "email", "labels": {"email_address": "oncall@example.com"}, "userLabels": LABELS})
    assert messages("gcp-required-labels", channel) == []
    unlabelled = R("gcp:monitoring/notificationChannel:NotificationChannel", "oncall",
                   {"type": "email", "labels": {"email_address": "oncall@example.com"}})
    assert messages("gcp-required-labels", unlabelled) == ["Labels ['environment', 'managedby', 'platform'] are missing."]
