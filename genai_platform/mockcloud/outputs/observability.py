"""Outputs of the observability resources (AMP, Managed Grafana, Cloud Monitoring) and the NLB a
LoadBalancer Service gets, in the shapes AWS, Google and the AWS Load Balancer Controller return."""

from typing import Any

# Imported first on purpose: the Service entry below extends the one registered there.
from genai_platform.mockcloud.outputs import k8s  # noqa: F401
from genai_platform.mockcloud.cloud import _RESOURCE_OUTPUTS, MockContext, computes

_SERVICE = "kubernetes:core/v1:Service"
_namespaced_service = _RESOURCE_OUTPUTS[_SERVICE]


@computes(_SERVICE)
def _service(context: MockContext) -> dict[str, Any]:
    outputs = _namespaced_service(context)
    spec = context.inputs.get("spec") or {}
    if spec.get("type") == "LoadBalancer":
        # The controller names an NLB k8s-<namespace>-<service>-<hash>; internal ones have no public DNS prefix.
        metadata = context.inputs.get("metadata") or {}
        stem = f"k8s-{str(metadata.get('namespace', 'default'))[:8]}-{str(metadata.get('name', context.name))[:8]}"
        hostname = f"{stem}-{context.hex_id(10)}.elb.{context.region}.amazonaws.com"
        outputs["status"] = {"loadBalancer": {"ingress": [{"hostname": hostname}]}}
    return outputs


@computes("aws:amp/workspace:Workspace")
def _prometheus_workspace(context: MockContext) -> dict[str, Any]:
    workspace_id = f"ws-{context.hex_id(8)}-{context.hex_id(4)}-{context.hex_id(4)}-{context.hex_id(4)}-" \
                   f"{context.hex_id(12)}"
    return {"id": workspace_id, "arn": f"arn:aws:aps:{context.region}:{context.account}:workspace/{workspace_id}",
            "prometheusEndpoint": f"https://aps-workspaces.{context.region}.amazonaws.com/workspaces/{workspace_id}/"}


@computes("aws:grafana/workspace:Workspace")
def _grafana_workspace(context: MockContext) -> dict[str, Any]:
    workspace_id = f"g-{context.hex_id(10)}"
    return {"id": workspace_id, "arn": f"arn:aws:grafana:{context.region}:{context.account}:/workspaces/{workspace_id}",
            "endpoint": f"{workspace_id}.grafana-workspace.{context.region}.amazonaws.com"}


@computes("aws:grafana/workspaceServiceAccount:WorkspaceServiceAccount")
def _grafana_service_account(context: MockContext) -> dict[str, Any]:
    return {"serviceAccountId": str(int(context.hex_id(6), 16))}


@computes("aws:grafana/workspaceServiceAccountToken:WorkspaceServiceAccountToken")
def _grafana_token(context: MockContext) -> dict[str, Any]:
    return {"key": f"glsa_{context.hex_id(32)}", "serviceAccountTokenId": str(int(context.hex_id(6), 16))}


@computes("gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig")
def _uptime_check(context: MockContext) -> dict[str, Any]:
    check_id = f"{context.name}-{context.hex_id(8)}"
    return {"uptimeCheckId": check_id, "name": f"projects/{context.gcp_project}/uptimeCheckConfigs/{check_id}"}


@computes("gcp:monitoring/notificationChannel:NotificationChannel", "gcp:monitoring/alertPolicy:AlertPolicy")
def _monitoring_name(context: MockContext) -> dict[str, Any]:
    kind = "notificationChannels" if context.type.endswith("NotificationChannel") else "alertPolicies"
    return {"name": f"projects/{context.gcp_project}/{kind}/{int(context.hex_id(12), 16)}"}
