"""Monitoring: CloudWatch alarms and dashboards."""

from genai_platform.cost.prices import money, rate
from genai_platform.cost.pricers.context import PricingContext
from genai_platform.cost.pricers.quantities import number
from genai_platform.cost.pricers.registry import Priced, flat_fee, pricer_for
from genai_platform.mockcloud import RecordedResource

flat_fee("aws:cloudwatch/compositeAlarm:CompositeAlarm", "cloudwatch", "composite_alarm_month", "composite alarm")
flat_fee("aws:cloudwatch/dashboard:Dashboard", "cloudwatch", "dashboard_month", "CloudWatch dashboard")


@pricer_for("aws:cloudwatch/metricAlarm:MetricAlarm")
def _metric_alarm(resource: RecordedResource, context: PricingContext) -> Priced:
    inputs, prices = resource.inputs, context.prices["cloudwatch"]
    queries = inputs.get("metricQueries") or []
    if queries:
        metrics = sum(1 for q in queries if q.get("metric"))
        periods = [number((q.get("metric") or {}).get("period", 60), "period") for q in queries if q.get("metric")]
        anomaly = any("ANOMALY_DETECTION_BAND" in str(q.get("expression", "")) for q in queries)
    else:
        metrics, periods, anomaly = 1, [number(inputs.get("period", 60), "period")], False
    if anomaly:
        metrics = prices["anomaly_detection_metrics_per_alarm"]
    high_resolution = any(period < 60 for period in periods)
    per_metric = prices["high_resolution_alarm_metric_month"] if high_resolution else prices["alarm_metric_month"]
    amount = max(metrics, 1) * per_metric
    kind = "high-resolution" if high_resolution else "standard-resolution"
    statistic = f", statistic {inputs['extendedStatistic']} (percentiles cost no extra)" \
        if inputs.get("extendedStatistic") else ""
    return Priced([(amount, f"{kind} alarm, {max(metrics, 1)} metric(s){' (anomaly detection)' if anomaly else ''} "
                            f"x {rate(per_metric)}/month{statistic} = {money(amount)}")])
