"""The KEDA CRDs this library writes objects for, vendored unmodified from upstream.

Source: https://github.com/kedacore/keda, tag ``v2.20.2`` (commit 68a5b5028f35b22d50597c69819ab32c4e92f21a),
``config/crd/bases/``: the CRDs the ``keda`` chart 2.20.2 (kedacore/charts, commit
cbb9bb8ce0809dc9048f72302f7c09765d66ed56) installs. Refresh them together with ``KEDA_VERSION`` in
:mod:`genai_platform.components.aws.capacity.keda`; a test pins their SHA-256.
"""

from genai_platform.components.k8s.crds import VendoredCrds

CRDS = VendoredCrds(
    package=__name__,
    version="2.20.2",
    files={
        "keda.sh/v1alpha1/ScaledObject": "keda.sh_scaledobjects.yaml",
        "keda.sh/v1alpha1/TriggerAuthentication": "keda.sh_triggerauthentications.yaml",
    },
    sha256={
        "keda.sh_scaledobjects.yaml": "af35555862a83933b074af14ad439c4b4ceabaf4daa3e9338e9b23e36d308d80",
        "keda.sh_triggerauthentications.yaml": "275307b4cb19ca8f0f506a879282aa4c67587ac16ec757f494d6585c5c185d65",
    },
)
"""The files vendored here, the release they come from and their upstream digests."""
