"""Post-deploy checks of a live environment, driven by the stack's outputs (see ``output_keys``).

A resource that is missing or misconfigured is a failed check (the environment is unhealthy); an AWS
error (credentials, permissions, throttling, network) is an :class:`OpsError` (we could not look).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from genai_platform.aws_ops import output_keys as keys
from genai_platform.aws_ops.backend import FULL_PUBLIC_ACCESS_BLOCK
from genai_platform.aws_ops.errors import OpsError, call, shorten
from genai_platform.aws_ops.session import AwsSession

_NO_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


@dataclass(frozen=True)
class Check:
    """One row of the report."""

    check: str
    resource: str
    passed: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_HOW = "write it with pulumi stack output --json > FILE"
MAX_OUTPUTS_BYTES = 10 * 1024 * 1024
"""A stack's outputs are a few KiB; anything this large is the wrong file, and is not read into memory."""
_ENCODINGS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
              (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
"""Byte-order marks and their codecs (UTF-32 first: its little-endian mark starts like UTF-16's). Windows
PowerShell's ``>`` writes UTF-16 with a mark; PowerShell 7 and every other shell write UTF-8."""


def load_outputs(path: Path) -> dict[str, Any]:
    """The JSON object written by ``pulumi stack output --json``, in UTF-8, or UTF-16/32 with a byte-order mark."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_OUTPUTS_BYTES:
            raise OpsError(f"--outputs {path} is {size} bytes, more than stack outputs need ({MAX_OUTPUTS_BYTES}): "
                           f"{_HOW}")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise OpsError(f"cannot read --outputs {path}: {exc.strerror}: {_HOW}") from exc
    encoding = next((codec for mark, codec in _ENCODINGS if data.startswith(mark)), "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise OpsError(f"--outputs {path} is not {encoding.upper().removesuffix('-SIG')} text (byte {exc.start}): "
                       f"save it as UTF-8, or {_HOW}") from exc
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OpsError(f"--outputs {path} is not JSON ({exc.msg} at line {exc.lineno}): {_HOW}") from exc
    except RecursionError as exc:
        raise OpsError(f"--outputs {path} nests values too deeply to be stack outputs: {_HOW}") from exc
    if not isinstance(outputs, dict):
        raise OpsError(f"--outputs {path} holds a JSON {type(outputs).__name__}, not an object: {_HOW}")
    check_outputs(outputs, f"--outputs {path}")
    return outputs


def check_outputs(outputs: dict[str, Any], source: str = "the outputs") -> None:
    """Refuse outputs ``verify`` would misread: a check must only ever look at a resource the outputs name.

    Each value of a key in ``output_keys.ALL`` is a non-empty string, a list of them, or a dict of label ->
    non-empty string (``alarmNamePrefix``: a string). An empty identifier would make some AWS calls list
    every resource (``DescribeDBInstances`` without an identifier) and check whichever comes first.
    """
    if outputs and not any(key in outputs for key in keys.ALL):
        raise OpsError(f"{source} names none of {', '.join(keys.ALL)}: pass the outputs of a stack of this "
                       f"project ({_HOW})")
    for key in keys.ALL:
        if key not in outputs:
            continue
        value = outputs[key]
        if key == keys.ALARM_NAME_PREFIX:
            items = [value]
        elif isinstance(value, dict):
            items = list(value.values())
        else:
            items = value if isinstance(value, list) else [value]
        wrong = [item for item in items if not isinstance(item, str) or not item.strip()]
        if wrong:
            shown = shorten(json.dumps(wrong[0]))
            raise OpsError(f"{source}: {key} holds {shown}, not a non-empty name: "
                           + ("export the stack's alarm name prefix, e.g. prod-" if key == keys.ALARM_NAME_PREFIX
                              else "export a name, a list of names or a dict of label -> name")
                           + f" ({_HOW})")


def entries(value: Any, label: Callable[[str], str] = str) -> list[tuple[str, str]]:
    """(label, value) pairs from a string, a list, or a dict of label -> value."""
    if isinstance(value, dict):
        return [(str(name), str(item)) for name, item in value.items()]
    items = value if isinstance(value, list) else [value]
    return [(label(str(item)), str(item)) for item in items]


def run_checks(aws: AwsSession, outputs: dict[str, Any], env: str) -> list[Check]:
    check_outputs(outputs)
    checks = [Check("stack output", key, False, f"{key} is missing from the outputs: export it from the stack")
              for key in keys.ALL if key not in outputs]

    def given(key: str, label: Callable[[str], str] = str) -> list[tuple[str, str]]:
        return entries(outputs[key], label) if key in outputs else []

    checks += database_checks(aws, given(keys.DATABASE_IDENTIFIER), prod=env == "prod")
    checks += bucket_checks(aws, given(keys.BUCKET_NAMES))
    checks += queue_checks(aws, given(keys.QUEUE_URLS, _queue_name), given(keys.DLQ_URLS, _queue_name))
    checks += target_checks(aws, given(keys.ALB_TARGET_GROUP_ARNS, _target_group_name))
    checks += budget_checks(aws, given(keys.BUDGET_NAMES))
    if keys.ALARM_NAME_PREFIX in outputs:
        checks += alarm_checks(aws, str(outputs[keys.ALARM_NAME_PREFIX]))
    return checks


def database_checks(aws: AwsSession, databases: list[tuple[str, str]], *, prod: bool) -> list[Check]:
    rds, checks = aws.client("rds"), []
    for label, identifier in databases:
        found = call("rds:DescribeDBInstances", aws.arn("rds", f"db:{identifier}"), rds.describe_db_instances,
                     absent=("DBInstanceNotFound", "DBInstanceNotFoundFault"), DBInstanceIdentifier=identifier)
        if found is None:
            checks.append(Check("database exists", label, False, f"no DB instance {identifier} in {aws.region}"))
            continue
        db = found["DBInstances"][0]
        retention = db.get("BackupRetentionPeriod", 0)
        public = db.get("PubliclyAccessible") is True
        checks += [
            Check("database encrypted", label, bool(db.get("StorageEncrypted")),
                  "storage encrypted" if db.get("StorageEncrypted") else
                  "storage not encrypted (fixable only by restoring an encrypted snapshot copy)"),
            Check("database not public", label, not public, f"PubliclyAccessible={str(public).lower()}"),
            Check("database backups", label, retention > 0, f"backup retention {retention} days"),
        ]
        if prod:
            protected = bool(db.get("DeletionProtection"))
            checks.append(Check("database deletion protection", label, protected,
                                "on" if protected else "off (prod requires it)"))
    return checks


def bucket_checks(aws: AwsSession, buckets: list[tuple[str, str]]) -> list[Check]:
    s3, checks = aws.client("s3"), []
    for label, name in buckets:
        arn = aws.arn("s3", name)
        exists = call("s3:ListBucket", arn, s3.head_bucket, absent=("404", "NoSuchBucket"),
                      Bucket=name, ExpectedBucketOwner=aws.account_id)
        if exists is None:
            checks.append(Check("bucket exists", label, False, f"no bucket {name}"))
            continue
        block = call("s3:GetBucketPublicAccessBlock", arn, s3.get_public_access_block,
                     absent=("NoSuchPublicAccessBlockConfiguration",), Bucket=name)
        flags = (block or {}).get("PublicAccessBlockConfiguration", {})
        off = [flag for flag in FULL_PUBLIC_ACCESS_BLOCK if not flags.get(flag)]
        checks.append(Check("bucket blocks public access", label, not off,
                            "all four on" if not off else
                            "no public access block" if block is None else f"off: {', '.join(off)}"))
        encryption = call("s3:GetEncryptionConfiguration", arn, s3.get_bucket_encryption,
                          absent=("ServerSideEncryptionConfigurationNotFoundError",), Bucket=name)
        rules = (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        algorithm = rules[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") if rules else None
        checks.append(Check("bucket encrypted", label, bool(algorithm),
                            f"default encryption {algorithm}" if algorithm else "no default encryption"))
    return checks


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _queue_arn(aws: AwsSession, url: str) -> str:
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:{aws.partition}:sqs:{aws.region}:{account}:{name}"


def queue_checks(aws: AwsSession, queues: list[tuple[str, str]], dlqs: list[tuple[str, str]]) -> list[Check]:
    """Each queue has a DLQ; every DLQ (exported or named by a redrive policy) is empty, checked once."""
    sqs, checks = aws.client("sqs"), []

    def attributes(url: str, *names: str) -> dict[str, str] | None:
        found = call("sqs:GetQueueAttributes", _queue_arn(aws, url), sqs.get_queue_attributes,
                     absent=_NO_QUEUE, QueueUrl=url, AttributeNames=["QueueArn", *names])
        return None if found is None else found.get("Attributes", {})

    def empty_check(label: str, url: str) -> str | None:
        found = attributes(url, "ApproximateNumberOfMessages")
        if found is None:
            checks.append(Check("DLQ empty", label, False, "queue does not exist"))
            return None
        count = int(found.get("ApproximateNumberOfMessages", 0))
        checks.append(Check("DLQ empty", label, count == 0, f"{count} message(s) waiting"
                            + (": inspect, then redrive (see docs/runbook.md)" if count else "")))
        return found.get("QueueArn")

    referenced: dict[str, str] = {}
    for label, url in queues:
        found = attributes(url, "RedrivePolicy")
        if found is None:
            checks.append(Check("queue has DLQ", label, False, "queue does not exist"))
            continue
        policy = json.loads(found.get("RedrivePolicy") or "{}")
        target = policy.get("deadLetterTargetArn")
        checks.append(Check("queue has DLQ", label, bool(target),
                            f"{target.rsplit(':', 1)[-1]} after {policy.get('maxReceiveCount')} receives"
                            if target else "no RedrivePolicy: failed messages are retried forever"))
        if target:
            referenced.setdefault(target, f"{label} DLQ")
    seen = {empty_check(label, url) for label, url in dlqs}
    for arn, label in referenced.items():
        if arn in seen:
            continue
        _, _, _, _, account, name = arn.split(":", 5)
        found = call("sqs:GetQueueUrl", arn, sqs.get_queue_url, absent=_NO_QUEUE,
                     QueueName=name, QueueOwnerAWSAccountId=account)
        if found is None:
            checks.append(Check("DLQ empty", label, False, f"the DLQ {name} does not exist"))
        else:
            empty_check(label, found["QueueUrl"])
    return checks


def _target_group_name(arn: str) -> str:
    return arn.split(":targetgroup/", 1)[-1].split("/", 1)[0]


def _forward_weights(elbv2: Any, arn: str) -> list[int]:
    """The weight of every listener rule (default rules included) that forwards to the target group."""

    def every(operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        pages = elbv2.get_paginator(operation).paginate(**params)
        return [item for page in pages for item in page.get(key, [])]

    found = call("elasticloadbalancing:DescribeTargetGroups", arn, elbv2.describe_target_groups,
                 absent=("TargetGroupNotFound",), TargetGroupArns=[arn])
    balancers = dict.fromkeys(balancer for group in (found or {}).get("TargetGroups", [])
                              for balancer in group.get("LoadBalancerArns", []))
    weights = []
    for balancer in balancers:
        listeners = call("elasticloadbalancing:DescribeListeners", balancer,
                         lambda: every("describe_listeners", "Listeners", LoadBalancerArn=balancer))
        for listener in listeners:
            rules = call("elasticloadbalancing:DescribeRules", listener["ListenerArn"],
                         lambda: every("describe_rules", "Rules", ListenerArn=listener["ListenerArn"]))
            for action in (action for rule in rules for action in rule.get("Actions", [])):
                if action.get("Type") != "forward":
                    continue
                # A plain forward names one group; a weighted one (what ECS re-weights) lists them all.
                forwards = (action.get("ForwardConfig", {}).get("TargetGroups")
                            or [{"TargetGroupArn": action.get("TargetGroupArn")}])
                weights += [int(item.get("Weight", 1)) for item in forwards if item.get("TargetGroupArn") == arn]
    return weights


def target_checks(aws: AwsSession, groups: list[tuple[str, str]]) -> list[Check]:
    elbv2, checks = aws.client("elbv2"), []
    for label, arn in groups:
        found = call("elasticloadbalancing:DescribeTargetHealth", arn, elbv2.describe_target_health,
                     absent=("TargetGroupNotFound",), TargetGroupArn=arn)
        if found is None:
            checks.append(Check("targets healthy", label, False, "target group not found"))
            continue
        targets = found["TargetHealthDescriptions"]
        if not targets:
            # A canary or blue/green service swaps between two groups on every deploy; between deploys the
            # idle one is empty at weight 0 by design, and only an empty group that gets traffic is a 503.
            weights = _forward_weights(elbv2, arn)
            if weights and not any(weights):
                checks.append(Check("targets healthy", label, True,
                                    "no registered targets: the idle group of a traffic-shifting deploy (weight 0)"))
            else:
                checks.append(Check("targets healthy", label, False,
                                    "no registered targets: the ALB answers 503" if weights else
                                    "no registered targets, and no listener forwards to it"))
            continue
        unhealthy = [f"{t['Target']['Id']} {t['TargetHealth']['State']}"
                     + (f" ({t['TargetHealth']['Reason']})" if t["TargetHealth"].get("Reason") else "")
                     for t in targets if t["TargetHealth"]["State"] != "healthy"]
        reason = f"{len(targets) - len(unhealthy)}/{len(targets)} healthy"
        checks.append(Check("targets healthy", label, not unhealthy, "; ".join([reason, *unhealthy])))
    return checks


def budget_checks(aws: AwsSession, names: list[tuple[str, str]]) -> list[Check]:
    budgets, checks = aws.client("budgets"), []
    account = aws.account_id
    for label, name in names:
        found = call("budgets:ViewBudget", f"arn:{aws.partition}:budgets::{account}:budget/{name}",
                     budgets.describe_budget, absent=("NotFoundException",), AccountId=account, BudgetName=name)
        if found is None:
            checks.append(Check("budget exists", label, False, f"no budget {name} in account {account}"))
            continue
        budget = found["Budget"]
        limit = budget.get("BudgetLimit", {})
        spent = budget.get("CalculatedSpend", {}).get("ActualSpend", {})
        checks.append(Check("budget exists", label, True,
                            f"limit {limit.get('Amount')} {limit.get('Unit')} {budget.get('TimeUnit', '').lower()}, "
                            f"spent {spent.get('Amount', '?')} {spent.get('Unit', '')}".rstrip()))
    return checks


def alarm_checks(aws: AwsSession, prefix: str) -> list[Check]:
    cloudwatch = aws.client("cloudwatch")
    # One listing of every alarm under the prefix, filtered here by state: it tells "none firing" apart
    # from "no alarms at all" (a wrong prefix), and stays correct where StateValue is not honoured
    # together with AlarmNamePrefix (moto ignores it).
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    alarms = call("cloudwatch:DescribeAlarms", aws.arn("cloudwatch", f"alarm:{prefix}*"),
                  lambda: [alarm for page in pages
                           for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])])
    firing = sorted(alarm["AlarmName"] for alarm in alarms if alarm.get("StateValue") == "ALARM")
    if not alarms:
        reason = f"no alarm is named {prefix}*: check {keys.ALARM_NAME_PREFIX} and that the alarms were deployed"
    elif firing:
        reason = f"{len(firing)} of {len(alarms)} in ALARM: {', '.join(firing)}"
    else:
        reason = f"{len(alarms)} alarm(s), none in ALARM"
    return [Check("no alarm firing", f"{prefix}*", bool(alarms) and not firing, reason)]
