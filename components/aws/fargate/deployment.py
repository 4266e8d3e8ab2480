"""The ECS service of a :class:`~genai_platform.components.aws.fargate.service.FargateAlbService` and how it deploys:
rolling with the circuit breaker and the alarms as rollback triggers, or ECS-native canary, linear or
blue/green traffic shifting between two target groups."""


import pulumi
from pulumi_aws import cloudwatch, ec2, ecs, lb

from genai_platform.components.aws.fargate.args import FargateAlbServiceArgs
from genai_platform.components.aws.fargate.children import Children
from genai_platform.components.aws.fargate.roles import infrastructure_role



def ecs_service(children: Children, args: FargateAlbServiceArgs, cluster_arn: pulumi.Input[str],
                task_definition: ecs.TaskDefinition, service_sg: ec2.SecurityGroup,
                target_groups: list[lb.TargetGroup], production_rule: lb.ListenerRule | None,
                alarms: list[cloudwatch.MetricAlarm], depends_on: list[pulumi.Resource]) -> ecs.Service:
    """The Fargate service; ``production_rule`` (with two ``target_groups``) selects traffic shifting."""
    load_balancer = ecs.ServiceLoadBalancerArgs(target_group_arn=target_groups[0].arn,
                                                container_name=args.container_name,
                                                container_port=args.container_port)
    ignore = ["desiredCount"]  # autoscaling owns the task count after creation
    deployment = ecs.ServiceDeploymentConfigurationArgs(strategy=args.deployment_strategy)
    if production_rule is not None:
        role, attachment = infrastructure_role(children)
        depends_on = [*depends_on, production_rule, attachment]
        load_balancer.advanced_configuration = ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
            alternate_target_group_arn=target_groups[1].arn,
            production_listener_rule=production_rule.arn,
            role_arn=role.arn,
        )
        deployment = _shifting_configuration(args)
        # ECS swaps which group is primary on every deploy; sending our original choice back would
        # start a deploy into the group that is serving traffic.
        ignore.append("loadBalancers")
    name = children.name("service")
    # Spot is a capacity-provider strategy; ECS accepts either a strategy or a launch type, never both.
    placement = {"capacity_provider_strategies": [ecs.ServiceCapacityProviderStrategyArgs(
        capacity_provider="FARGATE_SPOT", weight=1)]} if args.fargate_spot else {"launch_type": "FARGATE"}
    return ecs.Service(
        name,
        cluster=cluster_arn,
        task_definition=task_definition.arn,
        desired_count=args.min_tasks,
        **placement,
        platform_version="LATEST",
        network_configuration=ecs.ServiceNetworkConfigurationArgs(
            subnets=args.private_subnet_ids,
            security_groups=[service_sg.id],
            assign_public_ip=False,  # egress goes through NAT or endpoints; nothing reaches a task directly
        ),
        load_balancers=[load_balancer],
        health_check_grace_period_seconds=args.health_check_grace_period_seconds,
        deployment_minimum_healthy_percent=100,
        deployment_maximum_percent=200,
        deployment_circuit_breaker=ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
        deployment_configuration=deployment,
        alarms=ecs.ServiceAlarmsArgs(alarm_names=[alarm.name for alarm in alarms], enable=True, rollback=True),
        availability_zone_rebalancing="ENABLED",
        enable_execute_command=False,
        enable_ecs_managed_tags=True,
        propagate_tags="SERVICE",
        tags=children.tagged(name),
        opts=children.opts(depends_on=depends_on, ignore_changes=ignore),
    )


def _shifting_configuration(args: FargateAlbServiceArgs) -> ecs.ServiceDeploymentConfigurationArgs:
    deployment = ecs.ServiceDeploymentConfigurationArgs(strategy=args.deployment_strategy,
                                                        bake_time_in_minutes=str(args.bake_time_minutes))
    if args.deployment_strategy == "CANARY":
        deployment.canary_configuration = ecs.ServiceDeploymentConfigurationCanaryConfigurationArgs(
            canary_percent=args.canary_percent,
            canary_bake_time_in_minutes=str(args.canary_bake_time_minutes))
    elif args.deployment_strategy == "LINEAR":
        deployment.linear_configuration = ecs.ServiceDeploymentConfigurationLinearConfigurationArgs(
            step_percent=args.linear_step_percent,
            step_bake_time_in_minutes=str(args.linear_step_bake_time_minutes))
    return deployment
