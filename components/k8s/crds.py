"""Reading the ``openAPIV3Schema`` a vendored CustomResourceDefinition serves, shared by the vendored CRD folders."""

from typing import Any

import yaml


def served_openapi_schema(crd_yaml: str, file_name: str, api_version_kind: str) -> dict[str, Any]:
    """The ``openAPIV3Schema`` the CRD in ``crd_yaml`` serves for ``"<group>/<version>/<Kind>"``."""
    group, version, kind = api_version_kind.split("/")
    crd = yaml.safe_load(crd_yaml)
    if (crd["spec"]["group"], crd["spec"]["names"]["kind"]) != (group, kind):
        raise ValueError(f"{file_name} defines {crd['spec']['names']['kind']}, not {kind}")
    served = {v["name"]: v for v in crd["spec"]["versions"] if v.get("served")}
    return served[version]["schema"]["openAPIV3Schema"]
