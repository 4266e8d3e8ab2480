"""GcpBudget: a monthly billing budget for one project, alerting by e-mail and publishing to Pub/Sub."""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import billing, pubsub

from genai_platform.components.tagging import gcp_labels

BUDGET_PUBLISHER = "serviceAccount:billing-budget-alert@system.gserviceaccount.com"
"""The Google-managed principal Cloud Billing publishes budget messages as."""

MAX_THRESHOLD = 10.0
"""Highest threshold accepted, as a fraction of the amount (10.0 = 1000 %)."""

MAX_NOTIFICATION_CHANNELS = 5
"""Cloud Billing accepts at most five monitoring channels per budget."""

_BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
_CHANNEL = re.compile(r"^projects/[^/]+/notificationChannels/[^/]+$")


@dataclass
class GcpBudgetArgs:
    """Arguments of :class:`GcpBudget`. Defaults follow Google's recommended 50/70/100 % alerts."""

    billing_account: str
    """Billing account ID (``XXXXXX-XXXXXX-XXXXXX``); the deployer needs Billing Account Costs Manager on it."""

    project_number: str
    """Number (not ID) of the project whose spend is counted: budgets filter on ``projects/<number>``.
    One project per environment gives each environment its own budget."""

    amount_usd: float
    """Monthly budget in ``currency_code`` units (> 0)."""

    currency_code: str = "USD"
    """Currency of the amount; it must be the billing account's own currency or the API rejects the budget."""

    current_spend_thresholds: list[float] = field(default_factory=lambda: [0.5, 0.7, 1.0])
    """Alert when actual spend passes these fractions of the amount (0.5 = 50 %; 0 < t <= 10)."""

    forecasted_spend_thresholds: list[float] = field(default_factory=lambda: [1.0])
    """Alert when the month's forecast passes these fractions: a warning days before the money is spent."""

    monitoring_notification_channels: list[pulumi.Input[str]] = field(default_factory=list)
    """Cloud Monitoring channels (``projects/<p>/notificationChannels/<id>``, at most 5; e.g. the ``name`` of a
    ``monitoring.NotificationChannel``) alerted in addition to the billing account's administrators and users."""

    disable_default_iam_recipients: bool = False
    """Stop e-mailing Billing Account Administrators/Users. Default False: they are the alert of last
    resort. Turn off only when notification channels (or a Pub/Sub consumer) take over."""

    allow_topic_only: bool = False
    """Accept a budget whose only target is the Pub/Sub topic (something outside this component, e.g. a
    function posting to chat, consumes it). Default False: such a budget alerts nobody by itself."""

    include_credits: bool = False
    """Count spend after credits (free tier, promotions, committed-use). Default False: credits can hide
    a runaway cost until they run out, so the budget tracks gross spend."""

    kms_key_name: pulumi.Input[str] | None = None
    """Cloud KMS key encrypting the topic's messages (CMEK); the Pub/Sub service agent needs
    ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on it (``KmsKeyRing`` grants it). Default none:
    Google-managed encryption. Cloud Billing publishes as before: Pub/Sub, not the publisher, uses the key."""

    topic_project: str | None = None
    """Project of the Pub/Sub topic; default: the provider's ``gcp:project``."""

    display_name: str | None = None
    """Name shown in the billing console (at most 60 characters); default: the component name."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra labels (lower-cased for GCP) on the topic (budgets take no labels)."""


class GcpBudget(pulumi.ComponentResource):
    """A monthly Cloud Billing budget scoped to one project.

    Alerts at 50/70/100 % of actual and 100 % of forecasted spend by default, e-mails the billing
    account's administrators, optional monitoring channels, and publishes every update to a Pub/Sub topic
    that only Cloud Billing may publish to (for automated responses such as capping GPU instances).
    """

    budget_name: pulumi.Output[str]
    """Resource name of the budget, ``billingAccounts/<account>/budgets/<id>``."""
    topic_id: pulumi.Output[str]
    """ID of the Pub/Sub topic, ``projects/<project>/topics/<name>``: subscribe consumers here."""

    def __init__(self, name: str, args: GcpBudgetArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:gcp:GcpBudget", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        topic = pubsub.Topic(f"{name}-alerts", project=args.topic_project, kms_key_name=args.kms_key_name,
                             labels=gcp_labels(args.tags), opts=child)
        # Cloud Billing adds this binding itself when a topic is connected; owning it keeps it from being
        # removed by an authoritative IAM policy elsewhere and makes the dependency explicit.
        publisher = pubsub.TopicIAMMember(
            f"{name}-alerts-publisher",
            topic=topic.name,
            project=topic.project,
            role="roles/pubsub.publisher",
            member=BUDGET_PUBLISHER,
            opts=child,
        )

        units = int(args.amount_usd)
        rules = [billing.BudgetThresholdRuleArgs(threshold_percent=t, spend_basis="CURRENT_SPEND")
                 for t in sorted(args.current_spend_thresholds)]
        rules += [billing.BudgetThresholdRuleArgs(threshold_percent=t, spend_basis="FORECASTED_SPEND")
                  for t in sorted(args.forecasted_spend_thresholds)]
        budget = billing.Budget(
            f"{name}-budget",
            billing_account=args.billing_account,
            display_name=args.display_name or name,
            amount=billing.BudgetAmountArgs(specified_amount=billing.BudgetAmountSpecifiedAmountArgs(
                currency_code=args.currency_code, units=str(units), nanos=round((args.amount_usd - units) * 1e9))),
            budget_filter=billing.BudgetBudgetFilterArgs(
                projects=[f"projects/{args.project_number}"],
                calendar_period="MONTH",
                credit_types_treatment="INCLUDE_ALL_CREDITS" if args.include_credits else "EXCLUDE_ALL_CREDITS",
            ),
            threshold_rules=rules,
            all_updates_rule=billing.BudgetAllUpdatesRuleArgs(
                pubsub_topic=topic.id,
                schema_version="1.0",
                monitoring_notification_channels=args.monitoring_notification_channels or None,
                disable_default_iam_recipients=args.disable_default_iam_recipients,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[publisher]),
        )

        self.budget_name, self.topic_id = budget.name, topic.id
        self.register_outputs({"budget_name": self.budget_name, "topic_id": self.topic_id})


def _validate(name: str, args: GcpBudgetArgs) -> None:
    if not _BILLING_ACCOUNT.match(args.billing_account):
        raise ValueError(f"billing_account={args.billing_account!r} is not a billing account ID: use the "
                         "'XXXXXX-XXXXXX-XXXXXX' form shown in the billing console (upper-case hex).")
    if not args.project_number.isdigit():
        raise ValueError(f"project_number={args.project_number!r} is not a project number: budgets filter on the "
                         "numeric project number (gcloud projects describe <id> --format='value(projectNumber)').")
    if not args.amount_usd > 0:
        raise ValueError(f"amount_usd={args.amount_usd} must be greater than 0.")
    if not re.fullmatch(r"[A-Z]{3}", args.currency_code):
        raise ValueError(f"currency_code={args.currency_code!r} is not an ISO 4217 code: use e.g. 'USD' or 'EUR'.")
    display_name = args.display_name or name
    if len(display_name) > 60:
        raise ValueError(f"display_name={display_name!r} is longer than 60 characters: pass a shorter display_name.")
    for argument in ("current_spend_thresholds", "forecasted_spend_thresholds"):
        thresholds = getattr(args, argument)
        for threshold in thresholds:
            if not 0 < threshold <= MAX_THRESHOLD:
                raise ValueError(f"{argument} contains {threshold}, out of range: use fractions of the amount "
                                 f"above 0 and at most {MAX_THRESHOLD} (0.5 = 50 %).")
        if len(set(thresholds)) != len(thresholds):
            raise ValueError(f"{argument}={thresholds} repeats a threshold: list each once.")
    if not args.current_spend_thresholds and not args.forecasted_spend_thresholds:
        raise ValueError("current_spend_thresholds and forecasted_spend_thresholds are both empty: the budget would "
                         "never alert; keep at least one threshold.")
    channels = args.monitoring_notification_channels
    if len(channels) > MAX_NOTIFICATION_CHANNELS:
        raise ValueError(f"monitoring_notification_channels has {len(channels)} channels: Cloud Billing accepts at "
                         f"most {MAX_NOTIFICATION_CHANNELS}.")
    for channel in channels:
        if isinstance(channel, str) and not _CHANNEL.match(channel):
            raise ValueError(f"monitoring_notification_channels contains {channel!r}: use the channel's resource "
                             "name, 'projects/<project>/notificationChannels/<id>'.")
    if args.disable_default_iam_recipients and not channels and not args.allow_topic_only:
        raise ValueError("disable_default_iam_recipients=True with no monitoring_notification_channels alerts nobody: "
                         "name a notification channel, keep the default recipients, or set allow_topic_only=True "
                         "if a consumer of the Pub/Sub topic handles alerts.")
