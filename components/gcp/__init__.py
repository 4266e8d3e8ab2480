"""GCP components. ``from genai_platform.components.gcp import CloudRunService, CloudRunServiceArgs``."""

from genai_platform.components.gcp.artifact_repository import ArtifactRepository, ArtifactRepositoryArgs
from genai_platform.components.gcp.budget import GcpBudget, GcpBudgetArgs
from genai_platform.components.gcp.cloud_run import CloudRunService, CloudRunServiceArgs, GcsVolume, SecretEnv
from genai_platform.components.gcp.kms import KmsKeyRing, KmsKeyRingArgs, service_agent
from genai_platform.components.gcp.model_bucket import ModelBucket, ModelBucketArgs
from genai_platform.components.gcp.monitoring import CloudRunAlerts, CloudRunAlertsArgs

__all__ = ["ArtifactRepository", "ArtifactRepositoryArgs", "CloudRunService", "CloudRunServiceArgs", "GcpBudget",
           "GcpBudgetArgs", "GcsVolume", "KmsKeyRing", "KmsKeyRingArgs", "ModelBucket", "ModelBucketArgs", "SecretEnv",
           "service_agent", "CloudRunAlerts", "CloudRunAlertsArgs"]
