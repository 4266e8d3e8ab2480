"""Outputs of the image registries (ECR, Artifact Registry), the alert topic's subscriptions and key policy,
and CloudWatch dashboards, in the shapes AWS and Google return."""

import hashlib
import uuid
from typing import Any

from genai_platform.mockcloud.cloud import MockContext, answers, computes


@computes("aws:ecr/repository:Repository")
def _ecr_repository(context: MockContext) -> dict[str, Any]:
    # ECR names are lower-case (ContainerRepository refuses a component name that is not).
    name = context.physical_name.lower()
    return {"id": name, "name": name, "registryId": context.account,
            "repositoryUrl": f"{context.account}.dkr.ecr.{context.region}.amazonaws.com/{name}",
            "arn": f"arn:aws:ecr:{context.region}:{context.account}:repository/{name}"}


@computes("aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy")
def _ecr_repository_attribute(context: MockContext) -> dict[str, Any]:
    # Both are identified by the repository they configure.
    return {"id": str(context.inputs.get("repository") or context.name), "registryId": context.account}


@computes("aws:sns/topicSubscription:TopicSubscription")
def _topic_subscription(context: MockContext) -> dict[str, Any]:
    # E-mail subscriptions stay "pending confirmation" until the recipient clicks the link.
    arn = f"{context.inputs.get('topic', '')}:{uuid.UUID(context.hex_id(32))}"
    pending = context.inputs.get("protocol") in ("email", "email-json")
    return {"id": arn, "arn": arn, "ownerId": context.account, "pendingConfirmation": pending,
            "confirmationWasAuthenticated": False}


@computes("aws:kms/keyPolicy:KeyPolicy")
def _key_policy(context: MockContext) -> dict[str, Any]:
    return {"id": str(context.inputs.get("keyId") or context.name)}


@computes("aws:cloudwatch/dashboard:Dashboard")
def _dashboard(context: MockContext) -> dict[str, Any]:
    # Dashboards are global: the ARN has no region.
    name = str(context.inputs.get("dashboardName") or context.physical_name)
    return {"id": name, "dashboardName": name, "dashboardArn": f"arn:aws:cloudwatch::{context.account}:dashboard/{name}"}


@computes("gcp:artifactregistry/repository:Repository")
def _artifact_repository(context: MockContext) -> dict[str, Any]:
    project = str(context.inputs.get("project") or context.gcp_project)
    location = str(context.inputs.get("location") or context.gcp_region)
    repository_id = str(context.inputs.get("repositoryId") or context.name)
    full_name = f"projects/{project}/locations/{location}/repositories/{repository_id}"
    return {"id": full_name, "name": repository_id, "project": project, "location": location,
            "registryUri": f"{location}-docker.pkg.dev/{project}/{repository_id}",
            "createTime": "2025-01-01T00:00:00.000000Z", "updateTime": "2025-01-01T00:00:00.000000Z"}


@computes("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
def _artifact_repository_member(context: MockContext) -> dict[str, Any]:
    inputs = context.inputs
    project = str(inputs.get("project") or context.gcp_project)
    location = str(inputs.get("location") or context.gcp_region)
    target = f"projects/{project}/locations/{location}/repositories/{inputs.get('repository')}"
    return {"id": f"{target} {inputs.get('role')} {inputs.get('member')}", "project": project, "location": location,
            "etag": f"BwY{context.hex_id(9)}="}


@answers("aws:ecr/getImage:getImage")
def _ecr_image(context: MockContext) -> dict[str, Any]:
    # The digest a pushed image would have: stable per repository and tag.
    repository, tag = context.inputs.get("repositoryName", ""), context.inputs.get("imageTag", "")
    digest = "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
    return {"id": f"{repository}:{tag}", "repositoryName": repository, "imageTag": tag, "imageDigest": digest,
            "imageTags": [tag], "registryId": context.account, "imagePushedAt": 1764547200,
            "imageSizeInBytes": 157286400, "imageUri": f"{context.account}.dkr.ecr.{context.region}.amazonaws.com/"
                                                       f"{repository}@{digest}"}
