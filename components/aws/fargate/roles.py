"""IAM roles of a :class:`~genai_platform.components.aws.fargate.service.FargateAlbService`: the execution and task
roles of its tasks, and the ECS infrastructure role of traffic-shifting deploys. The policy documents
themselves are built by :mod:`genai_platform.components.aws.fargate.iam`."""

import json
from typing import Any

import pulumi
from pulumi_aws import cloudwatch, iam

from genai_platform.components.aws.fargate.args import FargateAlbServiceArgs
from genai_platform.components.aws.fargate.children import Children
from genai_platform.components.aws.fargate.iam import ecs_tasks_trust_policy, execution_policy, task_policy



def task_roles(children: Children, args: FargateAlbServiceArgs, log_group: cloudwatch.LogGroup, account_id: str,
               region: str) -> tuple[iam.Role, iam.Role, list[pulumi.Resource]]:
    """``(execution role, task role, their inline policies)``."""
    # Two roles: the execution role is used by the ECS agent before the app starts (pull, logs,
    # secrets); the task role is the app's own identity. Mixing them would hand the app the
    # secrets' read permission and the agent the app's permissions.
    execution_role = _role(children, "execution", ecs_tasks_trust_policy(account_id, region, source_arn=False))
    secret_names = list(args.secrets)
    policies: list[pulumi.Resource] = [iam.RolePolicy(
        children.name("execution"),
        role=execution_role.id,
        policy=pulumi.Output.all(log_group.arn, args.image, list(args.secrets.values()),
                                 args.secrets_kms_key_arns).apply(
            lambda values: json.dumps(execution_policy(
                values[0], values[1], dict(zip(secret_names, values[2])), values[3], region))),
        opts=children.opts(),
    )]

    task_role = _role(children, "task", ecs_tasks_trust_policy(account_id, region, source_arn=True))
    if args.task_role_statements:
        policies.append(iam.RolePolicy(
            children.name("task"),
            role=task_role.id,
            policy=pulumi.Output.from_input(args.task_role_statements).apply(
                lambda statements: json.dumps(task_policy(statements))),
            opts=children.opts(),
        ))
    return execution_role, task_role, policies


def infrastructure_role(children: Children) -> tuple[iam.Role, iam.RolePolicyAttachment]:
    """The role ECS uses to re-weight the production listener rule during a traffic-shifting deploy."""
    # The trust policy AWS documents for it: ECS assumes this role without source conditions.
    role = _role(children, "ecs-infrastructure", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    # AWS's managed policy: its write statements are limited to ELB target groups, listeners and
    # rules, and ECS revises it as the deployment controller changes (v6 by 2026); a hand-copied
    # subset would break deploys silently the day ECS needs one more call.
    attachment = iam.RolePolicyAttachment(
        children.name("ecs-infrastructure"),
        role=role.name,
        policy_arn="arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers",
        opts=children.opts(),
    )
    return role, attachment


def _role(children: Children, suffix: str, trust_policy: dict[str, Any]) -> iam.Role:
    name = children.name(suffix)
    return iam.Role(name, assume_role_policy=json.dumps(trust_policy), tags=children.tagged(name),
                    opts=children.opts())
