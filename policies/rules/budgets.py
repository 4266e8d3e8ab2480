"""Budgets: every environment has one per cloud, and each budget actually notifies someone."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from genai_platform.policies.registry import MANDATORY, RuleContext, resource_rule, stack_rule
from genai_platform.policies.values import as_list, each_mapping, get, is_set, is_true

AWS_BUDGET = "aws:budgets/budget:Budget"
GCP_BUDGET = "gcp:billing/budget:Budget"
BUDGETS = {"aws": AWS_BUDGET, "gcp": GCP_BUDGET}


def _aws_gaps(props: Mapping[str, Any]) -> Iterator[str]:
    notifications = list(each_mapping(as_list(props.get("notifications"))))
    if not notifications:
        yield "The budget has no notifications."
    for index, notification in enumerate(notifications):
        # Presence checks: a topic ARN a first preview does not know yet is still a subscriber.
        if not is_set(notification, "subscriberEmailAddresses") and not is_set(notification, "subscriberSnsTopicArns"):
            yield f"Notification {index} has no email or SNS subscriber."


def _gcp_gaps(props: Mapping[str, Any]) -> Iterator[str]:
    if not as_list(props.get("thresholdRules")):
        yield "The budget has no threshold rules."
    rule = get(props, "allUpdatesRule", {})
    # Without a channel or topic, only the default billing-admin emails remain; turning those off
    # as well leaves nobody to tell.
    if (is_true(get(rule, "disableDefaultIamRecipients")) and not is_set(rule, "monitoringNotificationChannels")
            and not is_set(rule, "pubsubTopic")):
        yield "Default recipients are disabled and no notification channel or Pub/Sub topic is set."


@resource_rule(
    name="budget-has-notifications",
    types=[AWS_BUDGET, GCP_BUDGET],
    description="Budgets notify someone: AWS notifications with an email or SNS subscriber; GCP threshold rules "
                "with recipients. A budget without a target alerts nobody (platform rule).",
    severity="high",
    levels=MANDATORY,
    remediation="AWS: add notifications (e.g. 80% FORECASTED, 100% ACTUAL) with subscriber_email_addresses or "
                "subscriber_sns_topic_arns. GCP: add threshold_rules (0.5/0.7/1.0) and keep default IAM "
                "recipients or set monitoring_notification_channels.",
)
def has_notifications(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    yield from (_aws_gaps if args.resource_type == AWS_BUDGET else _gcp_gaps)(args.props)


@stack_rule(
    name="stack-has-budget",
    description="Every environment has a budget on each cloud it deploys to (platform rule).",
    severity="high",
    levels=MANDATORY,
    remediation="Add the budget component for that cloud to the stack (aws.budgets.Budget filtered on the "
                "Environment tag; gcp.billing.Budget filtered on the project).",
)
def has_budget(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[None, str]]:
    for cloud, budget_type in BUDGETS.items():
        types = {r.resource_type for r in args.resources}
        if any(t.startswith(f"{cloud}:") for t in types) and budget_type not in types:
            yield None, f"The stack deploys {cloud} resources but has no {budget_type}."
