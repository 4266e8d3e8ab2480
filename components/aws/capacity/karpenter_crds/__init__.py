"""The Karpenter CRDs this library writes objects for, vendored unmodified from upstream.

Source: https://github.com/aws/karpenter-provider-aws, tag ``v1.14.1`` (commit
bde00654cd316fddb3dccfba3f5ac07039865429), ``pkg/apis/crds/``: the files the ``karpenter`` chart
1.14.1 installs (``charts/karpenter/crds`` links to them). Refresh them together with
``KARPENTER_VERSION`` in :mod:`genai_platform.components.aws.capacity.karpenter`; a test pins their SHA-256.
"""

from genai_platform.components.k8s.crds import VendoredCrds

CRDS = VendoredCrds(
    package=__name__,
    version="1.14.1",
    files={
        "karpenter.sh/v1/NodePool": "karpenter.sh_nodepools.yaml",
        "karpenter.k8s.aws/v1/EC2NodeClass": "karpenter.k8s.aws_ec2nodeclasses.yaml",
    },
    sha256={
        "karpenter.sh_nodepools.yaml": "3bb64a20c80776b77aa19a699ebdaf34480a7b2e7ec4ef890b43225b3517f878",
        "karpenter.k8s.aws_ec2nodeclasses.yaml": "62dec59f01c0972d4503ca3ed25f243ba9c2f561be0d964ce7a14c8df406132f",
    },
)
"""The files vendored here, the release they come from and their upstream digests."""
