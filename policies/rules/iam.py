"""IAM: least privilege in every identity policy, no admin managed policies, no open trust, no IAM users."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import MANDATORY, RuleContext, Setting, resource_rule
from genai_platform.policies.values import as_list, each_mapping, statements

ROLE = "aws:iam/role:Role"
POLICY_HOLDERS = {  # type -> property holding one identity policy document
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/userPolicyAttachment:UserPolicyAttachment",
               "aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment")
LONG_LIVED_CREDENTIALS = ("aws:iam/user:User", "aws:iam/accessKey:AccessKey",
                          "aws:iam/userLoginProfile:UserLoginProfile", "aws:iam/userPolicy:UserPolicy",
                          "aws:iam/userPolicyAttachment:UserPolicyAttachment")

# Verbs that only read; anything else on Resource "*" can change every resource of the service.
_READ_VERBS = ("Get", "List", "Describe", "BatchGet", "Search", "Query", "Head", "View")


def _documents(args: ResourceValidationArgs) -> list[tuple[str, Any]]:
    """(where, document) for every identity policy document on the resource."""
    if args.resource_type in POLICY_HOLDERS:
        return [("policy", args.props.get(POLICY_HOLDERS[args.resource_type]))]
    if args.resource_type == ROLE:
        return [(f"inline policy {p.get('name', '?')!r}", p.get("policy"))
                for p in each_mapping(as_list(args.props.get("inlinePolicies")))]
    return []


def _allow_statements(args: ResourceValidationArgs) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for where, document in _documents(args):
        for statement in statements(document):
            if statement.get("Effect") == "Allow":
                yield where, statement


@resource_rule(
    name="iam-no-wildcard-actions",
    types=[*POLICY_HOLDERS, ROLE],
    description="Identity policies never allow '*' or '<service>:*' actions, nor use NotAction in an Allow "
                "(checkov CKV_AWS_49/62/63, CKV2_AWS_40, cdk-nag AwsSolutions-IAM5).",
    severity="high",
    levels=MANDATORY,
    remediation="List the exact actions the workload calls (e.g. ['s3:GetObject', 's3:PutObject']).",
)
def no_wildcard_actions(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for where, statement in _allow_statements(args):
        if "NotAction" in statement:
            yield f"The {where} allows NotAction, i.e. everything but a list."
        wild = [a for a in as_list(statement.get("Action")) if a == "*" or str(a).endswith(":*")]
        if wild:
            yield f"The {where} allows {wild}."


def _is_read_only(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return verb.startswith(_READ_VERBS)


@resource_rule(
    name="iam-no-wildcard-resource-writes",
    types=[*POLICY_HOLDERS, ROLE],
    description="Identity policies allow write actions only on named resources, never Resource '*' "
                "(checkov CKV_AWS_355/290, cdk-nag AwsSolutions-IAM5). Read-only verbs and actions AWS only "
                "authorizes on '*' (allowedWildcardResourceActions) are exempt.",
    severity="high",
    levels=MANDATORY,
    remediation="Scope Resource to the ARNs the workload writes (build them with pulumi.Output.all(...).apply "
                "and json.dumps).",
    settings={"allowedWildcardResourceActions": Setting(
        {"type": "array", "items": {"type": "string"}},
        ["cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords", "ecr:GetAuthorizationToken"],
        description="Write actions AWS only authorizes on Resource '*'.")},
)
def no_wildcard_resource_writes(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    exempt = set(ctx["allowedWildcardResourceActions"])
    for where, statement in _allow_statements(args):
        if "*" not in as_list(statement.get("Resource")) and "NotResource" not in statement:
            continue
        writes = [a for a in as_list(statement.get("Action")) if a not in exempt and not _is_read_only(str(a))]
        if writes:
            yield f"The {where} allows {writes} on every resource."


@resource_rule(
    name="iam-no-admin-managed-policies",
    types=[*ATTACHMENTS, ROLE],
    description="No role, user or group gets AdministratorAccess, PowerUserAccess or IAMFullAccess "
                "(checkov CKV_AWS_274, CKV2_AWS_56, cdk-nag AwsSolutions-IAM4).",
    severity="critical",
    levels=MANDATORY,
    remediation="Attach a customer-managed policy listing the needed actions on the needed resources.",
    settings={"forbiddenManagedPolicies": Setting(
        {"type": "array", "items": {"type": "string"}},
        ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"],
        description="AWS managed policy names that may never be attached.")},
)
def no_admin_policies(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    arns = [args.props.get("policyArn"), *as_list(args.props.get("managedPolicyArns"))]
    forbidden = {f":policy/{name}" for name in ctx["forbiddenManagedPolicies"]}
    for arn in arns:
        if isinstance(arn, str) and any(arn.endswith(suffix) for suffix in forbidden):
            yield f"{arn} is attached."


@resource_rule(
    name="iam-no-wildcard-trust",
    types=[ROLE],
    description="Role trust policies never let any principal ('*') assume the role without a condition "
                "(checkov CKV_AWS_60, CKV_AWS_283).",
    severity="critical",
    levels=MANDATORY,
    remediation="Name the service or account principal that assumes the role; for federation add "
                "StringEquals conditions on the token's aud and sub.",
)
def no_wildcard_trust(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for statement in statements(args.props.get("assumeRolePolicy")):
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        principals = as_list(principal.get("AWS")) if isinstance(principal, Mapping) else as_list(principal)
        if "*" in principals:
            yield "The trust policy lets any principal assume the role."


@resource_rule(
    name="iam-no-long-lived-credentials",
    types=LONG_LIVED_CREDENTIALS,
    description="The platform creates no IAM users, access keys or user policies: people use SSO, "
                "workloads and CI use roles (checkov CKV_AWS_273, CKV_AWS_40).",
    severity="high",
    levels=MANDATORY,
    remediation="Use an IAM role (IRSA/Pod Identity for pods, task roles for ECS, OIDC for CI) instead.",
)
def no_long_lived_credentials(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    yield f"{args.resource_type.rsplit(':', 1)[-1]} creates long-lived IAM credentials."
