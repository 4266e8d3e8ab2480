"""SQS: encrypted queues, TLS-only queue policies, and a dead-letter queue behind every work queue."""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from genai_platform.policies.registry import MANDATORY, RuleContext, Setting, resource_rule, stack_rule
from genai_platform.policies.stackview import Deferred, companions_by_target, identifiers, label, of_types
from genai_platform.policies.values import denies_insecure_transport, is_placeholder, is_true, parse_json, peek

QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
REDRIVE_POLICY = "aws:sqs/redrivePolicy:RedrivePolicy"
REDRIVE_ALLOW_POLICY = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"


@resource_rule(
    name="sqs-encryption",
    types=[QUEUE],
    description="SQS queues encrypt messages at rest with SSE-SQS or a KMS key "
                "(checkov CKV_AWS_27, cdk-nag AwsSolutions-SQS2).",
    severity="high",
    levels=MANDATORY,
    remediation="Set sqs_managed_sse_enabled=True, or kms_master_key_id=<key> when consumers must be "
                "limited by key policy.",
)
def encryption(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not is_true(args.props.get("sqsManagedSseEnabled")) and not args.props.get("kmsMasterKeyId"):
        yield "Neither sqsManagedSseEnabled nor kmsMasterKeyId is set."


@stack_rule(
    name="sqs-tls-only",
    description="Every SQS queue's policy denies requests made without TLS (cdk-nag AwsSolutions-SQS4).",
    severity="medium",
    levels=MANDATORY,
    remediation="Add an aws.sqs.QueuePolicy (queue_url=<queue>.url) with a Deny of sqs:* when Bool "
                "aws:SecureTransport is 'false'.",
)
def tls_only(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    queues = of_types(args, [QUEUE])
    policies = companions_by_target(queues, of_types(args, [QUEUE_POLICY]), ["queueUrl"])

    def denies(props: Mapping[str, Any]) -> bool:
        return denies_insecure_transport(props.get("policy"))

    deferred = Deferred()  # a policy unknown at preview is judged at the update
    for queue in queues:
        if not deferred.check(denies, queue.props) and not any(deferred.check(denies, p.props)
                                                               for p in policies[queue.urn]):
            yield queue.urn, f"{label(queue)} has no policy denying aws:SecureTransport=false."
    deferred.raise_if_any()


def _dead_letter_target(props: Mapping[str, Any]) -> str | None:
    """The DLQ ARN a redrive policy names; ``"[unknown]"`` when it exists but cannot be read yet."""
    value = peek(props, "redrivePolicy")
    if not value:
        return None
    parsed = parse_json(value)
    if not isinstance(parsed, Mapping):
        return value if is_placeholder(value) else None
    target = parsed.get("deadLetterTargetArn")
    return str(target) if target else None


@stack_rule(
    name="sqs-has-dead-letter-queue",
    description="Every SQS queue that is not itself a dead-letter queue redrives poison messages to one "
                "(cdk-nag AwsSolutions-SQS3).",
    severity="medium",
    levels=MANDATORY,
    remediation="Create a DLQ and set redrive_policy={'deadLetterTargetArn': <dlq>.arn, 'maxReceiveCount': 5} "
                "on the queue (or an aws.sqs.RedrivePolicy), plus a redrive-allow policy on the DLQ.",
    settings={"deadLetterQueuePattern": Setting(
        {"type": "string"}, r"(^|[-_])(dlq|dead-?letter)([-_]|$)",
        description="Regex over queue names marking a queue as a dead-letter queue.")},
)
def has_dead_letter_queue(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    queues = of_types(args, [QUEUE])
    redrives = of_types(args, [REDRIVE_POLICY])
    redrive_of = companions_by_target(queues, redrives, ["queueUrl"])
    allowed_sources = companions_by_target(queues, of_types(args, [REDRIVE_ALLOW_POLICY]), ["queueUrl"])
    dead_letter_arns = {t for t in (_dead_letter_target(r.props) for r in [*queues, *redrives]) if t}
    for queue in queues:
        is_dead_letter = (identifiers(queue) & dead_letter_arns or allowed_sources[queue.urn]
                          or re.search(ctx["deadLetterQueuePattern"], queue.name, re.IGNORECASE))
        if is_dead_letter or _dead_letter_target(queue.props) or redrive_of[queue.urn]:
            continue
        yield queue.urn, f"{label(queue)} has no dead-letter queue."
