"""BucketQueueNotification: S3 event notifications of one bucket prefix to an SQS queue."""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import s3

_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]+/$")
_EVENT = re.compile(r"^s3:[A-Za-z]+:(\*|[A-Za-z]+)$")


@dataclass
class BucketQueueNotificationArgs:
    """Arguments of :class:`BucketQueueNotification`."""

    bucket_name: pulumi.Input[str]
    """The bucket whose events are sent (``Bucket.bucket_name``)."""

    queue_arn: pulumi.Input[str]
    """The queue receiving them: pass ``QueueWithDlq.event_target_arn`` (built with this bucket in
    ``s3_source_bucket_arns``), which resolves after the queue policy admits the bucket. S3 sends a test message
    when the notification is created and refuses the configuration if the policy is not there yet."""

    prefix: str = "incoming/"
    """Key prefix whose objects trigger a message (ends with '/'). Default ``incoming/``: uploads land there; the
    consumers' own writes elsewhere in the bucket never loop back into the queue."""

    events: list[str] = field(default_factory=lambda: ["s3:ObjectCreated:*"])
    """S3 event types; default every way an object is created (Put, Post, Copy, CompleteMultipartUpload)."""


class BucketQueueNotification(pulumi.ComponentResource):
    """The bucket's notification configuration: one queue target for one prefix.

    S3 keeps a single notification configuration per bucket, so this must be the only ``BucketNotification`` of
    the bucket (a second one overwrites it).
    """

    def __init__(self, name: str, args: BucketQueueNotificationArgs, opts: pulumi.ResourceOptions | None = None):
        if not _PREFIX.match(args.prefix):
            raise ValueError(f"prefix={args.prefix!r} is not a key prefix: use a folder ending with '/', "
                             "e.g. 'incoming/'.")
        if not args.events or not all(_EVENT.match(event) for event in args.events):
            raise ValueError(f"events={args.events} are not S3 event types: use e.g. ['s3:ObjectCreated:*'].")
        super().__init__("genai:aws:BucketQueueNotification", name, None, opts)
        s3.BucketNotification(
            f"{name}-notification",
            bucket=args.bucket_name,
            queues=[s3.BucketNotificationQueueArgs(id=f"{name}-{args.prefix.strip('/').replace('/', '-')}",
                                                   queue_arn=args.queue_arn, events=args.events,
                                                   filter_prefix=args.prefix)],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
