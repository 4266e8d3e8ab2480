"""The task of a :class:`~genai_platform.components.aws.fargate.service.FargateAlbService`: its log group and its
task definition (one hardened container: read-only root, non-root user, no capabilities)."""

import json

import pulumi
from pulumi_aws import cloudwatch, ecs, iam

from genai_platform.components.aws.fargate.args import FargateAlbServiceArgs
from genai_platform.components.aws.fargate.children import Children



def log_group(children: Children, args: FargateAlbServiceArgs) -> cloudwatch.LogGroup:
    """The container's log group, ``/genai/ecs/<component name>``."""
    name = children.name("logs")
    return cloudwatch.LogGroup(
        name,
        name=f"/genai/ecs/{children.prefix}",
        retention_in_days=args.log_retention_days,
        kms_key_id=args.log_kms_key_arn,
        tags=children.tagged(name),
        opts=children.opts(),
    )


def task_definition(children: Children, args: FargateAlbServiceArgs, logs: cloudwatch.LogGroup,
                    execution_role: iam.Role, task_role: iam.Role, region: str) -> ecs.TaskDefinition:
    """The Fargate task definition running ``args.image``, logging to ``logs``."""
    volumes = {path: f"scratch-{index}" for index, path in enumerate(args.writable_paths)}
    health_command = args.container_health_check_command or [
        "CMD", "python3", "-c",
        "import urllib.request; urllib.request.urlopen("
        f"'http://127.0.0.1:{args.container_port}{args.health_check_path}', timeout=4)",
    ]
    secret_items, environment_items = sorted(args.secrets.items()), sorted(args.environment.items())
    container_definitions = pulumi.Output.all(
        args.image, logs.name, [value for _, value in secret_items], [value for _, value in environment_items]
    ).apply(lambda values: json.dumps([{
        "name": args.container_name,
        "image": values[0],
        "essential": True,
        "portMappings": [{"containerPort": args.container_port, "protocol": "tcp"}],
        "readonlyRootFilesystem": True,
        "user": args.user,
        # No Linux capabilities: an API on an unprivileged port needs none.
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
        "mountPoints": [{"sourceVolume": volume, "containerPath": path, "readOnly": False}
                        for path, volume in volumes.items()],
        "environment": [{"name": key, "value": value}
                        for (key, _), value in zip(environment_items, values[3])],
        "secrets": [{"name": key, "valueFrom": value_from}
                    for (key, _), value_from in zip(secret_items, values[2])],
        "healthCheck": {"command": health_command, "interval": 30, "timeout": 5, "retries": 3,
                        "startPeriod": min(args.health_check_grace_period_seconds, 300)},
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": values[1], "awslogs-region": region,
            "awslogs-stream-prefix": args.container_name,
            # Never block the app on a CloudWatch hiccup; drop logs past a 25 MB buffer instead.
            "mode": "non-blocking", "max-buffer-size": "25m"}},
    }]))
    name = children.name("task")
    return ecs.TaskDefinition(
        name,
        family=args.family or children.prefix,
        requires_compatibilities=["FARGATE"],
        network_mode="awsvpc",
        cpu=str(args.cpu),
        memory=str(args.memory_mib),
        runtime_platform=ecs.TaskDefinitionRuntimePlatformArgs(
            operating_system_family="LINUX", cpu_architecture=args.cpu_architecture),
        execution_role_arn=execution_role.arn,
        task_role_arn=task_role.arn,
        container_definitions=container_definitions,
        volumes=[ecs.TaskDefinitionVolumeArgs(name=volume) for volume in volumes.values()],
        tags=children.tagged(name),
        opts=children.opts(),
    )
