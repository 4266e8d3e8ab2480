import re

import pulumi
import pytest

from genai_platform.components.gcp.budget import GcpBudget, GcpBudgetArgs
from genai_platform.mockcloud import run_under_mocks

CONFIG = {"gcp:project": "genai-platform-dev", "gcp:region": "europe-west4", "aws:region": "us-east-1"}
BUDGET = "gcp:billing/budget:Budget"
TOPIC = "gcp:pubsub/topic:Topic"
TOPIC_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember"
REQUIRED = {"billing_account": "01ABCD-23EF45-6789AB", "project_number": "123456789012", "amount_usd": 300}
CHANNEL = "projects/genai-platform-dev/notificationChannels/1234567890"


def plan_budget(**kwargs):
    def program():
        budget = GcpBudget("chat-costs", GcpBudgetArgs(**{**REQUIRED, **kwargs}))
        pulumi.export("budget_name", budget.budget_name)
        pulumi.export("topic_id", budget.topic_id)

    return run_under_mocks(program, config=CONFIG)


def test_defaults_alert_at_50_70_100_percent_and_on_forecast():
    plan = plan_budget(tags={"Environment": "dev"})
    assert plan.type_counts() == {"genai:gcp:GcpBudget": 1, BUDGET: 1, TOPIC: 1, TOPIC_MEMBER: 1}
    budget = plan.one(BUDGET)
    assert budget.parent.endswith("genai:gcp:GcpBudget::chat-costs")
    assert budget.inputs["billingAccount"] == "01ABCD-23EF45-6789AB"
    assert budget.inputs["displayName"] == "chat-costs"
    assert budget.inputs["thresholdRules"] == [
        {"thresholdPercent": 0.5, "spendBasis": "CURRENT_SPEND"},
        {"thresholdPercent": 0.7, "spendBasis": "CURRENT_SPEND"},
        {"thresholdPercent": 1, "spendBasis": "CURRENT_SPEND"},
        {"thresholdPercent": 1, "spendBasis": "FORECASTED_SPEND"},
    ]
    assert budget.inputs["amount"] == {"specifiedAmount": {"currencyCode": "USD", "units": "300", "nanos": 0}}


def test_budget_counts_only_its_project_gross_of_credits_per_month():
    budget_filter = plan_budget().one(BUDGET).inputs["budgetFilter"]
    assert budget_filter == {"projects": ["projects/123456789012"], "calendarPeriod": "MONTH",
                             "creditTypesTreatment": "EXCLUDE_ALL_CREDITS"}


def test_include_credits_switches_the_credit_treatment():
    assert plan_budget(include_credits=True).one(BUDGET).inputs["budgetFilter"]["creditTypesTreatment"] == \
        "INCLUDE_ALL_CREDITS"


def test_every_update_goes_to_a_topic_only_cloud_billing_publishes_to():
    plan = plan_budget(tags={"Environment": "Prod"})
    topic = plan.one(TOPIC)
    assert topic.inputs["labels"] == {"managedby": "pulumi", "platform": "genai-platform", "environment": "prod"}
    rule = plan.one(BUDGET).inputs["allUpdatesRule"]
    assert rule == {"pubsubTopic": plan.outputs["topic_id"], "schemaVersion": "1.0",
                    "disableDefaultIamRecipients": False}
    publisher = plan.one(TOPIC_MEMBER)
    assert publisher.inputs == {"topic": topic.outputs["name"], "project": "genai-platform-dev",
                                "role": "roles/pubsub.publisher",
                                "member": "serviceAccount:billing-budget-alert@system.gserviceaccount.com"}
    assert publisher.urn in plan.one(BUDGET).dependencies


def test_outputs_are_the_budget_resource_name_and_topic_id():
    plan = plan_budget()
    assert re.fullmatch(r"billingAccounts/01ABCD-23EF45-6789AB/budgets/[0-9a-f-]{36}", plan.outputs["budget_name"])
    assert re.fullmatch(r"projects/genai-platform-dev/topics/chat-costs-alerts-[0-9a-f]{7}", plan.outputs["topic_id"])


def test_custom_thresholds_amount_and_topic_project():
    plan = plan_budget(amount_usd=99.25, current_spend_thresholds=[1.2, 0.9], forecasted_spend_thresholds=[],
                       topic_project="genai-platform-ops", display_name="chat dev")
    budget = plan.one(BUDGET).inputs
    assert budget["amount"]["specifiedAmount"] == {"currencyCode": "USD", "units": "99", "nanos": 250000000}
    assert budget["thresholdRules"] == [{"thresholdPercent": 0.9, "spendBasis": "CURRENT_SPEND"},
                                        {"thresholdPercent": 1.2, "spendBasis": "CURRENT_SPEND"}]
    assert budget["displayName"] == "chat dev"
    assert plan.one(TOPIC).inputs["project"] == "genai-platform-ops"
    assert plan.outputs["topic_id"].startswith("projects/genai-platform-ops/topics/")


def test_notification_channels_can_replace_the_default_recipients():
    rule = plan_budget(monitoring_notification_channels=[CHANNEL],
                       disable_default_iam_recipients=True).one(BUDGET).inputs["allUpdatesRule"]
    assert rule["monitoringNotificationChannels"] == [CHANNEL]
    assert rule["disableDefaultIamRecipients"] is True


def test_topic_only_budget_is_allowed_when_asked_for():
    rule = plan_budget(disable_default_iam_recipients=True, allow_topic_only=True).one(BUDGET).inputs["allUpdatesRule"]
    assert rule["disableDefaultIamRecipients"] is True
    assert "monitoringNotificationChannels" not in rule


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"billing_account": "billingAccounts/01ABCD-23EF45-6789AB"},
     "billing_account='billingAccounts/01ABCD-23EF45-6789AB' is not a billing account ID: use the "
     "'XXXXXX-XXXXXX-XXXXXX' form shown in the billing console (upper-case hex)."),
    ({"project_number": "genai-platform-dev"},
     "project_number='genai-platform-dev' is not a project number: budgets filter on the numeric project number "
     "(gcloud projects describe <id> --format='value(projectNumber)')."),
    ({"amount_usd": 0}, "amount_usd=0 must be greater than 0."),
    ({"currency_code": "usd"}, "currency_code='usd' is not an ISO 4217 code: use e.g. 'USD' or 'EUR'."),
    ({"display_name": "x" * 61}, f"display_name={'x' * 61!r} is longer than 60 characters: pass a shorter "
                                 "display_name."),
    ({"current_spend_thresholds": [0.5, 0]}, "current_spend_thresholds contains 0, out of range: use fractions of the "
                                             "amount above 0 and at most 10.0 (0.5 = 50 %)."),
    ({"forecasted_spend_thresholds": [50]}, "forecasted_spend_thresholds contains 50, out of range: use fractions of "
                                            "the amount above 0 and at most 10.0 (0.5 = 50 %)."),
    ({"current_spend_thresholds": [0.5, 0.5]}, "current_spend_thresholds=[0.5, 0.5] repeats a threshold: list each "
                                               "once."),
    ({"current_spend_thresholds": [], "forecasted_spend_thresholds": []},
     "current_spend_thresholds and forecasted_spend_thresholds are both empty: the budget would never alert; keep at "
     "least one threshold."),
    ({"monitoring_notification_channels": [f"{CHANNEL}{i}" for i in range(6)]},
     "monitoring_notification_channels has 6 channels: Cloud Billing accepts at most 5."),
    ({"monitoring_notification_channels": ["ops@example.com"]},
     "monitoring_notification_channels contains 'ops@example.com': use the channel's resource name, "
     "'projects/<project>/notificationChannels/<id>'."),
    ({"disable_default_iam_recipients": True},
     "disable_default_iam_recipients=True with no monitoring_notification_channels alerts nobody: name a notification "
     "channel, keep the default recipients, or set allow_topic_only=True if a consumer of the Pub/Sub topic handles "
     "alerts."),
])
def test_invalid_arguments_are_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        run_under_mocks(lambda: GcpBudget("chat-costs", GcpBudgetArgs(**{**REQUIRED, **kwargs})), config=CONFIG)


def test_notification_channel_may_be_an_output():
    rule = plan_budget(monitoring_notification_channels=[pulumi.Output.from_input(CHANNEL)]).one(BUDGET) \
        .inputs["allUpdatesRule"]
    assert rule["monitoringNotificationChannels"] == [CHANNEL]


def test_kms_key_name_encrypts_the_alert_topic_with_a_customer_managed_key():
    key = "projects/genai-platform-dev/locations/europe-west4/keyRings/budget-keys/cryptoKeys/alerts"
    assert plan_budget(kms_key_name=key).one(TOPIC).inputs["kmsKeyName"] == key
    assert "kmsKeyName" not in plan_budget().one(TOPIC).inputs
