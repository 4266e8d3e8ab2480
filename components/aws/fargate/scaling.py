"""Autoscaling of a :class:`~genai_platform.components.aws.fargate.service.FargateAlbService`: the task count
tracks average CPU and ALB requests per task, between ``min_tasks`` and ``max_tasks``."""

from typing import Any

import pulumi
from pulumi_aws import appautoscaling, ecs, lb

from genai_platform.components.aws.fargate.args import FargateAlbServiceArgs
from genai_platform.components.aws.fargate.children import Children



def autoscaling(children: Children, args: FargateAlbServiceArgs, cluster_name: pulumi.Output[str],
                service: ecs.Service, alb_arn_suffix: pulumi.Output[str], target_groups: list[lb.TargetGroup]) -> None:
    """The scalable target of ``service`` and its CPU and request-count tracking policies."""
    name = children.name("scaling")
    target = appautoscaling.Target(
        name,
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.concat("service/", cluster_name, "/", service.name),
        min_capacity=args.min_tasks,
        max_capacity=args.max_tasks,
        tags=children.tagged(name),
        opts=children.opts(),
    )
    _tracking_policy(children, "cpu", target, args.cpu_target_percent, {"predefined_metric_specification": {
        "predefined_metric_type": "ECSServiceAverageCPUUtilization"}})
    if len(target_groups) == 1:
        _tracking_policy(children, "requests", target, args.requests_per_target, {"predefined_metric_specification": {
            "predefined_metric_type": "ALBRequestCountPerTarget",
            "resource_label": pulumi.Output.concat(alb_arn_suffix, "/", target_groups[0].arn_suffix)}})
        return
    # With traffic shifting the serving group alternates between deploys; the predefined metric is
    # bound to one group and would read zero half the time. The busier group's count is the truth.
    queries: list[dict[str, Any]] = [{
        "id": f"group{index}",
        "return_data": False,
        "metric_stat": {"stat": "Sum", "metric": {
            "namespace": "AWS/ApplicationELB", "metric_name": "RequestCountPerTarget",
            "dimensions": [{"name": "TargetGroup", "value": group.arn_suffix}]}},
    } for index, group in enumerate(target_groups)]
    queries.append({"id": "busiest", "expression": "MAX([FILL(group0, 0), FILL(group1, 0)])",
                    "label": "Requests per task (busier target group)", "return_data": True})
    _tracking_policy(children, "requests", target, args.requests_per_target,
                     {"customized_metric_specification": {"metrics": queries}})


def _tracking_policy(children: Children, suffix: str, target: appautoscaling.Target, target_value: float,
                     metric: dict[str, Any]) -> None:
    appautoscaling.Policy(
        children.name(suffix),
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration={
            "target_value": target_value,
            # Out fast (a minute), in slowly (five): flapping costs more than a spare task.
            "scale_out_cooldown": 60,
            "scale_in_cooldown": 300,
            **metric,
        },
        opts=children.opts(),
    )
