import json
import re

import pulumi
import pytest

from genai_platform.components.aws.observability.alert_topic import AlertTopic, AlertTopicArgs
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks

CONFIG = {"aws:region": "us-east-1"}
KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
EMAILS = ["platform-oncall@example.com", "ml-team@example.org"]
ROOT = f"arn:aws:iam::{ACCOUNT_ID}:root"


def plan_topic(**kwargs):
    def program():
        topic = AlertTopic("alerts", AlertTopicArgs(**{"alert_emails": EMAILS, **kwargs}))
        pulumi.export("topic_arn", topic.topic_arn)
        pulumi.export("kms_key_arn", topic.kms_key_arn)

    return run_under_mocks(program, config=CONFIG)


def statements(resource) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(resource.inputs["policy"])["Statement"]}


def test_children_and_counts():
    plan = plan_topic(tags={"Environment": "prod"})
    assert plan.type_counts() == {"genai:aws:AlertTopic": 1, KEY: 1, KEY_POLICY: 1, TOPIC: 1, TOPIC_POLICY: 1,
                                  SUBSCRIPTION: 2}
    for resource in plan.resources:
        if resource.custom:
            assert resource.parent.endswith("genai:aws:AlertTopic::alerts")
    assert plan.one(TOPIC).inputs["tags"] == {"Name": "alerts-topic", "ManagedBy": "pulumi",
                                              "Platform": "genai-platform", "Environment": "prod"}


def test_topic_is_encrypted_with_its_own_rotating_key():
    plan = plan_topic()
    key = plan.one(KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    topic = plan.one(TOPIC)
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"] == plan.outputs["kms_key_arn"]
    assert plan.one(KEY_POLICY).inputs["keyId"] == key.outputs["keyId"]
    # Nothing that reads topic_arn may run before CloudWatch is allowed to use the key.
    assert plan.one(KEY_POLICY).urn in topic.dependencies
    assert plan.outputs["topic_arn"] == topic.outputs["arn"]


def test_key_policy_lets_the_account_administer_and_cloudwatch_of_this_account_encrypt():
    policy = statements(plan_topic().one(KEY_POLICY))
    assert set(policy) == {"AccountManagesAndUsesKeyThroughIam", "CloudWatchEncryptsAlarmMessages"}
    account = policy["AccountManagesAndUsesKeyThroughIam"]
    assert account["Principal"] == {"AWS": ROOT}
    # Listed administration and use, never "kms:*": kms:Put* keeps the key manageable (PutKeyPolicy).
    assert account["Action"] == [
        "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
        "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
        "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
    ]
    assert account["Resource"] == "*"  # in a key policy: this key only
    cloudwatch = policy["CloudWatchEncryptsAlarmMessages"]
    assert cloudwatch["Effect"] == "Allow"
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cloudwatch["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_no_principal_but_the_account_root_gets_wildcard_or_admin_actions():
    for plan in (plan_topic(), plan_topic(allow_eventbridge=True)):
        for statement in json.loads(plan.one(KEY_POLICY).inputs["policy"])["Statement"]:
            if statement["Principal"] == {"AWS": ROOT}:
                continue
            assert statement["Effect"] == "Allow"
            assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_eventbridge_may_use_the_key_and_publish_when_asked():
    plan = plan_topic(allow_eventbridge=True)
    events = statements(plan.one(KEY_POLICY))["EventBridgeEncryptsEvents"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert "Condition" not in events  # EventBridge's KMS requests carry no aws:SourceAccount
    publish = statements(plan.one(TOPIC_POLICY))["AlarmServicesPublish"]
    assert publish["Principal"] == {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]}
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_topic_policy_admits_only_cloudwatch_of_this_account_and_denies_plain_http():
    plan = plan_topic()
    policy = plan.one(TOPIC_POLICY)
    topic_arn = plan.outputs["topic_arn"]
    assert policy.inputs["arn"] == topic_arn
    document = statements(policy)
    assert set(document) == {"AlarmServicesPublish", "DenyInsecureTransport"}
    assert document["AlarmServicesPublish"] == {
        "Sid": "AlarmServicesPublish", "Effect": "Allow", "Principal": {"Service": ["cloudwatch.amazonaws.com"]},
        "Action": "sns:Publish", "Resource": topic_arn,
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}}
    deny = document["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Principal"], deny["Action"], deny["Resource"]) == ("Deny", "*", "sns:*", [topic_arn])
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_each_address_gets_an_email_subscription_named_after_it():
    plan = plan_topic()
    topic_arn = plan.outputs["topic_arn"]
    subscriptions = {s.name: s.inputs for s in plan.of_type(SUBSCRIPTION)}
    assert subscriptions == {
        "alerts-email-platform-oncall-example-com": {"topic": topic_arn, "protocol": "email",
                                                     "endpoint": "platform-oncall@example.com"},
        "alerts-email-ml-team-example-org": {"topic": topic_arn, "protocol": "email",
                                             "endpoint": "ml-team@example.org"},
    }


def test_no_subscribers_when_explicitly_allowed():
    plan = plan_topic(alert_emails=[], allow_no_subscribers=True)
    assert plan.of_type(SUBSCRIPTION) == []
    assert len(plan.of_type(TOPIC)) == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"alert_emails": []},
     "alert_emails=[] alerts nobody: pass at least one address, or set allow_no_subscribers=True if something "
     "else (AWS Chatbot, a paging webhook) subscribes to the topic."),
    ({"alert_emails": ["oncall"]}, "alert_emails contains 'oncall', which is not an e-mail address."),
    ({"alert_emails": ["a@example.com", "A@Example.com"]},
     "alert_emails=['a@example.com', 'A@Example.com'] lists an address twice (compared ignoring case and "
     "punctuation, which subscription names drop): list each once."),
])
def test_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_topic(**kwargs)
