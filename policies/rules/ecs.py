"""ECS: private tasks, read-only unprivileged containers, secrets from Secrets Manager, logs and safe deploys.

``containerDefinitions`` is a JSON string; when it is not known yet (preview) or hidden as a
secret, the container rules have nothing to read and stay silent.
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import ADVISORY, MANDATORY, RuleContext, Setting, resource_rule
from genai_platform.policies.values import as_list, each_mapping, get, is_true, parse_json

SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
CLUSTER = "aws:ecs/cluster:Cluster"

_AWS_ACCESS_KEY = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")


def _containers(args: ResourceValidationArgs) -> list[Mapping[str, Any]]:
    return list(each_mapping(as_list(parse_json(args.props.get("containerDefinitions")))))


def _name(container: Mapping[str, Any]) -> str:
    return str(container.get("name", "?"))


@resource_rule(
    name="ecs-no-public-ip",
    types=[SERVICE],
    description="ECS services do not give tasks public IPs (checkov CKV_AWS_333).",
    severity="high",
    levels=MANDATORY,
    remediation="Set network_configuration.assign_public_ip=False, run tasks in private subnets and pull "
                "images through NAT or VPC endpoints.",
)
def no_public_ip(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if is_true(get(args.props, "networkConfiguration.assignPublicIp")):
        yield "networkConfiguration.assignPublicIp is true."


@resource_rule(
    name="ecs-read-only-root-filesystem",
    types=[TASK_DEFINITION],
    description="ECS containers mount their root filesystem read-only (checkov CKV_AWS_336).",
    severity="medium",
    levels=MANDATORY,
    remediation="Set readonlyRootFilesystem: true in each container definition; give writable paths a "
                "volume (tmpfs or bind mount).",
)
def read_only_root(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for container in _containers(args):
        if not is_true(container.get("readonlyRootFilesystem")):
            yield f"Container {_name(container)!r} has a writable root filesystem."


@resource_rule(
    name="ecs-no-privileged-containers",
    types=[TASK_DEFINITION],
    description="ECS containers are not privileged (checkov CKV_AWS_334).",
    severity="high",
    levels=MANDATORY,
    remediation="Remove privileged: true from the container definition (Fargate rejects it anyway).",
)
def no_privileged(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for container in _containers(args):
        if is_true(container.get("privileged")):
            yield f"Container {_name(container)!r} is privileged."


@resource_rule(
    name="ecs-no-secrets-in-environment",
    types=[TASK_DEFINITION],
    description="Secrets reach containers through 'secrets' (Secrets Manager / SSM references), never as "
                "plain environment values visible in the task definition (cdk-nag AwsSolutions-ECS2, "
                "checkov CKV_AWS_45 for the same smell in Lambda).",
    severity="high",
    levels=MANDATORY,
    remediation="Move the value to Secrets Manager and list it under the container's secrets "
                "[{'name': ..., 'valueFrom': <secret arn>}]; the execution role needs secretsmanager:GetSecretValue.",
    settings={"secretNamePattern": Setting(
        {"type": "string"}, r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)",
        description="Regex (case-insensitive) over variable names that must not carry plain values.")},
)
def no_secrets_in_environment(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    pattern = re.compile(ctx["secretNamePattern"], re.IGNORECASE)
    for container in _containers(args):
        for variable in each_mapping(as_list(container.get("environment"))):
            name, value = str(variable.get("name", "")), str(variable.get("value", ""))
            # An ARN or a *_ARN/_ID/_NAME variable points at a secret; it is not one.
            pointer = value.startswith("arn:") or re.search(r"_(ARN|ID|NAME|FILE|PATH)$", name, re.IGNORECASE)
            if (pattern.search(name) and not pointer) or _AWS_ACCESS_KEY.search(value):
                yield f"Container {_name(container)!r} passes {name} as a plain environment value."


@resource_rule(
    name="ecs-logging-configured",
    types=[TASK_DEFINITION],
    description="Every ECS container ships its output to a log driver (cdk-nag AwsSolutions-ECS7).",
    severity="medium",
    levels=MANDATORY,
    remediation="Set logConfiguration={'logDriver': 'awslogs', 'options': {'awslogs-group': ..., "
                "'awslogs-region': ..., 'awslogs-stream-prefix': ...}} on each container.",
)
def logging_configured(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for container in _containers(args):
        if not get(container, "logConfiguration.logDriver"):
            yield f"Container {_name(container)!r} has no logConfiguration.logDriver."


@resource_rule(
    name="ecs-separate-task-and-execution-roles",
    types=[TASK_DEFINITION],
    description="The task role (what the app may do) differs from the execution role (what ECS needs to "
                "start it) (checkov CKV_AWS_249).",
    severity="medium",
    levels=MANDATORY,
    remediation="Create a dedicated task role with only the application's permissions and pass it as "
                "task_role_arn; keep execution_role_arn for image pulls, logs and secrets.",
)
def separate_roles(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    task_role, execution_role = args.props.get("taskRoleArn"), args.props.get("executionRoleArn")
    if task_role and task_role == execution_role:
        yield "taskRoleArn and executionRoleArn are the same role."


@resource_rule(
    name="ecs-container-insights",
    types=[CLUSTER],
    description="ECS clusters have Container Insights on (checkov CKV_AWS_65, cdk-nag AwsSolutions-ECS4).",
    severity="low",
    levels=ADVISORY,
    remediation="Set settings=[{'name': 'containerInsights', 'value': 'enabled'}] (or 'enhanced').",
)
def container_insights(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    values = {s.get("name"): s.get("value") for s in each_mapping(as_list(args.props.get("settings")))}
    if values.get("containerInsights") not in ("enabled", "enhanced"):
        yield "containerInsights is not enabled."


@resource_rule(
    name="ecs-deployment-circuit-breaker",
    types=[SERVICE],
    description="ECS rolling deployments stop and roll back when new tasks keep failing, instead of "
                "cycling forever (platform rule; TF-ecs leaves it off).",
    severity="low",
    levels=ADVISORY,
    remediation="Set deployment_circuit_breaker={'enable': True, 'rollback': True} (not needed with "
                "CODE_DEPLOY blue/green).",
)
def deployment_circuit_breaker(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if get(args.props, "deploymentController.type", "ECS") != "ECS":
        return
    breaker = get(args.props, "deploymentCircuitBreaker", {})
    if not (is_true(get(breaker, "enable")) and is_true(get(breaker, "rollback"))):
        yield "deploymentCircuitBreaker is not enabled with rollback."
