"""QueueWithDlq: an SQS queue with its dead-letter queue, TLS-only policies, encryption and alarms."""

import json
import re
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import cloudwatch, sqs

from genai_platform.components.aws.data_helpers import (
    access_policy_json,
    check_kms_key_arn,
    deny_insecure_transport,
    policy_json,
)
from genai_platform.components.aws.limits import check_auto_name
from genai_platform.components.tagging import child_tags
from genai_platform.components.validation import check_range

DLQ_RETENTION_SECONDS = 1_209_600
"""14 days, SQS's maximum. For standard queues a message keeps its original enqueue time when it moves
to the DLQ, so the DLQ must retain at least as long as the source queue or messages expire on arrival."""

_MAX_NAME = 80
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass
class QueueWithDlqArgs:
    """Arguments of :class:`QueueWithDlq`. Every default is the secure, cheap one."""

    max_receive_count: int = 5
    """Receives before SQS moves a message to the DLQ, 1-1000. Five absorbs transient failures without
    letting a poison message block workers for long."""

    visibility_timeout_seconds: int = 30
    """How long a received message stays hidden, 0-43200 s. Set it above the worst-case processing time of
    one message (Lambda consumers: six times the function timeout), or messages are processed twice."""

    message_retention_seconds: int = 345_600
    """How long the queue keeps a message, 60-1209600 s. Default 4 days (SQS's default): a weekend outage of
    the consumers loses nothing. The DLQ always keeps messages 14 days."""

    receive_wait_time_seconds: int = 20
    """Long polling, 0-20 s. 20 (the maximum) cuts empty receives, and so the request bill, to a minimum."""

    fifo: bool = False
    """FIFO queue and DLQ (exactly-once, ordered per message group; 300 msg/s per action without batching).
    Both names end in ``.fifo``; SQS cannot change the type later (the queues are replaced)."""

    content_based_deduplication: bool = False
    """FIFO only: deduplicate by a SHA-256 of the body instead of an explicit deduplication id."""

    kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed key for SSE-KMS. Default none: SQS-managed SSE (no key cost, no KMS calls). Pass a key
    when auditors need key-level revocation; its key policy must let producers' services use it, and the
    published producer/consumer policies then include the KMS actions."""

    oldest_message_age_alarm_seconds: int = 900
    """Alarm when the oldest message in the queue is older than this (consumers stalled or too slow).
    At least 60 s and below ``message_retention_seconds``: an older message has already expired."""

    alarm_actions: list[pulumi.Input[str]] = field(default_factory=list)
    """SNS topic ARNs notified when an alarm fires and when it recovers. Default none: the alarms still show
    in the console, but pass a topic in any shared environment or nobody is told."""

    s3_source_bucket_arns: list[pulumi.Input[str]] = field(default_factory=list)
    """Buckets whose S3 event notifications may send to the main queue (``BucketQueueNotification``). The queue
    policy admits ``s3.amazonaws.com`` for ``sqs:SendMessage`` only with ``aws:SourceArn`` equal to one of these and
    ``aws:SourceAccount`` equal to the queue's account (the confused-deputy guard). Default none. SSE-KMS queues
    would also need the key policy to let S3 use the key; the default SSE-SQS needs nothing more."""

    protect: bool = False
    """Pulumi ``protect`` on both queues (SQS has no deletion protection of its own)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class QueueWithDlq(pulumi.ComponentResource):
    """An SQS queue whose failed messages go to a dead-letter queue, with alarms on both.

    The redrive and redrive-allow policies are separate resources, so the queue and DLQ never reference
    each other directly (the dependency cycle of terraform-provider-aws #22577). Both queues are
    encrypted and deny any request not made over TLS.
    """

    queue_url: pulumi.Output[str]
    """URL producers send to and consumers receive from."""
    queue_arn: pulumi.Output[str]
    """ARN of the main queue (event source mappings, IAM)."""
    queue_name: pulumi.Output[str]
    """Name of the main queue (CloudWatch dimensions, KEDA scalers)."""
    dlq_url: pulumi.Output[str]
    """URL of the dead-letter queue (to inspect or redrive failed messages)."""
    dlq_arn: pulumi.Output[str]
    """ARN of the dead-letter queue."""
    dlq_name: pulumi.Output[str]
    """Name of the dead-letter queue (CloudWatch dimensions, dashboards)."""
    producer_policy_json: pulumi.Output[str]
    """IAM policy for producers: ``sqs:SendMessage`` and ``sqs:GetQueueAttributes`` on the queue (plus
    ``kms:GenerateDataKey`` and ``kms:Decrypt`` on the key with SSE-KMS)."""
    consumer_policy_json: pulumi.Output[str]
    """IAM policy for consumers: receive, delete, change visibility, get attributes (plus ``kms:Decrypt``)."""
    dlq_alarm_arn: pulumi.Output[str]
    """Alarm that fires as soon as a message lands in the DLQ."""
    age_alarm_arn: pulumi.Output[str]
    """Alarm on the age of the oldest message in the main queue."""
    event_target_arn: pulumi.Output[str]
    """The queue's ARN, resolved only once its policy (admitting ``s3_source_bucket_arns``) is in place: S3 checks
    that it may send when a notification is configured, so notifications must target this, not ``queue_arn``."""

    def __init__(self, name: str, args: QueueWithDlqArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:aws:QueueWithDlq", name, None, opts)
        self._name, self._tags, self._args = name, args.tags, args

        dlq = self._queue(f"{name}-dlq", DLQ_RETENTION_SECONDS)
        queue = self._queue(f"{name}-queue", args.message_retention_seconds)
        sqs.RedrivePolicy(
            f"{name}-redrive",
            queue_url=queue.url,
            redrive_policy=dlq.arn.apply(lambda arn: json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": args.max_receive_count})),
            opts=self._child(),
        )
        # Only this queue may redrive into the DLQ: another queue pointing here by mistake is refused.
        sqs.RedriveAllowPolicy(
            f"{name}-redrive-allow",
            queue_url=dlq.url,
            redrive_allow_policy=queue.arn.apply(lambda arn: json.dumps(
                {"redrivePermission": "byQueue", "sourceQueueArns": [arn]})),
            opts=self._child(),
        )
        policies = {}
        for suffix, target, sources in (("queue", queue, args.s3_source_bucket_arns), ("dlq", dlq, [])):
            policies[suffix] = sqs.QueuePolicy(
                f"{name}-{suffix}-policy",
                queue_url=target.url,
                policy=pulumi.Output.all(target.arn, *sources).apply(
                    lambda values: policy_json([deny_insecure_transport("sqs", [values[0]]),
                                                *s3_send_statements(values[0], values[1:])])),
                opts=self._child(),
            )

        dlq_alarm = self._alarm(
            "dlq-not-empty", dlq.name, "ApproximateNumberOfMessagesVisible", 0,
            "A message failed max_receive_count times and is in the dead-letter queue: inspect it, fix, redrive.",
        )
        age_alarm = self._alarm(
            "oldest-message-age", queue.name, "ApproximateAgeOfOldestMessage", args.oldest_message_age_alarm_seconds,
            "The oldest message has waited longer than the threshold: consumers are down or too slow.",
        )

        self.queue_url, self.queue_arn, self.queue_name = queue.url, queue.arn, queue.name
        self.dlq_url, self.dlq_arn, self.dlq_name = dlq.url, dlq.arn, dlq.name
        self.producer_policy_json = access_policy_json(
            [("UseQueue", ["sqs:SendMessage", "sqs:GetQueueAttributes"], queue.arn)],
            args.kms_key_arn, ["kms:GenerateDataKey", "kms:Decrypt"])
        self.consumer_policy_json = access_policy_json(
            [("UseQueue", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                           "sqs:GetQueueAttributes"], queue.arn)],
            args.kms_key_arn, ["kms:Decrypt"])
        self.dlq_alarm_arn, self.age_alarm_arn = dlq_alarm.arn, age_alarm.arn
        self.event_target_arn = pulumi.Output.all(queue.arn, policies["queue"].id).apply(lambda values: values[0])
        self.register_outputs(
            {
                "queue_url": self.queue_url,
                "queue_arn": self.queue_arn,
                "dlq_url": self.dlq_url,
                "dlq_arn": self.dlq_arn,
                "dlq_name": self.dlq_name,
                "producer_policy_json": self.producer_policy_json,
                "consumer_policy_json": self.consumer_policy_json,
                "dlq_alarm_arn": self.dlq_alarm_arn,
                "age_alarm_arn": self.age_alarm_arn,
                "event_target_arn": self.event_target_arn,
            }
        )

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _queue(self, logical_name: str, retention_seconds: int) -> sqs.Queue:
        args = self._args
        fifo_options = {}
        if args.fifo:
            # SQS requires the .fifo suffix, which auto-names do not carry, so FIFO queues are named
            # explicitly; delete-before-replace lets a replacement reuse the name.
            fifo_options = {"name": f"{logical_name.removesuffix('-queue')}.fifo", "fifo_queue": True,
                            "content_based_deduplication": args.content_based_deduplication}
        return sqs.Queue(
            logical_name,
            message_retention_seconds=retention_seconds,
            visibility_timeout_seconds=args.visibility_timeout_seconds,
            receive_wait_time_seconds=args.receive_wait_time_seconds,
            sqs_managed_sse_enabled=None if args.kms_key_arn is not None else True,
            kms_master_key_id=args.kms_key_arn,
            # Five minutes of data-key reuse: at most one KMS call per 5 min per consumer, not per message.
            kms_data_key_reuse_period_seconds=300 if args.kms_key_arn is not None else None,
            tags=child_tags(logical_name, self._tags),
            opts=self._child(protect=args.protect, delete_before_replace=args.fifo or None),
            **fifo_options,
        )

    def _alarm(self, suffix: str, queue_name: pulumi.Output[str], metric: str, threshold: int,
               description: str) -> cloudwatch.MetricAlarm:
        alarm_name = f"{self._name}-{suffix}"
        return cloudwatch.MetricAlarm(
            alarm_name,
            alarm_description=description,
            namespace="AWS/SQS",
            metric_name=metric,
            dimensions={"QueueName": queue_name},
            statistic="Maximum",
            period=60,  # SQS publishes queue metrics every minute; a shorter period would only see gaps
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=threshold,
            # SQS stops publishing for queues idle for hours; an idle queue is a healthy one.
            treat_missing_data="notBreaching",
            alarm_actions=self._args.alarm_actions,
            ok_actions=self._args.alarm_actions,
            tags=child_tags(alarm_name, self._tags),
            opts=self._child(),
        )


def s3_send_statements(queue_arn: str, bucket_arns: list[str]) -> list[dict]:
    """The statement letting S3 event notifications of exactly ``bucket_arns`` (in the queue's account) send."""
    if not bucket_arns:
        return []
    account = queue_arn.split(":")[4]
    return [{
        "Sid": "S3EventNotifications",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": list(bucket_arns)},
                      "StringEquals": {"aws:SourceAccount": account}},
    }]


def _validate(name: str, args: QueueWithDlqArgs) -> None:
    check_range("max_receive_count", args.max_receive_count, 1, 1000)
    check_range("visibility_timeout_seconds", args.visibility_timeout_seconds, 0, 43_200, " (12 hours)")
    check_range("message_retention_seconds", args.message_retention_seconds, 60, DLQ_RETENTION_SECONDS,
                " (1 minute to 14 days)")
    check_range("receive_wait_time_seconds", args.receive_wait_time_seconds, 0, 20)
    if args.content_based_deduplication and not args.fifo:
        raise ValueError(
            "content_based_deduplication=True needs fifo=True: only FIFO queues deduplicate; "
            "set fifo=True or drop content_based_deduplication."
        )
    if not args.fifo:
        check_auto_name(name, "-queue", _MAX_NAME, "SQS queue")
    else:
        longest = f"{name}-dlq.fifo"
        if len(longest) > _MAX_NAME or not _QUEUE_NAME.match(name):
            raise ValueError(
                f"fifo=True names the queues after the component, but {longest!r} is not a valid SQS name: "
                f"use a component name of at most {_MAX_NAME - len('-dlq.fifo')} letters, digits, '-' or '_'."
            )
    low, high = 60, args.message_retention_seconds - 1
    if not low <= args.oldest_message_age_alarm_seconds <= high:
        raise ValueError(
            f"oldest_message_age_alarm_seconds={args.oldest_message_age_alarm_seconds} is out of range: use {low} "
            f"to {high} (below message_retention_seconds={args.message_retention_seconds}, when messages expire)."
        )
    for action in args.alarm_actions:
        if isinstance(action, str) and not (action.startswith("arn:") and ":sns:" in action):
            raise ValueError(f"alarm_actions contains {action!r}, which is not an SNS topic ARN: pass "
                             "arn:aws:sns:<region>:<account>:<topic>.")
    check_kms_key_arn("kms_key_arn", args.kms_key_arn)
    for bucket_arn in args.s3_source_bucket_arns:
        if isinstance(bucket_arn, str) and not (bucket_arn.startswith("arn:aws") and ":s3:::" in bucket_arn):
            raise ValueError(f"s3_source_bucket_arns contains {bucket_arn!r}, which is not an S3 bucket ARN: pass "
                             "Bucket.bucket_arn (arn:aws:s3:::<bucket>).")
