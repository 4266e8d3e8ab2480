"""Whole-stack rules: prod keeps its data behind ``protect``, and only vetted providers and types appear."""

from collections.abc import Iterator

from pulumi_policy import StackValidationArgs

from genai_platform.policies.registry import MANDATORY, RuleContext, Setting, stack_rule
from genai_platform.policies.stackview import label

STATEFUL_TYPES = [
    "aws:rds/instance:Instance", "aws:rds/cluster:Cluster", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2",
    "aws:elasticache/replicationGroup:ReplicationGroup", "aws:sqs/queue:Queue", "aws:dynamodb/table:Table",
    "aws:efs/fileSystem:FileSystem", "gcp:storage/bucket:Bucket", "gcp:sql/databaseInstance:DatabaseInstance",
]
"""Resources whose deletion loses data. KMS keys are left out: deletion is scheduled 7-30 days out and can be cancelled."""

ALLOWED_PACKAGES = ["pulumi", "genai", "aws", "eks", "kubernetes", "gcp", "random", "tls", "grafana"]
"""Providers the platform has vetted (``pulumi`` covers the stack and provider resources; ``genai`` our components;
``grafana`` the data sources and dashboards inside Amazon Managed Grafana, pulumiverse-grafana)."""


@stack_rule(
    name="stack-prod-stateful-protected",
    description="In prod, every data-holding resource (databases, buckets, caches, queues) has the Pulumi "
                "protect option, so no update or destroy deletes it by accident (platform rule; complements "
                "deletion protection, checkov CKV_AWS_293).",
    severity="high",
    levels=MANDATORY,
    remediation="Pass protect=True to the component (it sets pulumi.ResourceOptions(protect=True) and deletion "
                "protection); unprotect with `pulumi state unprotect` only in a reviewed change.",
    settings={"statefulTypes": Setting({"type": "array", "items": {"type": "string"}}, STATEFUL_TYPES,
                                       description="Resource types that hold data.")},
)
def prod_stateful_protected(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    if not ctx.prod:
        return
    stateful = set(ctx["statefulTypes"])
    for resource in args.resources:
        if resource.resource_type in stateful and not resource.opts.protect:
            yield resource.urn, f"{label(resource)} is not protected."


@stack_rule(
    name="stack-allowed-resource-types",
    description="Every resource comes from an allowed provider package and no type is on the deny list, so a "
                "new provider or service is a reviewed decision (platform rule).",
    severity="medium",
    levels=MANDATORY,
    remediation="Use an allowed provider, or add the package to allowedPackages (or remove the type from "
                "deniedTypes) in policies/config.<env>.json in a reviewed change.",
    settings={
        "allowedPackages": Setting({"type": "array", "items": {"type": "string"}}, ALLOWED_PACKAGES,
                                   description="Type-token packages (the part before the first ':') allowed."),
        "deniedTypes": Setting({"type": "array", "items": {"type": "string"}}, [],
                               description="Full type tokens refused even from an allowed package."),
    },
)
def allowed_resource_types(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    allowed, denied = set(ctx["allowedPackages"]), set(ctx["deniedTypes"])
    for resource in args.resources:
        package = resource.resource_type.split(":", 1)[0]
        if package not in allowed:
            yield resource.urn, f"{label(resource)} comes from package {package!r}, which is not allowed."
        elif resource.resource_type in denied:
            yield resource.urn, f"{label(resource)} is a denied type."
