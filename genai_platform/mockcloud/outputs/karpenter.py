"""Outputs of what the Karpenter component creates besides queues and roles, in the shapes AWS returns."""

from typing import Any

from genai_platform.mockcloud.cloud import MockContext, computes


@computes("aws:cloudwatch/eventRule:EventRule")
def _event_rule(context: MockContext) -> dict[str, Any]:
    # EventBridge rules live under the "events" service: queue policies name them by this ARN in aws:SourceArn.
    name = context.inputs.get("name") or context.physical_name
    return {"id": name, "name": name, "arn": f"arn:aws:events:{context.region}:{context.account}:rule/{name}"}


@computes("aws:eks/accessEntry:AccessEntry")
def _access_entry(context: MockContext) -> dict[str, Any]:
    cluster, principal = context.inputs.get("clusterName", "cluster"), str(context.inputs.get("principalArn", ""))
    role = principal.rsplit("/", 1)[-1]
    return {"id": f"{cluster}:{principal}",
            "accessEntryArn": f"arn:aws:eks:{context.region}:{context.account}:access-entry/{cluster}/role/"
                              f"{context.account}/{role}/{context.hex_id(8)}"}
