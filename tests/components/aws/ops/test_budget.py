import json
import re

import pulumi
import pytest

from genai_platform.components.aws.ops.budget import AwsBudget, AwsBudgetArgs
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks

CONFIG = {"gcp:project": "genai-platform-dev", "gcp:region": "europe-west4", "aws:region": "us-east-1"}
BUDGET = "aws:budgets/budget:Budget"
KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
EMAILS = ["platform-oncall@example.com", "finops@example.com"]
REQUIRED = {"limit_amount_usd": 750, "alert_emails": EMAILS, "tags": {"Environment": "dev"}}
ALERT_SERVICES = ["budgets.amazonaws.com", "costalerts.amazonaws.com"]


def plan_budget(**kwargs):
    def program():
        budget = AwsBudget("costs", AwsBudgetArgs(**{**REQUIRED, **kwargs}))
        pulumi.export("budget_name", budget.budget_name)
        pulumi.export("topic_arn", budget.topic_arn)

    return run_under_mocks(program, config=CONFIG)


def statements(resource) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(resource.inputs["policy"])["Statement"]}


def test_defaults_create_a_monthly_cost_budget_and_an_encrypted_topic():
    plan = plan_budget()
    assert plan.type_counts() == {"genai:aws:AwsBudget": 1, KEY: 1, TOPIC: 1, TOPIC_POLICY: 1, BUDGET: 1}
    budget = plan.one(BUDGET)
    assert budget.parent.endswith("genai:aws:AwsBudget::costs")
    inputs = budget.inputs
    assert (inputs["budgetType"], inputs["timeUnit"], inputs["limitAmount"], inputs["limitUnit"]) == \
        ("COST", "MONTHLY", "750.00", "USD")
    assert inputs["costTypes"] == {"includeCredit": False, "includeRefund": False}
    assert inputs["tags"] == {"Name": "costs-budget", "ManagedBy": "pulumi", "Platform": "genai-platform",
                              "Environment": "dev"}


def test_notifications_at_50_80_100_actual_and_100_forecasted_reach_emails_and_topic():
    plan = plan_budget()
    notifications = plan.one(BUDGET).inputs["notifications"]
    assert [(n["notificationType"], n["threshold"]) for n in notifications] == [
        ("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]
    topic_arn = plan.outputs["topic_arn"]
    for notification in notifications:
        assert notification["comparisonOperator"] == "GREATER_THAN"
        assert notification["thresholdType"] == "PERCENTAGE"
        assert notification["subscriberEmailAddresses"] == EMAILS
        assert notification["subscriberSnsTopicArns"] == [topic_arn]


def test_budget_is_scoped_to_the_environment_cost_allocation_tag():
    assert plan_budget(tags={"Environment": "staging", "Service": "chat"}).one(BUDGET).inputs["costFilters"] == [
        {"name": "TagKeyValue", "values": ["user:Environment$staging"]}]


def test_account_wide_budget_has_no_filter():
    assert "costFilters" not in plan_budget(account_wide=True, tags={}).one(BUDGET).inputs


def test_topic_is_encrypted_with_a_rotating_key_the_alert_services_may_use():
    plan = plan_budget()
    key = plan.one(KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert plan.one(TOPIC).inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert plan.one(TOPIC).inputs["kmsMasterKeyId"] != "alias/aws/sns"
    policy = statements(key)
    services = policy["AlertServicesEncryptMessages"]
    assert services["Principal"] == {"Service": ALERT_SERVICES}
    assert services["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    admin = policy["AccountManagesAndUsesKeyThroughIam"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert "kms:PutKeyPolicy" not in admin["Action"] and "kms:Put*" in admin["Action"]
    actions = [a for s in policy.values() for a in s["Action"]]
    assert "*" not in actions and "kms:*" not in actions


def test_only_this_accounts_alert_services_may_publish_and_only_over_tls():
    plan = plan_budget()
    topic_arn = plan.outputs["topic_arn"]
    policy_resource = plan.one(TOPIC_POLICY)
    assert policy_resource.inputs["arn"] == topic_arn
    policy = statements(policy_resource)
    assert policy["AlertServicesPublish"] == {
        "Sid": "AlertServicesPublish", "Effect": "Allow", "Principal": {"Service": ALERT_SERVICES},
        "Action": "sns:Publish", "Resource": topic_arn,
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}}
    assert policy["DenyPublishWithoutTls"]["Effect"] == "Deny"
    assert policy["DenyPublishWithoutTls"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(policy) == {"AlertServicesPublish", "DenyPublishWithoutTls"}
    assert policy_resource.urn in plan.one(BUDGET).dependencies


def test_outputs_are_the_budget_name_and_topic_arn():
    plan = plan_budget()
    assert re.fullmatch(r"costs-budget-[0-9a-f]{7}", plan.outputs["budget_name"])
    assert re.fullmatch(rf"arn:aws:sns:us-east-1:{ACCOUNT_ID}:costs-alerts-[0-9a-f]{{7}}", plan.outputs["topic_arn"])


def test_custom_thresholds_and_credits():
    inputs = plan_budget(actual_thresholds_percent=[120, 90], forecasted_thresholds_percent=[],
                         include_credits=True, limit_amount_usd=1234.5).one(BUDGET).inputs
    assert [(n["notificationType"], n["threshold"]) for n in inputs["notifications"]] == [("ACTUAL", 90),
                                                                                          ("ACTUAL", 120)]
    assert inputs["costTypes"] == {"includeCredit": True, "includeRefund": True}
    assert inputs["limitAmount"] == "1234.50"


def test_topic_only_budget_notifies_the_topic_alone():
    notifications = plan_budget(alert_emails=[], allow_topic_only=True).one(BUDGET).inputs["notifications"]
    assert all("subscriberEmailAddresses" not in n for n in notifications)
    assert all(len(n["subscriberSnsTopicArns"]) == 1 for n in notifications)


def test_anomaly_detection_alerts_the_topic_at_once_and_people_daily():
    plan = plan_budget(anomaly_detection=True, anomaly_threshold_usd=250)
    monitor = plan.one(MONITOR)
    assert (monitor.inputs["monitorType"], monitor.inputs["monitorDimension"]) == ("DIMENSIONAL", "SERVICE")
    subscriptions = {s.name: s.inputs for s in plan.of_type(SUBSCRIPTION)}
    assert set(subscriptions) == {"costs-anomalies", "costs-anomalies-daily"}
    immediate, daily = subscriptions["costs-anomalies"], subscriptions["costs-anomalies-daily"]
    assert immediate["frequency"] == "IMMEDIATE"
    assert immediate["subscribers"] == [{"type": "SNS", "address": plan.outputs["topic_arn"]}]
    assert daily["frequency"] == "DAILY"
    assert daily["subscribers"] == [{"type": "EMAIL", "address": address} for address in EMAILS]
    for subscription in (immediate, daily):
        assert subscription["monitorArnLists"] == [monitor.outputs["arn"]]
        assert subscription["thresholdExpression"] == {"dimension": {
            "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "matchOptions": ["GREATER_THAN_OR_EQUAL"], "values": ["250"]}}
    assert all(plan.one(TOPIC_POLICY).urn in s.dependencies for s in plan.of_type(SUBSCRIPTION))


def test_anomaly_detection_without_emails_has_only_the_topic_subscription():
    plan = plan_budget(anomaly_detection=True, alert_emails=[], allow_topic_only=True)
    assert [s.inputs["frequency"] for s in plan.of_type(SUBSCRIPTION)] == ["IMMEDIATE"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"limit_amount_usd": 0}, "limit_amount_usd=0 must be greater than 0."),
    ({"limit_amount_usd": -5}, "limit_amount_usd=-5 must be greater than 0."),
    ({"actual_thresholds_percent": [0, 50]}, "actual_thresholds_percent contains 0, out of range: use percentages "
                                             "above 0 and at most 1000."),
    ({"forecasted_thresholds_percent": [1001]}, "forecasted_thresholds_percent contains 1001, out of range: use "
                                                "percentages above 0 and at most 1000."),
    ({"actual_thresholds_percent": [80, 80]}, "actual_thresholds_percent=[80, 80] repeats a threshold: AWS rejects "
                                              "duplicate notifications."),
    ({"actual_thresholds_percent": [], "forecasted_thresholds_percent": []},
     "actual_thresholds_percent and forecasted_thresholds_percent are both empty: the budget would never alert; keep "
     "at least one threshold."),
    ({"actual_thresholds_percent": list(range(10, 100, 10)), "forecasted_thresholds_percent": [100, 120]},
     "11 thresholds exceed the 10 notifications AWS allows per budget: drop some."),
    ({"alert_emails": []}, "alert_emails=[] alerts nobody: the SNS topic has no subscriber of its own. Pass at least "
                           "one address, or set allow_topic_only=True if something else subscribes to the topic."),
    ({"alert_emails": [f"ops{i}@example.com" for i in range(11)]},
     "alert_emails has 11 addresses: AWS Budgets allows at most 10; use a distribution list."),
    ({"alert_emails": ["finops"]}, "alert_emails contains 'finops', which is not an e-mail address."),
    ({"alert_emails": ["a@example.com", "a@example.com"]},
     "alert_emails=['a@example.com', 'a@example.com'] lists an address twice: list each once."),
    ({"tags": {"Service": "chat"}}, "tags has no 'Environment' value to scope the budget to: pass "
                                    "tags={'Environment': '<env>'} or set account_wide=True."),
    ({"anomaly_detection": True, "anomaly_threshold_usd": 0}, "anomaly_threshold_usd=0 must be greater than 0."),
])
def test_invalid_arguments_are_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        run_under_mocks(lambda: AwsBudget("costs", AwsBudgetArgs(**{**REQUIRED, **kwargs})), config=CONFIG)
