"""The Karpenter CRDs this library writes objects for, vendored unmodified from upstream.

Source: https://github.com/aws/karpenter-provider-aws, tag ``v1.14.1`` (commit
bde00654cd316fddb3dccfba3f5ac07039865429), ``pkg/apis/crds/``: the files the ``karpenter`` chart
1.14.1 installs (``charts/karpenter/crds`` links to them). Refresh them together with
``KARPENTER_VERSION`` in :mod:`components.aws.karpenter`; a test pins their SHA-256.
"""

from importlib import resources
from typing import Any

from components.k8s.crds import served_openapi_schema

CRD_VERSION = "1.14.1"
"""The Karpenter release the vendored CRDs come from."""

CRD_FILES = {
    "karpenter.sh/v1/NodePool": "karpenter.sh_nodepools.yaml",
    "karpenter.k8s.aws/v1/EC2NodeClass": "karpenter.k8s.aws_ec2nodeclasses.yaml",
}
"""``<apiVersion>/<kind>`` -> vendored CRD file."""

CRD_SHA256 = {
    "karpenter.sh_nodepools.yaml": "3bb64a20c80776b77aa19a699ebdaf34480a7b2e7ec4ef890b43225b3517f878",
    "karpenter.k8s.aws_ec2nodeclasses.yaml": "62dec59f01c0972d4503ca3ed25f243ba9c2f561be0d964ce7a14c8df406132f",
}
"""SHA-256 of each file as upstream publishes it at the tag above."""


def crd_text(file_name: str) -> str:
    return resources.files(__name__).joinpath(file_name).read_text()


def openapi_schema(api_version_kind: str) -> dict[str, Any]:
    """The ``openAPIV3Schema`` the CRD serves for ``"<group>/<version>/<Kind>"``."""
    file_name = CRD_FILES[api_version_kind]
    return served_openapi_schema(crd_text(file_name), file_name, api_version_kind)
