"""Outputs of AWS Budgets, Cost Anomaly Detection and SNS topic policies (the AwsBudget component)."""

import uuid
from typing import Any

from genai_platform.mockcloud.cloud import MockContext, computes


@computes("aws:budgets/budget:Budget")
def _budget(context: MockContext) -> dict[str, Any]:
    # Budgets are global: the ARN has no region, and the provider's id is "<account>:<name>".
    name = context.physical_name
    return {"id": f"{context.account}:{name}", "name": name, "accountId": context.account,
            "arn": f"arn:aws:budgets::{context.account}:budget/{name}"}


def _cost_explorer(kind: str):
    """Outputs of a Cost Explorer resource: a UUID id and a region-less ``arn:aws:ce::`` ARN."""

    def outputs(context: MockContext) -> dict[str, Any]:
        resource_id = str(uuid.UUID(context.hex_id(32)))
        return {"id": resource_id, "name": context.physical_name,
                "arn": f"arn:aws:ce::{context.account}:{kind}/{resource_id}"}

    return outputs


computes("aws:costexplorer/anomalyMonitor:AnomalyMonitor")(_cost_explorer("anomalymonitor"))
computes("aws:costexplorer/anomalySubscription:AnomalySubscription")(_cost_explorer("anomalysubscription"))


@computes("aws:sns/topicPolicy:TopicPolicy")
def _topic_policy(context: MockContext) -> dict[str, Any]:
    arn = str(context.inputs.get("arn", ""))
    return {"id": arn, "owner": context.account}
