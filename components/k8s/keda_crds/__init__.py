"""The KEDA CRDs this library writes objects for, vendored unmodified from upstream.

Source: https://github.com/kedacore/keda, tag ``v2.20.2`` (commit 68a5b5028f35b22d50597c69819ab32c4e92f21a),
``config/crd/bases/``: the CRDs the ``keda`` chart 2.20.2 (kedacore/charts, commit
cbb9bb8ce0809dc9048f72302f7c09765d66ed56) installs. Refresh them together with ``KEDA_VERSION`` in
:mod:`components.aws.keda`; a test pins their SHA-256.
"""

from importlib import resources
from typing import Any

from components.k8s.crds import served_openapi_schema

CRD_VERSION = "2.20.2"
"""The KEDA release the vendored CRDs come from."""

CRD_FILES = {
    "keda.sh/v1alpha1/ScaledObject": "keda.sh_scaledobjects.yaml",
    "keda.sh/v1alpha1/TriggerAuthentication": "keda.sh_triggerauthentications.yaml",
}
"""``<apiVersion>/<kind>`` -> vendored CRD file."""

CRD_SHA256 = {
    "keda.sh_scaledobjects.yaml": "af35555862a83933b074af14ad439c4b4ceabaf4daa3e9338e9b23e36d308d80",
    "keda.sh_triggerauthentications.yaml": "275307b4cb19ca8f0f506a879282aa4c67587ac16ec757f494d6585c5c185d65",
}
"""SHA-256 of each file as upstream publishes it at the tag above."""


def crd_text(file_name: str) -> str:
    return resources.files(__name__).joinpath(file_name).read_text()


def openapi_schema(api_version_kind: str) -> dict[str, Any]:
    """The ``openAPIV3Schema`` the CRD serves for ``"<group>/<version>/<Kind>"``."""
    file_name = CRD_FILES[api_version_kind]
    return served_openapi_schema(crd_text(file_name), file_name, api_version_kind)
