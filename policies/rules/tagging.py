"""Tags and labels: ownership and cost allocation on every taggable resource.

``Environment`` is the cost-allocation tag the budgets filter on, so an untagged resource is
invisible to the environment's budget. Required keys follow ``components/tagging.py``.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from genai_platform.components.tagging import COST_ALLOCATION_TAG, PLATFORM_TAGS, gcp_labels
from genai_platform.policies.registry import ADVISORY, MANDATORY, RuleContext, Setting, resource_rule
from genai_platform.policies.values import get, is_placeholder, is_set

REQUIRED_TAGS = [COST_ALLOCATION_TAG, *PLATFORM_TAGS]
REQUIRED_LABELS = sorted(gcp_labels({COST_ALLOCATION_TAG: "x"}))
"""The same keys as GCP label keys (lower-case)."""

KNOWN_TAGGABLE_AWS = (
    "aws:s3/bucket:Bucket", "aws:rds/instance:Instance", "aws:rds/cluster:Cluster", "aws:sqs/queue:Queue",
    "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance", "aws:ebs/volume:Volume",
    "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:ecs/cluster:Cluster", "aws:ecs/service:Service",
    "aws:ecs/taskDefinition:TaskDefinition", "aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup",
    "aws:elasticache/replicationGroup:ReplicationGroup", "aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup",
    "aws:iam/role:Role", "aws:secretsmanager/secret:Secret", "aws:ecr/repository:Repository",
)
"""Types that take tags even when the program passed none (then the rule reports them)."""
KNOWN_LABELABLE_GCP = ("gcp:cloudrunv2/service:Service", "gcp:storage/bucket:Bucket")
USER_LABELS_GCP = ("gcp:monitoring/notificationChannel:NotificationChannel", "gcp:monitoring/alertPolicy:AlertPolicy",
                   "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig")
"""Types whose labels are ``userLabels``: a notification channel's ``labels`` are its settings (e.g. the address)."""


def _tag_bag(args: ResourceValidationArgs, key: str, known: tuple[str, ...]) -> Mapping[str, Any] | None:
    """The resource's tags/labels, or None when it takes none or they are not known yet."""
    if key not in args.props and args.resource_type not in known:
        return None
    tags = args.props.get(key) or {}
    if is_placeholder(tags) or not isinstance(tags, Mapping):
        return None
    return tags


def _provider_default_tags(args: ResourceValidationArgs) -> Mapping[str, Any]:
    # A real preview passes the provider, whose default_tags AWS merges into every resource.
    tags = get(args.provider.props, "defaultTags.tags", {}) if args.provider is not None else {}
    return tags if isinstance(tags, Mapping) else {}


@resource_rule(
    name="aws-required-tags",
    types=(),
    description="Every taggable AWS resource carries the Environment, ManagedBy and Platform tags (platform rule: "
                "Environment is the budgets' cost-allocation filter; no checkov/cdk-nag equivalent).",
    severity="medium",
    levels=MANDATORY,
    remediation="Pass tags=child_tags(name, args.tags) (components/tagging.py) with the stack's Environment, "
                "or set them as the provider's default_tags.",
    settings={"requiredTags": Setting({"type": "array", "items": {"type": "string"}}, REQUIRED_TAGS,
                                      description="Tag keys every taggable AWS resource must carry.")},
)
def required_tags(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not args.resource_type.startswith("aws:"):
        return
    tags = _tag_bag(args, "tags", KNOWN_TAGGABLE_AWS)
    if tags is None:
        return
    # A tag whose value is not known yet (a Name built from an output) is still there.
    defaults = _provider_default_tags(args)
    missing = [key for key in ctx["requiredTags"] if not (is_set(tags, (key,)) or is_set(defaults, (key,)))]
    if missing:
        yield f"Tags {missing} are missing."


@resource_rule(
    name="aws-environment-tag-matches",
    types=(),
    description="The Environment tag names the environment being deployed, so costs land in the right budget "
                "(platform rule).",
    severity="low",
    levels=ADVISORY,
    remediation="Tag with Environment=<stack name> (dev, staging or prod); copy-pasted tags from another "
                "stack skew its budget.",
)
def environment_tag_matches(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not args.resource_type.startswith("aws:"):
        return
    tags = _tag_bag(args, "tags", ())
    value = (tags or {}).get(COST_ALLOCATION_TAG)
    if isinstance(value, str) and not is_placeholder(value) and value.lower() != ctx.environment:
        yield f"Environment tag is {value!r} in the {ctx.environment} stack."


@resource_rule(
    name="gcp-required-labels",
    types=(),
    description="Every labelable GCP resource carries the environment, managedby and platform labels "
                "(platform rule; GCP budgets and billing export group by labels).",
    severity="medium",
    levels=MANDATORY,
    remediation="Pass labels=gcp_labels(args.tags) (components/tagging.py).",
    settings={"requiredLabels": Setting({"type": "array", "items": {"type": "string"}}, REQUIRED_LABELS,
                                        description="Label keys every labelable GCP resource must carry.")},
)
def required_labels(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not args.resource_type.startswith("gcp:"):
        return
    labels = _tag_bag(args, "userLabels" if args.resource_type in USER_LABELS_GCP else "labels",
                      KNOWN_LABELABLE_GCP + USER_LABELS_GCP)
    if labels is None:
        return
    missing = [key for key in ctx["requiredLabels"] if not is_set(labels, (key,))]
    if missing:
        yield f"Labels {missing} are missing."
