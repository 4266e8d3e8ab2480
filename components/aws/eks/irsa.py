"""IAM roles for Kubernetes service accounts (IRSA): one role per service account, trusted through
the cluster's OIDC provider."""

import json
from collections.abc import Mapping

import pulumi
from pulumi_aws import iam

from genai_platform.components.tagging import child_tags


def irsa_assume_role_policy(oidc_provider_arn: pulumi.Input[str], oidc_provider_url: pulumi.Input[str],
                            namespace: str, service_account: str) -> pulumi.Output[str]:
    """Trust policy: only ``system:serviceaccount:<namespace>:<service_account>`` tokens minted for STS.

    Pinning both ``sub`` and ``aud`` is what keeps every other pod in the cluster (and tokens minted
    for other audiences) from assuming the role.
    """

    def document(values: list[str]) -> str:
        arn, url = values
        issuer = url.removeprefix("https://")
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {
                    f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                    f"{issuer}:aud": "sts.amazonaws.com",
                }},
            }],
        })

    return pulumi.Output.all(oidc_provider_arn, oidc_provider_url).apply(document)


def irsa_role(name: str, *, oidc_provider_arn: pulumi.Input[str], oidc_provider_url: pulumi.Input[str],
              namespace: str, service_account: str, tags: Mapping[str, str], parent: pulumi.Resource) -> iam.Role:
    """A role only ``namespace/service_account`` can assume; attach its permissions separately."""
    return iam.Role(
        name,
        description=f"IRSA role of the {namespace}/{service_account} service account",
        assume_role_policy=irsa_assume_role_policy(oidc_provider_arn, oidc_provider_url, namespace, service_account),
        tags=child_tags(name, tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
