"""GCP components. ``from components.gcp import CloudRunService, CloudRunServiceArgs``."""

from components.gcp.artifact_repository import ArtifactRepository, ArtifactRepositoryArgs
from components.gcp.budget import GcpBudget, GcpBudgetArgs
from components.gcp.cloud_run import CloudRunService, CloudRunServiceArgs, GcsVolume, SecretEnv
from components.gcp.kms import KmsKeyRing, KmsKeyRingArgs, service_agent
from components.gcp.model_bucket import ModelBucket, ModelBucketArgs
from components.gcp.monitoring import CloudRunAlerts, CloudRunAlertsArgs

__all__ = ["ArtifactRepository", "ArtifactRepositoryArgs", "CloudRunService", "CloudRunServiceArgs", "GcpBudget",
           "GcpBudgetArgs", "GcsVolume", "KmsKeyRing", "KmsKeyRingArgs", "ModelBucket", "ModelBucketArgs", "SecretEnv",
           "service_agent", "CloudRunAlerts", "CloudRunAlertsArgs"]
