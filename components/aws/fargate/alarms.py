"""CloudWatch alarms of a :class:`~genai_platform.components.aws.fargate.service.FargateAlbService`: 5xx rate,
p95 latency and unhealthy hosts. They page ``alarm_actions`` and roll back a deploy in progress."""


import pulumi
from pulumi_aws import cloudwatch, lb

from genai_platform.components.aws.fargate.args import FargateAlbServiceArgs
from genai_platform.components.aws.fargate.children import Children


_ALARM_PERIOD_SECONDS = 60
_MIN_REQUESTS_FOR_ERROR_RATE = 10
"""Below this many requests a minute the 5xx rate is noise (1 error in 2 requests is 50%)."""


def service_alarms(children: Children, args: FargateAlbServiceArgs, alb_arn_suffix: pulumi.Output[str],
                   target_groups: list[lb.TargetGroup], shared: bool) -> list[cloudwatch.MetricAlarm]:
    """The 5xx-rate, p95-latency and unhealthy-host alarms, in that order. On a ``shared`` load balancer
    they read the service's own target groups, so another service's errors never roll this one back."""
    if shared:
        error_rate, latency = _target_group_alarms(children, args, alb_arn_suffix, target_groups)
        return [error_rate, latency, _unhealthy_alarm(children, args, alb_arn_suffix, target_groups)]
    # Load-balancer-wide metrics: during a canary the new version serves from the alternate
    # target group, and its errors must count too.
    on_alb = {"LoadBalancer": alb_arn_suffix}
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
    return [error_rate, latency, _unhealthy_alarm(children, args, alb_arn_suffix, target_groups)]


def _target_group_alarms(children: Children, args: FargateAlbServiceArgs, alb_arn_suffix: pulumi.Output[str],
                         target_groups: list[lb.TargetGroup]) -> tuple[cloudwatch.MetricAlarm, cloudwatch.MetricAlarm]:
    # Both groups count, as on an own load balancer: during a canary the new version serves from the
    # alternate one. 5xx the ALB itself answers (no healthy target) are load-balancer-wide only; the
    # unhealthy-host alarm covers that case for this service.
    dimensions = [{"LoadBalancer": alb_arn_suffix, "TargetGroup": group.arn_suffix} for group in target_groups]
    indexes = range(len(target_groups))
    errors = " + ".join(f"FILL(target5xx{i}, 0)" for i in indexes)
    requests = " + ".join(f"FILL(requests{i}, 0)" for i in indexes)
    error_rate = _alarm(
        children, args,
        "5xx-rate",
        f"More than {args.error_rate_threshold_percent}% of the service's requests answered 5xx by its tasks",
        threshold=args.error_rate_threshold_percent,
        metric_queries=[
            *[_metric_query(f"target5xx{i}", "HTTPCode_Target_5XX_Count", "Sum", dimensions[i]) for i in indexes],
            *[_metric_query(f"requests{i}", "RequestCount", "Sum", dimensions[i]) for i in indexes],
            cloudwatch.MetricAlarmMetricQueryArgs(
                id="errorrate",
                expression=(f"IF(({requests}) >= {_MIN_REQUESTS_FOR_ERROR_RATE}, "
                            f"100 * ({errors}) / ({requests}), 0)"),
                label="5xx responses (% of requests)",
                return_data=True,
            ),
        ],
    )
    latency = _alarm(
        children, args,
        "p95-latency",
        f"p95 target response time above {args.p95_latency_threshold_seconds}s (slowest target group)",
        threshold=args.p95_latency_threshold_seconds,
        metric_queries=[
            *[_metric_query(f"p95group{i}", "TargetResponseTime", "p95", dimensions[i]) for i in indexes],
            cloudwatch.MetricAlarmMetricQueryArgs(
                id="p95", expression="MAX(METRICS())", label="p95 response time (s)", return_data=True),
        ],
    )
    return error_rate, latency


def _unhealthy_alarm(children: Children, args: FargateAlbServiceArgs, alb_arn_suffix: pulumi.Output[str],
                     target_groups: list[lb.TargetGroup]) -> cloudwatch.MetricAlarm:
    # UnHealthyHostCount exists only per target group; the worst group counts.
    unhealthy_queries = [
        _metric_query(f"unhealthy{index}", "UnHealthyHostCount", "Maximum",
                      {"LoadBalancer": alb_arn_suffix, "TargetGroup": group.arn_suffix})
        for index, group in enumerate(target_groups)
    ]
    return _alarm(
        children, args,
        "unhealthy-hosts",
        "At least one task fails the load balancer health check",
        threshold=0,
        metric_queries=[*unhealthy_queries, cloudwatch.MetricAlarmMetricQueryArgs(
            id="unhealthy", expression="MAX(METRICS())", label="Unhealthy tasks", return_data=True)],
    )


def _alarm(children: Children, args: FargateAlbServiceArgs, suffix: str, description: str, threshold: float,
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
