"""AwsBudget: a monthly cost budget per environment, alerting by e-mail and through an encrypted SNS topic."""

import json
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import budgets, costexplorer, kms, sns

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.data_helpers import EMAIL_ADDRESS, KEY_ADMIN_ACTIONS
from genai_platform.components.tagging import COST_ALLOCATION_TAG, child_tags

MAX_NOTIFICATIONS = 10
"""AWS Budgets accepts at most ten notifications per budget."""

MAX_EMAIL_SUBSCRIBERS = 10
"""...and at most ten e-mail subscribers (plus one SNS topic) per notification."""

MAX_THRESHOLD_PERCENT = 1000

# Services that publish budget and cost-anomaly alerts to the topic (and so must use its key).
_ALERT_SERVICES = ["budgets.amazonaws.com", "costalerts.amazonaws.com"]



@dataclass
class AwsBudgetArgs:
    """Arguments of :class:`AwsBudget`. Defaults alert early (50/80/100 % actual, 100 % forecast)."""

    limit_amount_usd: float
    """Monthly cost limit in USD (> 0)."""

    alert_emails: list[str] = field(default_factory=list)
    """Addresses Budgets e-mails directly at every threshold (at most 10; no confirmation step, unlike
    an SNS e-mail subscription). Required unless ``allow_topic_only``: the topic alone alerts nobody."""

    actual_thresholds_percent: list[float] = field(default_factory=lambda: [50, 80, 100])
    """Alert when actual spend passes these percentages of the limit (0 < t <= 1000)."""

    forecasted_thresholds_percent: list[float] = field(default_factory=lambda: [100])
    """Alert when the month's forecast passes these percentages: the warning that comes before the bill."""

    account_wide: bool = False
    """Count the whole account's cost. Default False: count only resources whose ``Environment`` cost-
    allocation tag equals ``tags["Environment"]``, so environments sharing an account each get a budget.
    The tag must be activated once in the Billing console before Budgets can filter on it."""

    allow_topic_only: bool = False
    """Accept no ``alert_emails`` because something outside this component (AWS Chatbot, a Lambda)
    subscribes to the topic. Default False."""

    include_credits: bool = False
    """Net credits and refunds out of the spend. Default False: credits hide a runaway cost until they
    run out, so the budget tracks gross usage."""

    anomaly_detection: bool = False
    """Also create a Cost Anomaly Detection monitor over AWS services with an alert subscription.
    Default off: AWS allows one such monitor per account, so only one stack per account may turn it on."""

    anomaly_threshold_usd: float = 100.0
    """Alert on an anomaly whose total cost impact is at least this many USD (> 0)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child; the stack passes ``Environment``, which also scopes the budget."""


class AwsBudget(pulumi.ComponentResource):
    """A monthly AWS cost budget for one environment.

    Notifies e-mail recipients and an SNS topic encrypted with its own rotating KMS key (Budgets cannot
    publish to a topic encrypted with the AWS-managed ``alias/aws/sns`` key, whose policy cannot be changed).
    Only Budgets and Cost Anomaly Detection of this account may publish, and only over TLS.
    """

    budget_name: pulumi.Output[str]
    """Name of the budget."""
    topic_arn: pulumi.Output[str]
    """ARN of the alert topic: subscribe chat bots or automation here."""

    def __init__(self, name: str, args: AwsBudgetArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:aws:AwsBudget", name, None, opts)
        self._name, self._tags = name, args.tags
        here = account_of(self)
        account, partition = here.account_id, here.partition

        key = kms.Key(
            f"{name}-alerts",
            description=f"Encrypts the budget alert topic of {name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(_key_policy(account, partition)),
            tags=self._tagged(f"{name}-alerts"),
            opts=self._child(),
        )
        topic = sns.Topic(f"{name}-alerts", kms_master_key_id=key.arn, tags=self._tagged(f"{name}-alerts"),
                          opts=self._child())
        policy = sns.TopicPolicy(
            f"{name}-alerts",
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: json.dumps(_topic_policy(arn, account, partition))),
            opts=self._child(),
        )
        # Publishing before the policy exists fails silently on the service side; wait for it.
        after_policy = self._child(depends_on=[policy])

        budget = budgets.Budget(
            f"{name}-budget",
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=f"{args.limit_amount_usd:.2f}",
            limit_unit="USD",
            cost_filters=None if args.account_wide else [budgets.BudgetCostFilterArgs(
                name="TagKeyValue", values=[f"user:{COST_ALLOCATION_TAG}${args.tags[COST_ALLOCATION_TAG]}"])],
            cost_types=budgets.BudgetCostTypesArgs(include_credit=args.include_credits,
                                                   include_refund=args.include_credits),
            notifications=[
                budgets.BudgetNotificationArgs(
                    comparison_operator="GREATER_THAN",
                    notification_type=kind,
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                    subscriber_email_addresses=args.alert_emails or None,
                    subscriber_sns_topic_arns=[topic.arn],
                )
                for kind, thresholds in (("ACTUAL", args.actual_thresholds_percent),
                                         ("FORECASTED", args.forecasted_thresholds_percent))
                for threshold in sorted(thresholds)
            ],
            tags=self._tagged(f"{name}-budget"),
            opts=after_policy,
        )
        if args.anomaly_detection:
            self._anomaly_detection(topic, args, after_policy)

        self.budget_name, self.topic_arn = budget.name, topic.arn
        self.register_outputs({"budget_name": self.budget_name, "topic_arn": self.topic_arn})

    def _tagged(self, name: str) -> dict[str, str]:
        return child_tags(name, self._tags)

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _anomaly_detection(self, topic: sns.Topic, args: AwsBudgetArgs, opts: pulumi.ResourceOptions) -> None:
        name = f"{self._name}-anomalies"
        monitor = costexplorer.AnomalyMonitor(name, monitor_type="DIMENSIONAL", monitor_dimension="SERVICE",
                                              tags=self._tagged(name), opts=self._child())
        threshold = costexplorer.AnomalySubscriptionThresholdExpressionArgs(
            dimension=costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                key="ANOMALY_TOTAL_IMPACT_ABSOLUTE", match_options=["GREATER_THAN_OR_EQUAL"],
                values=[f"{args.anomaly_threshold_usd:g}"]),
        )
        # SNS subscribers must be IMMEDIATE and e-mail subscribers DAILY or WEEKLY, so they need
        # separate subscriptions: the topic hears at once, people get a daily digest.
        deliveries = [("", "IMMEDIATE", "SNS", [topic.arn])]
        if args.alert_emails:
            deliveries.append(("-daily", "DAILY", "EMAIL", args.alert_emails))
        for suffix, frequency, kind, addresses in deliveries:
            costexplorer.AnomalySubscription(
                f"{name}{suffix}",
                frequency=frequency,
                monitor_arn_lists=[monitor.arn],
                subscribers=[costexplorer.AnomalySubscriptionSubscriberArgs(type=kind, address=address)
                             for address in addresses],
                threshold_expression=threshold,
                tags=self._tagged(f"{name}{suffix}"),
                opts=opts,
            )


def _key_policy(account: str, partition: str) -> dict:
    # In a key policy "Resource": "*" means this key only.
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountManagesAndUsesKeyThroughIam", "Effect": "Allow",
             "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
             "Action": KEY_ADMIN_ACTIONS, "Resource": "*"},
            {"Sid": "AlertServicesEncryptMessages", "Effect": "Allow",
             "Principal": {"Service": _ALERT_SERVICES},
             "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
        ],
    }


def _topic_policy(topic_arn: str, account: str, partition: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            # aws:SourceAccount stops another account's budget from publishing here (confused deputy).
            {"Sid": "AlertServicesPublish", "Effect": "Allow", "Principal": {"Service": _ALERT_SERVICES},
             "Action": "sns:Publish", "Resource": topic_arn,
             "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
            {"Sid": "DenyPublishWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
             "Resource": topic_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }


def _validate(args: AwsBudgetArgs) -> None:
    if not args.limit_amount_usd > 0:
        raise ValueError(f"limit_amount_usd={args.limit_amount_usd} must be greater than 0.")
    for argument in ("actual_thresholds_percent", "forecasted_thresholds_percent"):
        thresholds = getattr(args, argument)
        for threshold in thresholds:
            if not 0 < threshold <= MAX_THRESHOLD_PERCENT:
                raise ValueError(f"{argument} contains {threshold}, out of range: use percentages above 0 and "
                                 f"at most {MAX_THRESHOLD_PERCENT}.")
        if len(set(thresholds)) != len(thresholds):
            raise ValueError(f"{argument}={thresholds} repeats a threshold: AWS rejects duplicate notifications.")
    count = len(args.actual_thresholds_percent) + len(args.forecasted_thresholds_percent)
    if count == 0:
        raise ValueError("actual_thresholds_percent and forecasted_thresholds_percent are both empty: the budget "
                         "would never alert; keep at least one threshold.")
    if count > MAX_NOTIFICATIONS:
        raise ValueError(f"{count} thresholds exceed the {MAX_NOTIFICATIONS} notifications AWS allows per budget: "
                         "drop some.")
    if not args.alert_emails and not args.allow_topic_only:
        raise ValueError("alert_emails=[] alerts nobody: the SNS topic has no subscriber of its own. Pass at least "
                         "one address, or set allow_topic_only=True if something else subscribes to the topic.")
    if len(args.alert_emails) > MAX_EMAIL_SUBSCRIBERS:
        raise ValueError(f"alert_emails has {len(args.alert_emails)} addresses: AWS Budgets allows at most "
                         f"{MAX_EMAIL_SUBSCRIBERS}; use a distribution list.")
    for address in args.alert_emails:
        if not EMAIL_ADDRESS.match(address):
            raise ValueError(f"alert_emails contains {address!r}, which is not an e-mail address.")
    if len(set(args.alert_emails)) != len(args.alert_emails):
        raise ValueError(f"alert_emails={args.alert_emails} lists an address twice: list each once.")
    if not args.account_wide and not args.tags.get(COST_ALLOCATION_TAG):
        raise ValueError(f"tags has no {COST_ALLOCATION_TAG!r} value to scope the budget to: pass "
                         f"tags={{'{COST_ALLOCATION_TAG}': '<env>'}} or set account_wide=True.")
    if args.anomaly_detection and not args.anomaly_threshold_usd > 0:
        raise ValueError(f"anomaly_threshold_usd={args.anomaly_threshold_usd} must be greater than 0.")
