"""GCP: Cloud Run private by default with its own service account; no basic roles; private buckets."""

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import MANDATORY, PROD_MANDATORY, RuleContext, Setting, resource_rule
from genai_platform.policies.values import as_list, each_mapping, flags_not_true, get, is_true, parse_json

RUN_SERVICE_V2 = "gcp:cloudrunv2/service:Service"
RUN_SERVICE_V1 = "gcp:cloudrun/service:Service"
RUN_IAM = {  # type -> property naming the service
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": "name",
    "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding": "name",
    "gcp:cloudrunv2/serviceIamPolicy:ServiceIamPolicy": "name",
    "gcp:cloudrun/iamMember:IamMember": "service",
    "gcp:cloudrun/iamBinding:IamBinding": "service",
    "gcp:cloudrun/iamPolicy:IamPolicy": "service",
}
PROJECT_IAM = ("gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding")
STORAGE_BUCKET = "gcp:storage/bucket:Bucket"

PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
_DEFAULT_ACCOUNT_SUFFIXES = ("-compute@developer.gserviceaccount.com", "@appspot.gserviceaccount.com")
_BASIC_ROLES = ("roles/owner", "roles/editor")


def _bindings(args: ResourceValidationArgs) -> list[tuple[str, list[str]]]:
    """(role, members) granted by a Cloud Run IAM member, binding or whole policy."""
    props = args.props
    if "policyData" in props:
        document = parse_json(props.get("policyData")) or {}
        return [(b.get("role", ""), as_list(b.get("members"))) for b in each_mapping(as_list(get(document, "bindings", [])))]
    return [(str(props.get("role", "")), [*as_list(props.get("member")), *as_list(props.get("members"))])]


def _service_names(args: ResourceValidationArgs, key: str) -> list[str]:
    """Names to match against the allow-list: the service (last path segment) and the logical name."""
    service = args.props.get(key)
    names = [args.name]
    if isinstance(service, str):
        names.append(service.rsplit("/", 1)[-1])
    return names


def _allowed(names: list[str], patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in patterns)


@resource_rule(
    name="cloudrun-no-public-invoker",
    types=[*RUN_IAM, RUN_SERVICE_V2],
    description="Cloud Run services are not invokable by allUsers/allAuthenticatedUsers (nor have invoker IAM "
                "disabled) unless listed in publicServices (checkov CKV_GCP_102).",
    severity="critical",
    levels=MANDATORY,
    remediation="Grant roles/run.invoker to named principals (a load balancer's or caller's service account); "
                "for a deliberately public service add its name to publicServices in the policy config.",
    settings={"publicServices": Setting({"type": "array", "items": {"type": "string"}}, [],
                                        description="Glob patterns of Cloud Run service names allowed to be public.")},
)
def no_public_invoker(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    patterns = list(ctx["publicServices"])
    if args.resource_type == RUN_SERVICE_V2:
        if is_true(args.props.get("invokerIamDisabled")) and not _allowed(_service_names(args, "name"), patterns):
            yield "invokerIamDisabled is true: anyone can call the service."
        return
    allowed = _allowed(_service_names(args, RUN_IAM[args.resource_type]), patterns)
    for role, members in _bindings(args):
        public = [m for m in members if m in PUBLIC_MEMBERS]
        if public and not (allowed and role == "roles/run.invoker"):
            yield f"{role} is granted to {public}."


def _service_account(args: ResourceValidationArgs) -> Any:
    if args.resource_type == RUN_SERVICE_V2:
        return get(args.props, "template.serviceAccount")
    return get(args.props, "template.spec.serviceAccountName")


@resource_rule(
    name="cloudrun-dedicated-service-account",
    types=[RUN_SERVICE_V2, RUN_SERVICE_V1],
    description="Cloud Run services run as a dedicated service account, not the default compute account that "
                "holds Editor on the project (platform rule, as the Cloud Run Terraform module does).",
    severity="high",
    levels=MANDATORY,
    remediation="Create a gcp.serviceaccount.Account for the service, grant it only what it calls, and set "
                "template.service_account to its email.",
)
def dedicated_service_account(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    account = _service_account(args)
    if not account:
        yield "No service account is set, so the default compute service account is used."
    elif isinstance(account, str) and account.endswith(_DEFAULT_ACCOUNT_SUFFIXES):
        yield f"The service runs as the default service account {account}."


@resource_rule(
    name="cloudrun-deletion-protection",
    types=[RUN_SERVICE_V2],
    description="Cloud Run services keep the provider's deletion protection (platform rule). Mandatory in prod.",
    severity="medium",
    levels=PROD_MANDATORY,
    remediation="Leave deletion_protection unset or True on production services.",
)
def deletion_protection(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if args.props.get("deletionProtection") is False:
        yield "deletionProtection is false."


@resource_rule(
    name="gcp-no-basic-roles",
    types=PROJECT_IAM,
    description="Nobody gets roles/owner or roles/editor on the project (checkov CKV_GCP_117).",
    severity="high",
    levels=MANDATORY,
    remediation="Grant predefined roles scoped to the service (e.g. roles/run.developer, roles/storage.objectViewer).",
)
def no_basic_roles(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if args.props.get("role") in _BASIC_ROLES:
        yield f"{args.props.get('role')} is granted at project level."


@resource_rule(
    name="gcs-bucket-private",
    types=[STORAGE_BUCKET],
    description="Cloud Storage buckets use uniform bucket-level access and enforce public access prevention "
                "(checkov CKV_GCP_29, CIS GCP 5.1/5.2).",
    severity="high",
    levels=MANDATORY,
    remediation="Set uniform_bucket_level_access=True and public_access_prevention='enforced'.",
)
def bucket_private(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    props: Mapping[str, Any] = args.props
    yield from flags_not_true(props, "uniformBucketLevelAccess")
    if props.get("publicAccessPrevention") != "enforced":
        yield f"publicAccessPrevention is {props.get('publicAccessPrevention') or 'inherited'}."
