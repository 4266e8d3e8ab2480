"""Cloud KMS key rings and keys, with the resource names Google gives them."""

from typing import Any

from genai_platform.mockcloud.cloud import MockContext, computes


@computes("gcp:kms/keyRing:KeyRing")
def _key_ring(context: MockContext) -> dict[str, Any]:
    project = str(context.inputs.get("project") or context.gcp_project)
    name = context.physical_name
    return {"id": f"projects/{project}/locations/{context.inputs['location']}/keyRings/{name}", "name": name,
            "project": project}


@computes("gcp:kms/cryptoKey:CryptoKey")
def _crypto_key(context: MockContext) -> dict[str, Any]:
    name = context.physical_name
    return {"id": f"{context.inputs['keyRing']}/cryptoKeys/{name}", "name": name, "primaries": [],
            "effectiveLabels": dict(context.inputs.get("labels") or {})}


@computes("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
def _crypto_key_member(context: MockContext) -> dict[str, Any]:
    inputs = context.inputs
    return {"id": f"{inputs['cryptoKeyId']}/{inputs['role']}/{inputs['member']}", "etag": "BwYmock="}
