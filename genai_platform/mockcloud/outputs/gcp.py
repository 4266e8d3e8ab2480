"""GCP look-ups and the outputs of Cloud Run, service accounts, Pub/Sub and billing budgets."""

import hashlib
import uuid
from typing import Any

from genai_platform.mockcloud.cloud import GCP_PROJECT_NUMBER, MockContext, answers, computes

# The short region code Cloud Run puts in its *.a.run.app host names.
_RUN_REGION_CODES = {
    "us-central1": "uc", "us-east1": "ue", "us-east4": "uk", "us-west1": "uw", "europe-west1": "ew",
    "europe-west2": "nw", "europe-west3": "ey", "europe-west4": "ez", "europe-north1": "lz",
    "asia-northeast1": "an", "asia-southeast1": "as", "asia-south1": "el",
}


def _project(context: MockContext) -> str:
    return str(context.inputs.get("project") or context.gcp_project)


def _project_hash(project: str) -> str:
    # Cloud Run's host names carry a 10-character hash that is fixed per project.
    return hashlib.sha256(project.encode()).hexdigest()[:10]


@answers("gcp:organizations/getClientConfig:getClientConfig")
def _client_config(context: MockContext) -> dict[str, Any]:
    return {"id": f"projects/{context.gcp_project}/regions/{context.gcp_region}/zones/{context.gcp_region}-a",
            "project": context.gcp_project, "region": context.gcp_region, "zone": f"{context.gcp_region}-a",
            "accessToken": "ya29.mock-token", "defaultLabels": {}}


@answers("gcp:organizations/getProject:getProject")
def _get_project(context: MockContext) -> dict[str, Any]:
    project = str(context.inputs.get("projectId") or context.gcp_project)
    return {"id": f"projects/{project}", "projectId": project, "number": GCP_PROJECT_NUMBER, "name": project,
            "labels": {}, "effectiveLabels": {}, "autoCreateNetwork": True}


@computes("gcp:serviceaccount/account:Account")
def _service_account(context: MockContext) -> dict[str, Any]:
    project = _project(context)
    email = f"{context.inputs.get('accountId', context.name)}@{project}.iam.gserviceaccount.com"
    digits = str(int(context.hex_id(16), 16))[:21].rjust(21, "1")
    return {"id": f"projects/{project}/serviceAccounts/{email}", "name": f"projects/{project}/serviceAccounts/{email}",
            "email": email, "member": f"serviceAccount:{email}", "uniqueId": digits, "project": project}


@computes("gcp:cloudrunv2/service:Service")
def _cloud_run_service(context: MockContext) -> dict[str, Any]:
    project, name = _project(context), context.physical_name
    region = str(context.inputs.get("location") or context.gcp_region)
    code = _RUN_REGION_CODES.get(region, "".join(part[0] for part in region.split("-")[:2]))
    uri = f"https://{name}-{_project_hash(project)}-{code}.a.run.app"
    return {"id": f"projects/{project}/locations/{region}/services/{name}", "name": name, "project": project,
            "uri": uri, "urls": [uri, f"https://{name}-{GCP_PROJECT_NUMBER}.{region}.run.app"],
            "uid": str(uuid.UUID(context.hex_id(32))), "latestReadyRevision": f"{name}-00001-abc",
            "observedGeneration": "1", "reconciling": False}


@computes("gcp:pubsub/topic:Topic")
def _pubsub_topic(context: MockContext) -> dict[str, Any]:
    project, name = _project(context), context.physical_name
    return {"id": f"projects/{project}/topics/{name}", "name": name, "project": project}


@computes("gcp:billing/budget:Budget")
def _billing_budget(context: MockContext) -> dict[str, Any]:
    name = f"billingAccounts/{context.inputs.get('billingAccount', '000000-000000-000000')}/budgets/" \
           f"{uuid.UUID(context.hex_id(32))}"
    return {"id": name, "name": name}


@computes("gcp:projects/iAMMember:IAMMember", "gcp:secretmanager/secretIamMember:SecretIamMember",
          "gcp:cloudrunv2/serviceIamMember:ServiceIamMember", "gcp:pubsub/topicIAMMember:TopicIAMMember")
def _iam_member(context: MockContext) -> dict[str, Any]:
    # The provider's id for a member binding is "<resource> <role> <member>"; the etag changes on every write.
    target = context.inputs.get("name") or context.inputs.get("secretId") or context.inputs.get("topic") \
        or _project(context)
    return {"id": f"{target} {context.inputs.get('role')} {context.inputs.get('member')}",
            "etag": f"BwY{context.hex_id(9)}="}
