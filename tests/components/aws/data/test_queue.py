import json

import pulumi
import pytest

from genai_platform.components.aws.data.queue import QueueWithDlq, QueueWithDlqArgs
from genai_platform.mockcloud import run_under_mocks

QUEUE = "aws:sqs/queue:Queue"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alerts"
OUTPUTS = ("queue_url", "queue_arn", "dlq_url", "dlq_arn", "producer_policy_json", "consumer_policy_json",
           "dlq_alarm_arn", "age_alarm_arn")


def plan_queue(name: str = "ingest", **overrides):
    def program():
        queue = QueueWithDlq(name, QueueWithDlqArgs(**overrides))
        for output in OUTPUTS:
            pulumi.export(output, getattr(queue, output))

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


def queues(plan):
    return plan.named("ingest-queue", QUEUE), plan.named("ingest-dlq", QUEUE)


def test_children_exact_types_and_counts():
    assert plan_queue().type_counts() == {
        "genai:aws:QueueWithDlq": 1,
        QUEUE: 2,
        "aws:sqs/queuePolicy:QueuePolicy": 2,
        "aws:sqs/redrivePolicy:RedrivePolicy": 1,
        "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": 1,
        ALARM: 2,
    }


def test_both_queues_use_sqs_managed_encryption_by_default():
    for queue in queues(plan_queue()):
        assert queue.inputs["sqsManagedSseEnabled"] is True
        assert "kmsMasterKeyId" not in queue.inputs


def test_a_given_kms_key_replaces_sqs_managed_encryption():
    for queue in queues(plan_queue(kms_key_arn=KEY_ARN)):
        assert queue.inputs["kmsMasterKeyId"] == KEY_ARN
        assert queue.inputs["kmsDataKeyReusePeriodSeconds"] == 300
        assert "sqsManagedSseEnabled" not in queue.inputs


def test_retention_polling_and_visibility():
    queue, dlq = queues(plan_queue(visibility_timeout_seconds=600, message_retention_seconds=86_400))
    assert queue.inputs["messageRetentionSeconds"] == 86_400
    assert dlq.inputs["messageRetentionSeconds"] == 1_209_600
    for q in (queue, dlq):
        assert q.inputs["visibilityTimeoutSeconds"] == 600 and q.inputs["receiveWaitTimeSeconds"] == 20


def test_redrive_policies_are_separate_resources_without_a_cycle():
    plan = plan_queue(max_receive_count=3)
    queue, dlq = queues(plan)
    for q in (queue, dlq):
        assert not {"redrivePolicy", "redriveAllowPolicy", "policy"} & q.inputs.keys()
    assert dlq.urn not in queue.dependencies and queue.urn not in dlq.dependencies
    redrive = plan.one("aws:sqs/redrivePolicy:RedrivePolicy").inputs
    assert redrive["queueUrl"] == queue.outputs["url"]
    assert json.loads(redrive["redrivePolicy"]) == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": 3}
    allow = plan.one("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy").inputs
    assert allow["queueUrl"] == dlq.outputs["url"]
    assert json.loads(allow["redriveAllowPolicy"]) == {"redrivePermission": "byQueue",
                                                       "sourceQueueArns": [queue.outputs["arn"]]}


def test_queue_policies_deny_requests_without_tls_on_both_queues():
    plan = plan_queue()
    for queue in queues(plan):
        policy = plan.named(f"{queue.name}-policy", "aws:sqs/queuePolicy:QueuePolicy").inputs
        assert policy["queueUrl"] == queue.outputs["url"]
        statement, = json.loads(policy["policy"])["Statement"]
        assert statement == {
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
            "Resource": [queue.outputs["arn"]], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }


def test_fifo_names_both_queues_with_the_suffix():
    plan = plan_queue(fifo=True, content_based_deduplication=True)
    queue, dlq = queues(plan)
    assert (queue.inputs["name"], dlq.inputs["name"]) == ("ingest.fifo", "ingest-dlq.fifo")
    for q in (queue, dlq):
        assert q.inputs["fifoQueue"] is True and q.inputs["contentBasedDeduplication"] is True
    assert plan.outputs["queue_url"] == "https://sqs.us-east-1.amazonaws.com/123456789012/ingest.fifo"
    assert plan.outputs["dlq_arn"] == "arn:aws:sqs:us-east-1:123456789012:ingest-dlq.fifo"


def test_standard_queues_are_auto_named():
    for queue in queues(plan_queue()):
        assert not {"name", "fifoQueue", "contentBasedDeduplication"} & queue.inputs.keys()


def test_alarms_watch_the_dlq_and_the_oldest_message():
    plan = plan_queue(oldest_message_age_alarm_seconds=1800, alarm_actions=[TOPIC])
    queue, dlq = queues(plan)
    dlq_alarm = plan.named("ingest-dlq-not-empty", ALARM).inputs
    assert (dlq_alarm["namespace"], dlq_alarm["metricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert dlq_alarm["dimensions"] == {"QueueName": dlq.outputs["name"]}
    assert (dlq_alarm["comparisonOperator"], dlq_alarm["threshold"]) == ("GreaterThanThreshold", 0)
    age = plan.named("ingest-oldest-message-age", ALARM).inputs
    assert (age["metricName"], age["threshold"]) == ("ApproximateAgeOfOldestMessage", 1800)
    assert age["dimensions"] == {"QueueName": queue.outputs["name"]}
    for alarm in (dlq_alarm, age):
        assert alarm["alarmActions"] == alarm["okActions"] == [TOPIC]
        assert alarm["statistic"] == "Maximum" and alarm["treatMissingData"] == "notBreaching"
    assert plan.outputs["dlq_alarm_arn"].startswith("arn:aws:cloudwatch:us-east-1:123456789012:alarm:")


def policy_statements(plan, output):
    statements = json.loads(plan.outputs[output])["Statement"]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert not [a for a in statement["Action"] if "*" in a]
        assert not [r for r in statement["Resource"] if "*" in r]
    return statements


def test_producer_and_consumer_policies_are_least_privilege():
    plan = plan_queue()
    queue_arn = plan.outputs["queue_arn"]
    assert policy_statements(plan, "producer_policy_json") == [
        {"Sid": "UseQueue", "Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"],
         "Resource": [queue_arn]},
    ]
    assert policy_statements(plan, "consumer_policy_json") == [
        {"Sid": "UseQueue", "Effect": "Allow",
         "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes"],
         "Resource": [queue_arn]},
    ]


def test_policies_add_the_key_when_sse_kms_is_used():
    plan = plan_queue(kms_key_arn=KEY_ARN)
    producer_key = policy_statements(plan, "producer_policy_json")[1]
    consumer_key = policy_statements(plan, "consumer_policy_json")[1]
    assert producer_key == {"Sid": "UseKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                            "Resource": [KEY_ARN]}
    assert consumer_key == {"Sid": "UseKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY_ARN]}


@pytest.mark.parametrize("protect", [True, False])
def test_protect_applies_to_both_queues_only(protect):
    plan = plan_queue(protect=protect)
    assert [q.protect for q in queues(plan)] == [protect, protect]
    assert not any(r.protect for r in plan.resources if r.type != QUEUE)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"max_receive_count": 0}, "max_receive_count=0 is out of range: use 1 to 1000."),
    ({"max_receive_count": 1001}, "max_receive_count=1001 is out of range: use 1 to 1000."),
    ({"visibility_timeout_seconds": 43_201},
     "visibility_timeout_seconds=43201 is out of range: use 0 to 43200 (12 hours)."),
    ({"message_retention_seconds": 59},
     "message_retention_seconds=59 is out of range: use 60 to 1209600 (1 minute to 14 days)."),
    ({"message_retention_seconds": 1_209_601},
     "message_retention_seconds=1209601 is out of range: use 60 to 1209600 (1 minute to 14 days)."),
    ({"receive_wait_time_seconds": 21}, "receive_wait_time_seconds=21 is out of range: use 0 to 20."),
    ({"content_based_deduplication": True},
     "content_based_deduplication=True needs fifo=True: only FIFO queues deduplicate; "
     "set fifo=True or drop content_based_deduplication."),
    ({"oldest_message_age_alarm_seconds": 30},
     "oldest_message_age_alarm_seconds=30 is out of range: use 60 to 345599 "
     "(below message_retention_seconds=345600, when messages expire)."),
    ({"message_retention_seconds": 600, "oldest_message_age_alarm_seconds": 900},
     "oldest_message_age_alarm_seconds=900 is out of range: use 60 to 599 "
     "(below message_retention_seconds=600, when messages expire)."),
    ({"alarm_actions": ["ops-alerts"]},
     "alarm_actions contains 'ops-alerts', which is not an SNS topic ARN: "
     "pass arn:aws:sns:<region>:<account>:<topic>."),
    ({"kms_key_arn": "alias/aws/sqs"},
     "kms_key_arn='alias/aws/sqs' is not a KMS key ARN: pass arn:aws:kms:<region>:<account>:key/<key-id> "
     "(IAM policies cannot name a key by alias or bare id)."),
])
def test_impossible_arguments_are_refused_with_the_fix(overrides, message):
    with pytest.raises(ValueError) as error:
        plan_queue(**overrides)
    assert str(error.value) == message


def test_fifo_names_must_fit_sqs_limits():
    with pytest.raises(ValueError) as error:
        plan_queue("x" * 72, fifo=True)
    assert str(error.value) == (
        f"fifo=True names the queues after the component, but {'x' * 72 + '-dlq.fifo'!r} is not a valid SQS name: "
        "use a component name of at most 71 letters, digits, '-' or '_'."
    )


def test_standard_queue_names_must_fit_the_auto_name():
    # Pulumi names the main queue "<name>-queue-<7 hex>"; SQS allows 80 characters and the provider only refuses
    # a longer one at `pulumi preview`, which the offline plan never runs.
    with pytest.raises(ValueError) as error:
        plan_queue("q" * 67)
    assert str(error.value) == (
        f"name='{'q' * 67}' has 67 characters, too many for the SQS queue named '{'q' * 67}-queue-' plus 7 random "
        "characters (at most 80): use a component name of at most 66 characters.")
    assert len(plan_queue("q" * 66).named(f"{'q' * 66}-queue", QUEUE).outputs["name"]) == 80
