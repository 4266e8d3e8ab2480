"""AlertTopic: the encrypted SNS topic every CloudWatch alarm of an environment notifies, with e-mail subscribers."""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import kms, sns

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.data_helpers import (EMAIL_ADDRESS, KEY_ADMIN_ACTIONS, deny_insecure_transport, policy_json,
                                         rotating_key)
from genai_platform.components.tagging import child_tags

CLOUDWATCH = "cloudwatch.amazonaws.com"
EVENTBRIDGE = "events.amazonaws.com"
PROMETHEUS = "aps.amazonaws.com"
KEY_USE_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*"]
"""What a service publishing to an SSE-KMS topic needs on its key (SNS generates the data key as the publisher)."""


@dataclass
class AlertTopicArgs:
    """Arguments of :class:`AlertTopic`. Every default is the secure one."""

    alert_emails: list[str] = field(default_factory=list)
    """Addresses subscribed by e-mail (a team list or a pager's e-mail integration). SNS sends each a
    confirmation link and delivers nothing until it is clicked. Required unless ``allow_no_subscribers``."""

    allow_no_subscribers: bool = False
    """Accept no ``alert_emails`` because something outside this component (AWS Chatbot, PagerDuty's HTTPS
    endpoint, a Lambda) subscribes to ``topic_arn``. Default False: a topic nobody reads alerts nobody."""

    allow_eventbridge: bool = False
    """Also let EventBridge rules of this account publish (ECS deployment failures, GuardDuty findings...).
    Default False: only CloudWatch alarms publish, the narrowest policy."""

    allow_prometheus: bool = False
    """Also let the alert managers of this account's Amazon Managed Service for Prometheus workspaces
    publish (``PrometheusWorkspace``). Default False: only CloudWatch alarms publish."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class AlertTopic(pulumi.ComponentResource):
    """One SNS topic per environment for CloudWatch alarm notifications.

    Encrypted with its own rotating KMS key: CloudWatch cannot publish to a topic encrypted with the
    AWS-managed ``alias/aws/sns`` key, whose policy cannot be changed to admit it. Only CloudWatch (and,
    when asked, EventBridge) of this account may publish, and only over TLS.
    """

    topic_arn: pulumi.Output[str]
    """ARN of the topic: pass it as ``alarm_actions``/``ok_actions`` of every alarm."""
    kms_key_arn: pulumi.Output[str]
    """ARN of the key encrypting the topic (any other publisher needs ``kms:GenerateDataKey*`` and ``kms:Decrypt``)."""

    def __init__(self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:aws:AlertTopic", name, None, opts)
        here = account_of(self)
        account, partition = here.account_id, here.partition
        services = [CLOUDWATCH, EVENTBRIDGE] if args.allow_eventbridge else [CLOUDWATCH]

        key = rotating_key(f"{name}-key", f"Encrypts the alert topic {name}", args.tags, self, protect=False)
        key_policy = kms.KeyPolicy(
            f"{name}-key-policy",
            key_id=key.key_id,
            policy=policy_json(_key_statements(account, partition, args.allow_eventbridge, args.allow_prometheus)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        topic = sns.Topic(
            f"{name}-topic",
            kms_master_key_id=key.arn,
            tags=child_tags(f"{name}-topic", args.tags),
            # Anything that reads topic_arn waits for the key policy: an alarm firing before CloudWatch may use
            # the key would be dropped without an error.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[key_policy]),
        )
        sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: policy_json([
                # aws:SourceAccount stops another account's alarms from publishing here (confused deputy).
                {"Sid": "AlarmServicesPublish", "Effect": "Allow", "Principal": {"Service": services},
                 "Action": "sns:Publish", "Resource": arn,
                 "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
                *([_prometheus_publishes(arn, account, partition)] if args.allow_prometheus else []),
                deny_insecure_transport("sns", [arn]),
            ])),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for address in args.alert_emails:
            sns.TopicSubscription(f"{name}-email-{_slug(address)}", topic=topic.arn, protocol="email", endpoint=address,
                                  opts=pulumi.ResourceOptions(parent=self))

        self.topic_arn, self.kms_key_arn = topic.arn, key.arn
        self.register_outputs({"topic_arn": self.topic_arn, "kms_key_arn": self.kms_key_arn})


def _key_statements(account: str, partition: str, allow_eventbridge: bool, allow_prometheus: bool) -> list[dict]:
    # In a key policy "Resource": "*" means this key only.
    statements = [
        # The account manages and uses the key through IAM policies; listed actions, never "kms:*".
        {"Sid": "AccountManagesAndUsesKeyThroughIam", "Effect": "Allow",
         "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": KEY_ADMIN_ACTIONS, "Resource": "*"},
        {"Sid": "CloudWatchEncryptsAlarmMessages", "Effect": "Allow", "Principal": {"Service": CLOUDWATCH},
         "Action": KEY_USE_ACTIONS, "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
    ]
    if allow_eventbridge:
        # No aws:SourceAccount here: EventBridge's KMS requests do not carry it, so the condition would drop every
        # event. The topic policy still admits only this account's rules, and the key alone publishes nothing.
        statements.append({"Sid": "EventBridgeEncryptsEvents", "Effect": "Allow", "Principal": {"Service": EVENTBRIDGE},
                           "Action": KEY_USE_ACTIONS, "Resource": "*"})
    if allow_prometheus:
        statements.append({"Sid": "PrometheusEncryptsAlerts", "Effect": "Allow", "Principal": {"Service": PROMETHEUS},
                           "Action": KEY_USE_ACTIONS, "Resource": "*",
                           "Condition": {"StringEquals": {"aws:SourceAccount": account}}})
    return statements


def _prometheus_publishes(topic_arn: str, account: str, partition: str) -> dict:
    # The AMP alert manager reads the topic's attributes before publishing; only this account's workspaces.
    return {"Sid": "PrometheusAlertManagersPublish", "Effect": "Allow", "Principal": {"Service": PROMETHEUS},
            "Action": ["sns:Publish", "sns:GetTopicAttributes"], "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account},
                          "ArnLike": {"aws:SourceArn": f"arn:{partition}:aps:*:{account}:workspace/*"}}}


def _slug(address: str) -> str:
    # Subscriptions are named after their address, so adding or removing one never renames the others.
    return re.sub(r"[^a-z0-9]+", "-", address.lower()).strip("-")


def _validate(args: AlertTopicArgs) -> None:
    if not args.alert_emails and not args.allow_no_subscribers:
        raise ValueError("alert_emails=[] alerts nobody: pass at least one address, or set allow_no_subscribers=True "
                         "if something else (AWS Chatbot, a paging webhook) subscribes to the topic.")
    for address in args.alert_emails:
        if not EMAIL_ADDRESS.match(address):
            raise ValueError(f"alert_emails contains {address!r}, which is not an e-mail address.")
    slugs = [_slug(address) for address in args.alert_emails]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"alert_emails={args.alert_emails} lists an address twice (compared ignoring case and "
                         "punctuation, which subscription names drop): list each once.")
