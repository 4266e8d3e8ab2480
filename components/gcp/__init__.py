"""GCP components. ``from genai_platform.components.gcp import CloudRunService, CloudRunServiceArgs``."""

from genai_platform.components.exports import lazy_exports

_EXPORTS = {
    "ArtifactRepository": "artifact_repository",
    "ArtifactRepositoryArgs": "artifact_repository",
    "CloudRunAlerts": "monitoring",
    "CloudRunAlertsArgs": "monitoring",
    "CloudRunService": "cloud_run",
    "CloudRunServiceArgs": "cloud_run",
    "GcpBudget": "budget",
    "GcpBudgetArgs": "budget",
    "GcsVolume": "cloud_run",
    "KmsKeyRing": "kms",
    "KmsKeyRingArgs": "kms",
    "ModelBucket": "model_bucket",
    "ModelBucketArgs": "model_bucket",
    "SecretEnv": "cloud_run",
    "service_agent": "kms",
}
"""Each exported name and the module defining it: importing the package imports none of them."""

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
