"""Outputs of the EKS cluster, its node groups and add-ons, in the shapes AWS and pulumi-eks return.

``eks:index:Cluster`` is a remote (multi-language) component: offline nothing runs behind it, so
this module stands in for what its provider would compute (kubeconfig, OIDC issuer, security group).
"""

import json
import uuid
from typing import Any

# Imported first on purpose: the launch-template entry below extends the one registered there.
from genai_platform.mockcloud.outputs import aws_core  # noqa: F401
from genai_platform.mockcloud.cloud import _RESOURCE_OUTPUTS, MockContext, computes

_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def _uuid(context: MockContext) -> str:
    return str(uuid.UUID(context.hex_id(32)))


@computes("eks:index:Cluster")
def _pulumi_eks_cluster(context: MockContext) -> dict[str, Any]:
    name = context.physical_name
    issuer = f"oidc.eks.{context.region}.amazonaws.com/id/{context.hex_id(32).upper()}"
    endpoint = f"https://{context.hex_id(32).upper()}.gr7.{context.region}.eks.amazonaws.com"
    security_group = f"sg-0{context.hex_id(16)}"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubernetes", "cluster": {
            "server": endpoint, "certificate-authority-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="}}],
        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
        "current-context": "aws",
        "users": [{"name": "aws", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
            "args": ["--region", context.region, "eks", "get-token", "--cluster-name", name, "--output", "json"]}}}],
    }
    return {
        "kubeconfig": kubeconfig,
        "kubeconfigJson": json.dumps(kubeconfig),
        "clusterSecurityGroupId": security_group,
        "nodeSecurityGroupId": security_group,
        "oidcIssuer": issuer,
        "oidcProviderUrl": f"https://{issuer}",
        "oidcProviderArn": f"arn:aws:iam::{context.account}:oidc-provider/{issuer}",
        "clusterIngressRuleId": "",
        "defaultNodeGroupAsgName": "",
        "fargateProfileId": "",
        "fargateProfileStatus": "",
        "autoModeNodeRoleName": "",
    }


@computes("aws:eks/nodeGroup:NodeGroup")
def _node_group(context: MockContext) -> dict[str, Any]:
    cluster = context.inputs.get("clusterName", "cluster")
    name = context.inputs.get("nodeGroupName") or context.physical_name
    node_group_uuid = _uuid(context)
    # EKS names the Auto Scaling group after the node group's UUID, not its name.
    return {
        "id": f"{cluster}:{name}",
        "nodeGroupName": name,
        "arn": f"arn:aws:eks:{context.region}:{context.account}:nodegroup/{cluster}/{name}/{node_group_uuid}",
        "status": "ACTIVE",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{name}-{node_group_uuid}"}],
                       "remoteAccessSecurityGroupId": ""}],
    }


@computes("aws:eks/addon:Addon")
def _addon(context: MockContext) -> dict[str, Any]:
    cluster, addon = context.inputs.get("clusterName", "cluster"), context.inputs.get("addonName", context.name)
    return {"id": f"{cluster}:{addon}",
            "arn": f"arn:aws:eks:{context.region}:{context.account}:addon/{cluster}/{addon}/{_uuid(context)}"}


@computes("aws:autoscaling/tag:Tag")
def _asg_tag(context: MockContext) -> dict[str, Any]:
    return {"id": f"{context.inputs.get('autoscalingGroupName')},{context.inputs.get('tag', {}).get('key')}"}


_base_launch_template = _RESOURCE_OUTPUTS.get(_LAUNCH_TEMPLATE)


@computes(_LAUNCH_TEMPLATE)
def _launch_template(context: MockContext) -> dict[str, Any]:
    # Node groups pin a launch template by its version number; a new template starts at 1.
    outputs = dict(_base_launch_template(context)) if _base_launch_template else {}
    outputs.setdefault("latestVersion", 1)
    outputs.setdefault("defaultVersion", 1)
    return outputs
