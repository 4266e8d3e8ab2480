"""Load balancers: TLS 1.2+ on HTTPS, HTTP only to redirect, invalid headers dropped, logs and protection in prod."""

import re
from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import MANDATORY, PROD_MANDATORY, RuleContext, Setting, resource_rule
from genai_platform.policies.values import as_list, each_mapping, flags_not_true, get, is_set, is_true

LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")


@resource_rule(
    name="elb-tls-policy",
    types=LISTENERS,
    description="HTTPS and TLS listeners name a security policy that allows only TLS 1.2 and newer "
                "(checkov CKV_AWS_103, CKV2_AWS_74). Left unset, AWS picks ELBSecurityPolicy-2016-08 (TLS 1.0).",
    severity="high",
    levels=MANDATORY,
    remediation="Set ssl_policy='ELBSecurityPolicy-TLS13-1-2-2021-06' (TLS 1.2 and 1.3).",
    settings={"allowedSslPolicyPattern": Setting(
        {"type": "string"}, r"^ELBSecurityPolicy-(TLS13-1-[23]|FS-1-2|TLS-1-2)",
        description="Regex of accepted listener security policies (TLS 1.2+ families).")},
)
def tls_policy(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if args.props.get("protocol") not in ("HTTPS", "TLS"):
        return
    policy = args.props.get("sslPolicy")
    if not policy:
        yield "sslPolicy is unset, so AWS uses ELBSecurityPolicy-2016-08 (TLS 1.0)."
    elif not re.search(ctx["allowedSslPolicyPattern"], str(policy)):
        yield f"sslPolicy {policy!r} allows protocols older than TLS 1.2."


@resource_rule(
    name="elb-http-redirects-to-https",
    types=LISTENERS,
    description="Plain-HTTP listeners only redirect to HTTPS (checkov CKV2_AWS_20, CKV_AWS_2). "
                "Mandatory in prod; dev may run without a certificate.",
    severity="high",
    levels=PROD_MANDATORY,
    remediation="Make the HTTP listener's default action {'type': 'redirect', 'redirect': {'protocol': 'HTTPS', "
                "'port': '443', 'status_code': 'HTTP_301'}} and serve traffic on an HTTPS listener.",
)
def http_redirects(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if args.props.get("protocol") != "HTTP":
        return
    for action in each_mapping(as_list(args.props.get("defaultActions"))):
        if action.get("type") != "redirect" or get(action, "redirect.protocol") != "HTTPS":
            yield f"HTTP listener on port {args.props.get('port')} has a {action.get('type')!r} action, not a redirect to HTTPS."


def _application(args: ResourceValidationArgs) -> bool:
    return args.props.get("loadBalancerType", "application") == "application"


@resource_rule(
    name="elb-drop-invalid-headers",
    types=LOAD_BALANCERS,
    description="Application load balancers drop requests with invalid HTTP headers, closing a "
                "request-smuggling path (checkov CKV_AWS_131).",
    severity="medium",
    levels=MANDATORY,
    remediation="Set drop_invalid_header_fields=True.",
)
def drop_invalid_headers(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if _application(args):
        yield from flags_not_true(args.props, "dropInvalidHeaderFields")


@resource_rule(
    name="elb-access-logs",
    types=LOAD_BALANCERS,
    description="Load balancers write access logs to S3 (checkov CKV_AWS_91, cdk-nag AwsSolutions-ELB2, "
                "awsguard elb-logging-enabled). Mandatory in prod.",
    severity="medium",
    levels=PROD_MANDATORY,
    remediation="Set access_logs={'bucket': <log bucket>, 'enabled': True}; the bucket policy must allow the "
                "regional ELB log delivery principal.",
)
def access_logs(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not (is_true(get(args.props, "accessLogs.enabled")) and is_set(args.props, "accessLogs.bucket")):
        yield "accessLogs are not enabled."


@resource_rule(
    name="elb-deletion-protection",
    types=LOAD_BALANCERS,
    description="Load balancers refuse deletion, so the public DNS name clients use survives a bad change "
                "(checkov CKV_AWS_150). Mandatory in prod.",
    severity="medium",
    levels=PROD_MANDATORY,
    remediation="Set enable_deletion_protection=True.",
)
def deletion_protection(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    yield from flags_not_true(args.props, "enableDeletionProtection")
