import promql_parser
import pytest

from genai_platform.components.gcp.monitoring import CloudRunAlerts, CloudRunAlertsArgs
from genai_platform.mockcloud import run_under_mocks

POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"


def plan_alerts(**kwargs):
    args = {"project": "genai-platform-dev", "project_number": "123456789012", "region": "europe-west4",
            "service_name": "dev-chat-web", "max_instances": 3, "notification_emails": ["oncall@example.com"],
            "tags": {"Environment": "dev"}, **kwargs}
    return run_under_mocks(lambda: CloudRunAlerts("chat-web", CloudRunAlertsArgs(**args)))


def queries(plan):
    return {r.name: r.inputs["conditions"][0]["conditionPrometheusQueryLanguage"]["query"]
            for r in plan.of_type(POLICY)}


def test_four_policies_to_one_email_channel():
    plan = plan_alerts()
    channel = plan.one("gcp:monitoring/notificationChannel:NotificationChannel")
    assert channel.inputs["type"] == "email" and channel.inputs["labels"] == {"email_address": "oncall@example.com"}
    assert channel.inputs["userLabels"]["environment"] == "dev"
    policies = plan.of_type(POLICY)
    assert sorted(p.name for p in policies) == ["chat-web-5xx-ratio", "chat-web-max-instances", "chat-web-p95-latency",
                                                "chat-web-uptime"]
    assert all(p.inputs["notificationChannels"] == [channel.outputs["name"]] for p in policies)


def test_every_condition_is_valid_promql_with_slo_thresholds():
    found = queries(plan_alerts(availability_slo_percent=99.5, p95_latency_ms=5000))
    for query in found.values():
        promql_parser.parse(query)
    assert found["chat-web-5xx-ratio"].endswith("> 0.072")  # 14.4 x the 0.5 % error budget
    assert 'service_name="dev-chat-web"' in found["chat-web-5xx-ratio"]
    assert found["chat-web-p95-latency"].endswith("> 5000")  # Cloud Run reports latencies in milliseconds
    assert found["chat-web-max-instances"].endswith(">= 3")
    check_id = plan_alerts().one("gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig").outputs["uptimeCheckId"]
    assert f'check_id="{check_id}"' in found["chat-web-uptime"]


def test_uptime_check_calls_the_private_service_as_the_monitoring_agent():
    plan = plan_alerts()
    check = plan.one("gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig").inputs
    assert check["httpCheck"]["serviceAgentAuthentication"] == {"type": "OIDC_TOKEN"}
    assert check["httpCheck"]["useSsl"] is True and check["httpCheck"]["path"] == "/healthz"
    assert check["monitoredResource"] == {"type": "cloud_run_revision", "labels": {
        "project_id": "genai-platform-dev", "service_name": "dev-chat-web", "location": "europe-west4"}}
    invoker = plan.one("gcp:cloudrunv2/serviceIamMember:ServiceIamMember").inputs
    assert (invoker["role"], invoker["member"], invoker["name"]) == (
        "roles/run.invoker", "serviceAccount:service-123456789012@gcp-sa-monitoring-notification.iam.gserviceaccount.com",
        "dev-chat-web")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"notification_emails": []}, "notification_emails=[] notifies nobody: name at least one address."),
    ({"notification_emails": ["oncall"]}, "notification_emails contains 'oncall', which is not an e-mail address."),
    ({"project_number": "genai-platform-dev"},
     "project_number='genai-platform-dev' is not a project number: use the digits `gcloud projects describe "
     "<project> --format='value(projectNumber)'` prints."),
    ({"availability_slo_percent": 100}, "availability_slo_percent=100 is out of range: use 90 to 99.99 percent."),
    ({"uptime_check_path": "healthz"}, "uptime_check_path='healthz' is not an HTTP path: start it with '/'."),
])
def test_validation(kwargs, message):
    args = {"project": "p", "project_number": "123456789012", "region": "europe-west4", "service_name": "web",
            "max_instances": 3, "notification_emails": ["oncall@example.com"], **kwargs}
    with pytest.raises(ValueError) as error:
        CloudRunAlerts("chat-web", CloudRunAlertsArgs(**args))
    assert str(error.value) == message
