"""Vendored CustomResourceDefinitions: the files, their upstream digests and the ``openAPIV3Schema`` each serves.

Each vendored CRD folder (``components/aws/capacity/karpenter_crds``, ``components/k8s/keda_crds``) describes itself with one
:class:`VendoredCrds`; offline schema checks (``genai_platform.crd_schema``) and the digest tests read it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class VendoredCrds:
    """CRD files shipped inside ``package``, copied unmodified from one upstream release."""

    package: str
    """The package holding the YAML files (its ``__name__``)."""
    version: str
    """The upstream release the files come from."""
    files: Mapping[str, str]
    """``"<group>/<version>/<Kind>"`` -> file name."""
    sha256: Mapping[str, str]
    """File name -> SHA-256 of the file as upstream publishes it (a test pins them)."""

    def text(self, file_name: str) -> str:
        return resources.files(self.package).joinpath(file_name).read_text()

    def openapi_schema(self, api_version_kind: str) -> dict[str, Any]:
        """The ``openAPIV3Schema`` the CRD serves for ``"<group>/<version>/<Kind>"``."""
        file_name = self.files[api_version_kind]
        group, version, kind = api_version_kind.split("/")
        crd = yaml.safe_load(self.text(file_name))
        if (crd["spec"]["group"], crd["spec"]["names"]["kind"]) != (group, kind):
            raise ValueError(f"{file_name} defines {crd['spec']['names']['kind']}, not {kind}")
        served = {v["name"]: v for v in crd["spec"]["versions"] if v.get("served")}
        return served[version]["schema"]["openAPIV3Schema"]
