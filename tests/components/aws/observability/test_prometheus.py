import json

import pulumi
import pytest
import yaml

from genai_platform.components.aws.observability.alert_topic import AlertTopic, AlertTopicArgs
from genai_platform.components.aws.observability.prometheus import PrometheusWorkspace, PrometheusWorkspaceArgs
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks

CONFIG = {"aws:region": "us-east-1"}
WORKSPACE = "aws:amp/workspace:Workspace"
RULES = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"
ALERT_MANAGER = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
KEY = "aws:kms/key:Key"
RULE_FILE = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n"


def plan_workspace(**kwargs):
    def program():
        topic = AlertTopic("alerts", AlertTopicArgs(alert_emails=["oncall@example.com"], allow_prometheus=True))
        workspace = PrometheusWorkspace("metrics", PrometheusWorkspaceArgs(**{
            "alert_topic_arn": topic.topic_arn, "rule_files": {"services": RULE_FILE, "llm": RULE_FILE},
            "tags": {"Environment": "prod"}, **kwargs}))
        for output in ("workspace_arn", "remote_write_url", "remote_write_policy_json", "query_policy_json"):
            pulumi.export(output, getattr(workspace, output))

    return run_under_mocks(program, config=CONFIG)


def test_children_encryption_and_tags():
    plan = plan_workspace()
    counts = plan.type_counts()
    assert (counts[WORKSPACE], counts[RULES], counts[ALERT_MANAGER], counts["genai:aws:PrometheusWorkspace"]) == \
        (1, 2, 1, 1)
    workspace = plan.one(WORKSPACE)
    key = plan.named("metrics-key", KEY)
    assert workspace.inputs["kmsKeyArn"] == key.outputs["arn"] and key.inputs["enableKeyRotation"] is True
    assert workspace.inputs["tags"] == {"Name": "metrics-workspace", "ManagedBy": "pulumi",
                                        "Platform": "genai-platform", "Environment": "prod"}
    assert {r.inputs["name"]: r.inputs["data"] for r in plan.of_type(RULES)} == {"services": RULE_FILE,
                                                                                 "llm": RULE_FILE}
    assert all(r.inputs["workspaceId"] == workspace.id for r in plan.of_type(RULES))
    for resource in plan.resources:
        if resource.custom and resource.name.startswith("metrics"):
            assert resource.parent.endswith("genai:aws:PrometheusWorkspace::metrics")


def test_rule_and_alert_manager_errors_are_logged():
    plan = plan_workspace()
    group = plan.one("aws:cloudwatch/logGroup:LogGroup")
    assert (group.inputs["name"], group.inputs["retentionInDays"]) == ("/aws/vendedlogs/prometheus/metrics", 30)
    assert plan.one(WORKSPACE).inputs["loggingConfiguration"] == {"logGroupArn": f"{group.outputs['arn']}:*"}
    key = plan.named("metrics-key", KEY)
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    key_policy = plan.named("metrics-key-policy", "aws:kms/keyPolicy:KeyPolicy")
    assert key_policy.urn in group.dependencies  # CreateLogGroup fails until the key admits CloudWatch Logs
    logs = {s["Sid"]: s for s in json.loads(key_policy.inputs["policy"])["Statement"]}["LogsEncryptTheWorkspaceLog"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn":
                                               f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:"
                                               "/aws/vendedlogs/prometheus/metrics"}}


def test_alert_manager_routes_every_alert_to_the_topic_with_sigv4():
    plan = plan_workspace()
    topic_arn = plan.one("aws:sns/topic:Topic").outputs["arn"]
    definition = yaml.safe_load(yaml.safe_load(plan.one(ALERT_MANAGER).inputs["definition"])["alertmanager_config"])
    assert definition["route"]["receiver"] == "sns"
    assert definition["route"]["group_by"] == ["alertname", "severity"]
    assert definition["receivers"] == [{"name": "sns", "sns_configs": [{
        "topic_arn": topic_arn, "sigv4": {"region": "us-east-1"},
        "subject": "[{{ .CommonLabels.severity }}] {{ .CommonLabels.alertname }}",
        "attributes": {"severity": "{{ .CommonLabels.severity }}"}}]}]


def test_the_topic_admits_this_accounts_prometheus_workspaces_only():
    # The other end of the route: SNS and KMS must let aps.amazonaws.com publish, or alerts vanish.
    plan = plan_workspace()
    topic_policy = {s["Sid"]: s for s in json.loads(plan.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])[
        "Statement"]}
    publish = topic_policy["PrometheusAlertManagersPublish"]
    assert publish["Principal"] == {"Service": "aps.amazonaws.com"}
    assert publish["Action"] == ["sns:Publish", "sns:GetTopicAttributes"]
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                                    "ArnLike": {"aws:SourceArn": f"arn:aws:aps:*:{ACCOUNT_ID}:workspace/*"}}
    key_policy = plan.named("alerts-key-policy", "aws:kms/keyPolicy:KeyPolicy")
    key_policy = {s["Sid"]: s for s in json.loads(key_policy.inputs["policy"])["Statement"]}
    assert key_policy["PrometheusEncryptsAlerts"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert key_policy["PrometheusEncryptsAlerts"]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_alert_topic_does_not_admit_prometheus_unless_asked():
    plan = run_under_mocks(lambda: AlertTopic("alerts", AlertTopicArgs(alert_emails=["oncall@example.com"])),
                           config=CONFIG)
    sids = {s["Sid"] for s in json.loads(plan.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])["Statement"]}
    assert "PrometheusAlertManagersPublish" not in sids


def test_policies_name_this_workspace_only():
    plan = plan_workspace()
    arn = plan.outputs["workspace_arn"]
    assert arn == plan.one(WORKSPACE).outputs["arn"]
    assert json.loads(plan.outputs["remote_write_policy_json"])["Statement"] == [
        {"Sid": "RemoteWrite", "Effect": "Allow", "Action": ["aps:RemoteWrite"], "Resource": [arn]}]
    assert json.loads(plan.outputs["query_policy_json"])["Statement"][0]["Action"] == [
        "aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"]
    assert plan.outputs["remote_write_url"] == f"{plan.one(WORKSPACE).outputs['prometheusEndpoint']}api/v1/remote_write"


def test_no_alert_route_only_when_asked():
    plan = run_under_mocks(lambda: PrometheusWorkspace("metrics", PrometheusWorkspaceArgs(
        alert_topic_arn=None, allow_no_alert_route=True)), config=CONFIG)
    assert plan.of_type(ALERT_MANAGER) == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"alert_topic_arn": None},
     "alert_topic_arn=None routes alerts nowhere: pass the environment's AlertTopic.topic_arn, or set "
     "allow_no_alert_route=True if something else receives them."),
    ({"alert_topic_arn": "arn", "log_retention_days": 10},
     "log_retention_days=10 is not a CloudWatch Logs retention: use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, "
     "180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."),
    ({"alert_topic_arn": "arn", "rule_files": {"bad name!": RULE_FILE}},
     "rule_files key 'bad name!' is not a rule group namespace name: use 1-64 letters, digits, '-', '_' or '.', "
     "starting with a letter or digit."),
    ({"alert_topic_arn": "arn", "rule_files": {"services": "groups: [unclosed"}},
     "rule_files['services'] is not YAML (ParserError): pass the text of a Prometheus rule file."),
    ({"alert_topic_arn": "arn", "rule_files": {"services": "rules: []"}},
     "rule_files['services'] has no 'groups' list: a Prometheus rule file is 'groups: [{name: ..., rules: [...]}]'."),
])
def test_validation(kwargs, message):
    with pytest.raises(ValueError) as error:
        PrometheusWorkspace("metrics", PrometheusWorkspaceArgs(**kwargs))
    assert str(error.value) == message
