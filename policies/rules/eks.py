"""EKS: a private (or CIDR-fenced) API endpoint, audit logs, KMS-encrypted secrets, no insecure default nodes.

Two shapes are checked. ``eks:index:Cluster`` is the pulumi-eks component: the offline plan sees its
inputs (``endpointPublicAccess``, ``enabledClusterLogTypes``, ``encryptionConfigKeyArn``), while a real
preview registers it from inside the provider with no inputs, so an empty bag is skipped there.
``aws:eks/cluster:Cluster`` is the child a real preview shows (and what plain-provider code creates).
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import ADVISORY, MANDATORY, PROD_MANDATORY, RuleContext, Setting, resource_rule
from genai_platform.policies.values import OPEN_IPV4, OPEN_IPV6, as_list, each_mapping, get, is_set, is_true

AWS_CLUSTER = "aws:eks/cluster:Cluster"
COMPONENT_CLUSTER = "eks:index:Cluster"
CLUSTERS = (AWS_CLUSTER, COMPONENT_CLUSTER)


class _Cluster:
    """The settings the rules read, from either shape. Each is read on demand, so a value a preview does
    not know yet (the KMS key's ARN) stops only the rule that needs it, not the endpoint or log checks."""

    def __init__(self, props: Mapping[str, Any], component: bool):
        self._props, self._component = props, component

    def _read(self, component_path: str, aws_path: str, default: Any = None) -> Any:
        return get(self._props, component_path if self._component else aws_path, default)

    @property
    def public_endpoint(self) -> bool:
        # Both pulumi-eks and AWS default to a public endpoint.
        return is_true(self._read("endpointPublicAccess", "vpcConfig.endpointPublicAccess", True))

    @property
    def public_cidrs(self) -> list[Any]:
        return as_list(self._read("publicAccessCidrs", "vpcConfig.publicAccessCidrs"))

    @property
    def log_types(self) -> list[Any]:
        return as_list(self._props.get("enabledClusterLogTypes"))

    @property
    def encrypts_secrets(self) -> bool:
        if self._component:
            return is_set(self._props, "encryptionConfigKeyArn")
        return any("secrets" in as_list(c.get("resources")) and is_set(c, "provider.keyArn")
                   for c in each_mapping(as_list(self._props.get("encryptionConfig"))))

    @property
    def authentication_mode(self) -> Any:
        return self._read("authenticationMode", "accessConfig.authenticationMode")

    @property
    def deletion_protection(self) -> Any:
        return self._props.get("deletionProtection")


def _cluster(args: ResourceValidationArgs) -> _Cluster | None:
    if args.resource_type == COMPONENT_CLUSTER and not args.props:
        return None  # a real preview: the provider registers the component without inputs
    return _Cluster(args.props, component=args.resource_type == COMPONENT_CLUSTER)


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
    if cluster is not None and not cluster.encrypts_secrets:
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
