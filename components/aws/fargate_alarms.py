"""CloudWatch alarms of a :class:`~components.aws.fargate_service.FargateAlbService`: 5xx rate,
p95 latency and unhealthy hosts. They page ``alarm_actions`` and roll back a deploy in progress."""

from typing import TYPE_CHECKING

from pulumi_aws import cloudwatch, lb

from components.aws.fargate_children import Children

if TYPE_CHECKING:
    from components.aws.fargate_service import FargateAlbServiceArgs

_ALARM_PERIOD_SECONDS = 60
_MIN_REQUESTS_FOR_ERROR_RATE = 10
"""Below this many requests a minute the 5xx rate is noise (1 error in 2 requests is 50%)."""


def service_alarms(children: Children, args: "FargateAlbServiceArgs", alb: lb.LoadBalancer,
                   target_groups: list[lb.TargetGroup]) -> list[cloudwatch.MetricAlarm]:
    """The 5xx-rate, p95-latency and unhealthy-host alarms, in that order."""
    # Load-balancer-wide metrics: during a canary the new version serves from the alternate
    # target group, and its errors must count too.
    on_alb = {"LoadBalancer": alb.arn_suffix}
    error_rate = _alarm(
        children, args,
        "5xx-rate",
        f"More than {args.error_rate_threshold_percent}% of requests answered 5xx (targets and ALB)",
        threshold=args.error_rate_threshold_percent,
        metric_queries=[
            _metric_query("target5xx", "HTTPCode_Target_5XX_Count", "Sum", on_alb),
            _metric_query("elb5xx", "HTTPCode_ELB_5XX_Count", "Sum", on_alb),
            _metric_query("requests", "RequestCount", "Sum", on_alb),
            cloudwatch.MetricAlarmMetricQueryArgs(
                id="errorrate",
                expression=(f"IF(requests >= {_MIN_REQUESTS_FOR_ERROR_RATE}, "
                            "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"),
                label="5xx responses (% of requests)",
                return_data=True,
            ),
        ],
    )
    latency = _alarm(
        children, args,
        "p95-latency",
        f"p95 target response time above {args.p95_latency_threshold_seconds}s",
        threshold=args.p95_latency_threshold_seconds,
        namespace="AWS/ApplicationELB",
        metric_name="TargetResponseTime",
        extended_statistic="p95",
        dimensions=on_alb,
        period=_ALARM_PERIOD_SECONDS,
    )
    # UnHealthyHostCount exists only per target group; the worst group counts.
    unhealthy_queries = [
        _metric_query(f"unhealthy{index}", "UnHealthyHostCount", "Maximum",
                      {"LoadBalancer": alb.arn_suffix, "TargetGroup": group.arn_suffix})
        for index, group in enumerate(target_groups)
    ]
    unhealthy = _alarm(
        children, args,
        "unhealthy-hosts",
        "At least one task fails the load balancer health check",
        threshold=0,
        metric_queries=[*unhealthy_queries, cloudwatch.MetricAlarmMetricQueryArgs(
            id="unhealthy", expression="MAX(METRICS())", label="Unhealthy tasks", return_data=True)],
    )
    return [error_rate, latency, unhealthy]


def _alarm(children: Children, args: "FargateAlbServiceArgs", suffix: str, description: str, threshold: float,
           **metric) -> cloudwatch.MetricAlarm:
    name = children.name(suffix)
    return cloudwatch.MetricAlarm(
        name,
        alarm_description=f"{children.prefix}: {description}. Rolls back a deploy in progress.",
        comparison_operator="GreaterThanThreshold",
        threshold=threshold,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        # No traffic is not an outage of this service; the unhealthy-host alarm covers dead tasks.
        treat_missing_data="notBreaching",
        alarm_actions=args.alarm_actions,
        ok_actions=args.alarm_actions,
        tags=children.tagged(name),
        opts=children.opts(),
        **metric,
    )


def _metric_query(query_id: str, metric_name: str, stat: str, dimensions: dict) -> cloudwatch.MetricAlarmMetricQueryArgs:
    return cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        return_data=False,
        metric=cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace="AWS/ApplicationELB", metric_name=metric_name, stat=stat,
            period=_ALARM_PERIOD_SECONDS, dimensions=dimensions),
    )
