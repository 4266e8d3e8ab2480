"""EKS: a private (or CIDR-fenced) API endpoint, audit logs, KMS-encrypted secrets, no insecure default nodes.

Two shapes are checked. ``eks:index:Cluster`` is the pulumi-eks component: the offline plan sees its
inputs (``endpointPublicAccess``, ``enabledClusterLogTypes``, ``encryptionConfigKeyArn``), while a real
preview registers it from inside the provider with no inputs, so an empty bag is skipped there.
``aws:eks/cluster:Cluster`` is the child a real preview shows (and what plain-provider code creates).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationArgs

from policies.registry import ADVISORY, MANDATORY, PROD_MANDATORY, RuleContext, Setting, resource_rule
from policies.values import OPEN_IPV4, OPEN_IPV6, as_list, each_mapping, get, is_true

AWS_CLUSTER = "aws:eks/cluster:Cluster"
COMPONENT_CLUSTER = "eks:index:Cluster"
CLUSTERS = (AWS_CLUSTER, COMPONENT_CLUSTER)


@dataclass(frozen=True)
class _Cluster:
    public_endpoint: bool
    public_cidrs: list[str]
    log_types: list[str]
    secrets_key: Any
    authentication_mode: Any
    deletion_protection: Any


def _cluster(args: ResourceValidationArgs) -> _Cluster | None:
    props = args.props
    if args.resource_type == COMPONENT_CLUSTER:
        if not props:
            return None  # a real preview: the provider registers the component without inputs
        return _Cluster(
            public_endpoint=is_true(get(props, "endpointPublicAccess", True)),  # pulumi-eks default: public
            public_cidrs=as_list(props.get("publicAccessCidrs")),
            log_types=as_list(props.get("enabledClusterLogTypes")),
            secrets_key=props.get("encryptionConfigKeyArn"),
            authentication_mode=props.get("authenticationMode"),
            deletion_protection=props.get("deletionProtection"),
        )
    encryption = [c for c in each_mapping(as_list(props.get("encryptionConfig"))) if "secrets" in as_list(c.get("resources"))]
    return _Cluster(
        public_endpoint=is_true(get(props, "vpcConfig.endpointPublicAccess", True)),  # AWS default: public
        public_cidrs=as_list(get(props, "vpcConfig.publicAccessCidrs")),
        log_types=as_list(props.get("enabledClusterLogTypes")),
        secrets_key=next((get(c, "provider.keyArn") for c in encryption), None),
        authentication_mode=get(props, "accessConfig.authenticationMode"),
        deletion_protection=props.get("deletionProtection"),
    )


@resource_rule(
    name="eks-endpoint-not-public",
    types=CLUSTERS,
    description="The EKS API endpoint is private, or public only to listed CIDRs, never 0.0.0.0/0 "
                "(checkov CKV_AWS_38/39, cdk-nag AwsSolutions-EKS1).",
    severity="high",
    levels=MANDATORY,
    remediation="Set endpoint_public_access=False and endpoint_private_access=True (reach it over VPN/SSM), "
                "or keep it public with public_access_cidrs set to office/CI ranges.",
)
def endpoint_not_public(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    cluster = _cluster(args)
    if cluster is None or not cluster.public_endpoint:
        return
    if not cluster.public_cidrs:
        yield "The API endpoint is public and publicAccessCidrs is unset (AWS opens it to 0.0.0.0/0)."
    elif set(cluster.public_cidrs) & {OPEN_IPV4, OPEN_IPV6}:
        yield f"The API endpoint is public to {cluster.public_cidrs}."


@resource_rule(
    name="eks-control-plane-logging",
    types=CLUSTERS,
    description="EKS sends the api, audit and authenticator control-plane logs to CloudWatch "
                "(checkov CKV_AWS_37, cdk-nag AwsSolutions-EKS2). Mandatory in prod.",
    severity="medium",
    levels=PROD_MANDATORY,
    remediation="Set enabled_cluster_log_types=['api', 'audit', 'authenticator'] (and a retention on the "
                "/aws/eks/<cluster>/cluster log group).",
    settings={"requiredLogTypes": Setting({"type": "array", "items": {"type": "string"}},
                                          ["api", "audit", "authenticator"],
                                          description="Control-plane log types that must be on.")},
)
def control_plane_logging(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    cluster = _cluster(args)
    if cluster is None:
        return
    missing = [t for t in ctx["requiredLogTypes"] if t not in cluster.log_types]
    if missing:
        yield f"Control-plane log types {missing} are off."


@resource_rule(
    name="eks-secrets-encryption",
    types=CLUSTERS,
    description="Kubernetes secrets are envelope-encrypted with a customer-managed KMS key (checkov CKV_AWS_58).",
    severity="high",
    levels=MANDATORY,
    remediation="Set encryption_config_key_arn=<kms key arn> (pulumi-eks) or encryption_config="
                "{'resources': ['secrets'], 'provider': {'key_arn': ...}} (aws.eks.Cluster).",
)
def secrets_encryption(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    cluster = _cluster(args)
    if cluster is not None and not cluster.secrets_key:
        yield "Secrets are not encrypted with a KMS key."


@resource_rule(
    name="eks-no-default-node-group",
    types=[COMPONENT_CLUSTER],
    description="pulumi-eks clusters skip the built-in default node group, which runs with IMDSv1 allowed "
                "and fixed t3.medium nodes (checkov CKV_AWS_79 on its launch configuration).",
    severity="medium",
    levels=MANDATORY,
    remediation="Set skip_default_node_group=True and add managed node groups with launch templates "
                "requiring IMDSv2.",
)
def no_default_node_group(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    props: Mapping[str, Any] = args.props
    if not props:
        return
    if not is_true(props.get("skipDefaultNodeGroup")) and not is_true(get(props, "autoMode.enabled")):
        yield "skipDefaultNodeGroup is not true."


@resource_rule(
    name="eks-access-entries",
    types=CLUSTERS,
    description="Cluster access is granted by EKS access entries (authentication mode API), not the "
                "aws-auth ConfigMap that a bad edit can lock everyone out of (platform rule; no checkov/cdk-nag ID).",
    severity="low",
    levels=ADVISORY,
    remediation="Set authentication_mode='API' and grant access with access entries; a later move from "
                "CONFIG_MAP needs the API_AND_CONFIG_MAP step first.",
)
def access_entries(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    cluster = _cluster(args)
    if cluster is not None and cluster.authentication_mode != "API":
        yield f"authenticationMode is {cluster.authentication_mode or 'CONFIG_MAP (default)'}."


@resource_rule(
    name="eks-deletion-protection",
    types=CLUSTERS,
    description="Production EKS clusters refuse deletion until protection is turned off; checked in prod "
                "only (platform rule; no checkov/cdk-nag ID).",
    severity="low",
    levels=ADVISORY,
    remediation="Set deletion_protection=True on production clusters.",
)
def deletion_protection(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    cluster = _cluster(args)
    if cluster is not None and ctx.prod and not is_true(cluster.deletion_protection):
        yield "deletionProtection is not true."
