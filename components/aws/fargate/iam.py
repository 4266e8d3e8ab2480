"""Pure helpers of :class:`~genai_platform.components.aws.fargate.service.FargateAlbService`: IAM documents and the
checks on what callers pass in (secret references, plain environment, task role statements).

Everything here takes plain values (the component calls it inside ``Output.apply`` when ARNs are
outputs), so it is tested without mocks.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from genai_platform.components.credentials import credential_marker

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[^:@]+)"
)
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:(?P<service>secretsmanager|ssm):[a-z0-9-]+:\d{12}:(?P<rest>.+)$")

# Only metadata calls may use Resource "*": Get* reads data (objects, secret values) and must be scoped.
_METADATA_VERBS = ("Describe", "List")


def ecs_tasks_trust_policy(account_id: str, region: str, *, source_arn: bool) -> dict[str, Any]:
    """Trust policy for roles ECS tasks assume, limited to this account (confused-deputy protection).

    ``source_arn`` adds the ``aws:SourceArn`` condition AWS documents for task roles.
    """
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": f"arn:aws:ecs:{region}:{account_id}:*"}
    return _document([{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                       "Action": "sts:AssumeRole", "Condition": condition}])


def ecr_repository_arn(image: str) -> str | None:
    """The ECR repository ARN of a private ECR image URI, or None for any other registry."""
    match = _ECR_IMAGE.match(image)
    if not match:
        return None
    partition = "aws-cn" if ".amazonaws.com.cn/" in image else "aws"
    return f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"


def secret_resource_arn(argument: str, variable: str, value_from: str) -> tuple[str, str]:
    """``(service, ARN to grant on)`` of a ``secrets`` entry; raises ``ValueError`` unless it is a full ARN.

    A Secrets Manager reference may end in ``:json-key:version-stage:version-id``; IAM needs the
    secret's own ARN (the first seven colon-separated fields).
    """
    match = _SECRET_ARN.match(value_from)
    if not match:
        raise ValueError(
            f"{argument}[{variable!r}]={value_from!r} is not a Secrets Manager secret or SSM parameter ARN: "
            "pass the full ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name> or "
            "arn:aws:ssm:<region>:<account>:parameter/<name>) so the execution role can be scoped to it."
        )
    service = match["service"]
    if service == "ssm":
        if not match["rest"].startswith("parameter/"):
            raise ValueError(
                f"{argument}[{variable!r}]={value_from!r} is an SSM ARN but not a parameter: "
                "use arn:aws:ssm:<region>:<account>:parameter/<name>."
            )
        return service, value_from
    if not match["rest"].startswith("secret:"):
        raise ValueError(
            f"{argument}[{variable!r}]={value_from!r} is a Secrets Manager ARN but not a secret: "
            "use arn:aws:secretsmanager:<region>:<account>:secret:<name>."
        )
    return service, ":".join(value_from.split(":")[:7])


def check_plain_environment(argument: str, environment: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` for a plain environment key that names a credential.

    Plain values land in the task definition, visible to anyone with ``ecs:DescribeTaskDefinition``
    and in every deploy diff; credentials belong in ``secrets`` (injected at start by the agent).
    """
    for key in environment:
        if credential_marker(key):
            raise ValueError(
                f"{argument} key {key!r} looks like a credential: pass it in secrets={{{key!r}: "
                "'<Secrets Manager or SSM parameter ARN>'}, or rename the key if the value is not secret."
            )


def check_task_role_statements(argument: str, statements: Sequence[Mapping[str, Any]]) -> None:
    """Raise ``ValueError`` for a task role statement that is not least-privilege.

    Rejects wildcard actions (``*``, ``s3:*``, ``s3:Put*``), ``NotAction``/``NotResource`` (an Allow
    with them grants everything else), missing ``Resource`` and ``Resource: "*"`` on any action but
    metadata calls (``List*``/``Describe*``): a Get on ``*`` reads every secret or object in the account.
    """
    for index, statement in enumerate(statements):
        where = f"{argument}[{index}]"
        for forbidden in ("NotAction", "NotResource", "NotPrincipal", "Principal"):
            if forbidden in statement:
                raise ValueError(f"{where} uses {forbidden}: list the exact Action and Resource values instead.")
        actions = _as_list(statement.get("Action"))
        if not actions:
            raise ValueError(f"{where} has no Action: list the exact actions the task calls.")
        wildcard = next((a for a in actions if isinstance(a, str) and "*" in a), None)
        if wildcard is not None:
            raise ValueError(
                f"{where} has the wildcard action {wildcard!r}: list the exact actions the task calls."
            )
        resources = _as_list(statement.get("Resource"))
        if not resources:
            raise ValueError(f"{where} has no Resource: name the ARNs the actions apply to.")
        if statement.get("Effect", "Allow") == "Allow" and "*" in resources:
            scoped = [a for a in actions if isinstance(a, str) and not _is_metadata(a)]
            if scoped:
                raise ValueError(
                    f"{where} allows {scoped[0]!r} on Resource '*': name the ARNs it applies to "
                    "(only List*/Describe* calls may use '*')."
                )


def execution_policy(log_group_arn: str, image: str, secrets: Mapping[str, str],
                     kms_key_arns: Sequence[str], region: str) -> dict[str, Any]:
    """The execution role's policy: pull this image, write this log group, read these secrets.

    The managed ``AmazonECSTaskExecutionRolePolicy`` would allow pulling from every repository and
    writing to every log group in the account; this grants only what this one task definition needs.
    """
    statements: list[dict[str, Any]] = []
    repository = ecr_repository_arn(image)
    if repository:
        # GetAuthorizationToken has no resource-level permissions: AWS accepts only "*" for it.
        statements.append({"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"],
                           "Resource": "*"})
        statements.append({"Sid": "EcrPull", "Effect": "Allow",
                           "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                      "ecr:GetDownloadUrlForLayer"],
                           "Resource": repository})
    statements.append({"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": [log_group_arn, f"{log_group_arn}:*"]})
    by_service: dict[str, list[str]] = {"secretsmanager": [], "ssm": []}
    for variable, value_from in secrets.items():
        service, arn = secret_resource_arn("secrets", variable, value_from)
        if arn not in by_service[service]:
            by_service[service].append(arn)
    if by_service["secretsmanager"]:
        statements.append({"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                           "Resource": sorted(by_service["secretsmanager"])})
    if by_service["ssm"]:
        statements.append({"Sid": "Parameters", "Effect": "Allow", "Action": ["ssm:GetParameters"],
                           "Resource": sorted(by_service["ssm"])})
    if kms_key_arns and (by_service["secretsmanager"] or by_service["ssm"]):
        # Only when the key is used through those two services, not for arbitrary decrypt calls.
        statements.append({"Sid": "DecryptSecrets", "Effect": "Allow", "Action": ["kms:Decrypt"],
                           "Resource": sorted(set(kms_key_arns)),
                           "Condition": {"StringEquals": {"kms:ViaService": [
                               f"secretsmanager.{region}.amazonaws.com", f"ssm.{region}.amazonaws.com"]}}})
    return _document(statements)


def task_policy(statements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The task role's policy: exactly the caller's statements (already checked)."""
    return _document([{"Effect": "Allow", **statement} for statement in statements])


def _is_metadata(action: str) -> bool:
    return action.split(":", 1)[-1].startswith(_METADATA_VERBS)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}
