"""ScaledObject: KEDA scaling of one Deployment on event sources (queue depth, Prometheus, CPU, a schedule)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.provider import Provider

from genai_platform.components.k8s.pod import check_dns_label
from genai_platform.components.validation import check_range

KEDA_API_VERSION = "keda.sh/v1alpha1"
RESOURCE_TRIGGERS = ("cpu", "memory")
"""Triggers KEDA hands to the HPA as resource metrics: they cannot wake a Deployment from zero replicas."""

_CRON = re.compile(r"^\S+ \S+ \S+ \S+ \S+$")


@dataclass(frozen=True)
class Trigger:
    """One KEDA trigger (``spec.triggers[]``): ``type`` and ``metadata`` as the scaler documents them."""

    type: str
    """Scaler name, e.g. ``aws-sqs-queue``, ``prometheus``, ``cpu``, ``cron``."""
    metadata: Mapping[str, pulumi.Input[str]]
    """The scaler's settings (every value a string, as KEDA reads them)."""
    uses_authentication: bool = False
    """Point the trigger at the ScaledObject's TriggerAuthentication (``authenticationRef``)."""
    metric_type: str | None = None
    """``Utilization`` for cpu/memory triggers, ``AverageValue``/``Value`` for the others; default KEDA's."""


def sqs_queue_trigger(queue_url: pulumi.Input[str], region: str, messages_per_replica: int) -> Trigger:
    """Scale on the visible + in-flight messages of an SQS queue (``aws-sqs-queue``); zero messages -> zero pods."""
    check_range("messages_per_replica", messages_per_replica, 1, None, " messages")
    return Trigger("aws-sqs-queue", {"queueURL": queue_url, "queueLength": str(messages_per_replica),
                                     "awsRegion": region}, uses_authentication=True)


def prometheus_trigger(server_address: pulumi.Input[str], query: str, threshold: float, region: str) -> Trigger:
    """Scale on a PromQL query against Amazon Managed Prometheus, signed with SigV4 by KEDA's AWS authentication."""
    return Trigger("prometheus", {"serverAddress": server_address, "query": query, "threshold": f"{threshold:g}",
                                  "awsRegion": region}, uses_authentication=True)


def cpu_trigger(utilization_percent: int) -> Trigger:
    """Scale on the pods' average CPU, as a percentage of their request (a resource metric: never to zero)."""
    check_range("utilization_percent", utilization_percent, 1, 100, " percent")
    return Trigger("cpu", {"value": str(utilization_percent)}, metric_type="Utilization")


def cron_trigger(start: str, end: str, timezone: str, replicas: int) -> Trigger:
    """Keep ``replicas`` pods between the cron times ``start`` and ``end`` (e.g. working hours) in ``timezone``."""
    for argument, value in (("start", start), ("end", end)):
        if not _CRON.match(value):
            raise ValueError(f"{argument}={value!r} is not a five-field cron expression: use e.g. '0 8 * * 1-5'.")
    check_range("replicas", replicas, 1, None, " replicas")
    return Trigger("cron", {"timezone": timezone, "start": start, "end": end, "desiredReplicas": str(replicas)})


@dataclass
class ScaledObjectArgs:
    """Arguments of :class:`ScaledObject`."""

    namespace: str
    """Namespace of the Deployment (and of the ScaledObject, which must share it)."""

    deployment: str
    """Name of the Deployment to scale. Create it without an HPA of its own (``KubeServiceArgs.external_autoscaler``):
    KEDA runs the HPA and two HPAs on one Deployment fight."""

    triggers: list[Trigger]
    """What the replica count follows; KEDA takes the highest count any trigger asks for."""

    min_replicas: int = 0
    """Fewest replicas. Default 0: the Deployment idles at zero pods when no event trigger is active (needs a
    trigger that is not cpu/memory: those cannot see load on zero pods)."""

    max_replicas: int = 4
    """Most replicas: the cost ceiling."""

    polling_interval_seconds: int = 30
    """How often KEDA checks the event sources while at zero (and feeds the HPA above it)."""

    cooldown_period_seconds: int = 300
    """Seconds after the last active trigger before scaling back to zero (only used with ``min_replicas=0``)."""

    aws_operator_identity: bool = False
    """Create a TriggerAuthentication by which the AWS scalers use the KEDA operator's own IAM role
    (``podIdentity: {provider: aws, identityOwner: keda}``), so the workload's role needs no queue or metric read
    rights for scaling. Required when a trigger ``uses_authentication``."""

    provider: Provider | None = None
    """Kubernetes provider of the cluster; default inherited."""


class ScaledObject(pulumi.ComponentResource):
    """A KEDA ``ScaledObject`` (and its ``TriggerAuthentication`` when the scalers call AWS)."""

    name: str
    """Name of the ScaledObject (the component name); KEDA names its HPA ``keda-hpa-<name>``."""

    def __init__(self, name: str, args: ScaledObjectArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:k8s:ScaledObject", name, None, opts)
        # A component's depends_on does not reach its children (pulumi/pulumi#8721); the CRDs come with KEDA's release.
        depends_on = list(opts.depends_on) if opts and isinstance(opts.depends_on, (list, tuple)) else []
        child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends_on)
        metadata = {"name": name, "namespace": args.namespace,
                    "labels": {"app.kubernetes.io/name": args.deployment, "app.kubernetes.io/managed-by": "pulumi"}}
        authentication = None
        if args.aws_operator_identity:
            authentication = CustomResource(
                f"{name}-auth", api_version=KEDA_API_VERSION, kind="TriggerAuthentication", metadata=metadata,
                spec={"podIdentity": {"provider": "aws", "identityOwner": "keda"}}, opts=child)
        CustomResource(
            f"{name}-scaled-object", api_version=KEDA_API_VERSION, kind="ScaledObject", metadata=metadata,
            spec=scaled_object_spec(args, name),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                depends_on=[authentication] if authentication else [])))
        self.name = name
        self.register_outputs({"name": name})


def scaled_object_spec(args: ScaledObjectArgs, name: str) -> dict[str, Any]:
    """The ScaledObject's ``spec`` in the CRD's own (camelCase) field names."""
    triggers = []
    for trigger in args.triggers:
        entry: dict[str, Any] = {"type": trigger.type, "metadata": dict(trigger.metadata)}
        if trigger.uses_authentication:
            entry["authenticationRef"] = {"name": name}
        if trigger.metric_type:
            entry["metricType"] = trigger.metric_type
        triggers.append(entry)
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": args.deployment},
        "minReplicaCount": args.min_replicas,
        "maxReplicaCount": args.max_replicas,
        "pollingInterval": args.polling_interval_seconds,
        "cooldownPeriod": args.cooldown_period_seconds,
        "triggers": triggers,
    }


def _validate(args: ScaledObjectArgs) -> None:
    check_dns_label("namespace", args.namespace)
    check_dns_label("deployment", args.deployment)
    if not args.triggers:
        raise ValueError("triggers=[] gives KEDA nothing to scale on: pass at least one trigger.")
    check_range("min_replicas", args.min_replicas, 0, None, " replicas")
    if args.max_replicas < max(args.min_replicas, 1):
        raise ValueError(f"max_replicas={args.max_replicas} is below max(min_replicas, 1)={max(args.min_replicas, 1)}: "
                         "raise max_replicas.")
    if args.min_replicas == 0 and all(trigger.type in RESOURCE_TRIGGERS for trigger in args.triggers):
        raise ValueError("min_replicas=0 with only cpu/memory triggers never wakes the Deployment (no pods, no usage "
                         "to measure): add an event trigger (queue, Prometheus, cron) or set min_replicas=1.")
    if any(trigger.uses_authentication for trigger in args.triggers) and not args.aws_operator_identity:
        raise ValueError("a trigger uses authentication but aws_operator_identity=False: set it, so the scaler "
                         "calls AWS with the KEDA operator's role.")
    check_range("polling_interval_seconds", args.polling_interval_seconds, 1, 3600, " seconds")
    check_range("cooldown_period_seconds", args.cooldown_period_seconds, 0, 86_400, " seconds")
