"""Which changes replace a stateful resource, and which resources hold data: the two tables the diff's
replacement report and data-loss guard read.

``REPLACED_BY`` lists, per type token, the input properties (as the plan records them: Pulumi's camelCase; a
dotted path for a nested one) whose change forces the provider to delete and re-create the resource. The
bridged providers inherit them from the Terraform schema's ``ForceNew`` ("Changing this forces a new
resource" in the docs); pulumi-kubernetes keeps its own list. Each entry cites the file and the version read.
Only properties the schema marks unconditionally are listed (e.g. ElastiCache's ``transitEncryptionEnabled``
forces a new group only below engine 7.0.5, and an RDS instance's ``dbSubnetGroupName`` is modified in place):
a property that replaces only sometimes is reported as a change, and the cited source says when.

``DATA_HOLDING`` is what is lost when such a resource is destroyed: databases, buckets, queues, caches and
keys (a deleted key makes everything encrypted with it unreadable).
"""

from dataclasses import dataclass

_TF_AWS = "hashicorp/terraform-provider-aws"
_TF_GOOGLE = "hashicorp/terraform-provider-google main@e03b762 (2026-08-21, after v7.45.0)"


@dataclass(frozen=True)
class Replacing:
    """The replace-forcing properties of one type and where they were read."""

    properties: tuple[str, ...]
    source: str


REPLACED_BY: dict[str, Replacing] = {
    "aws:rds/instance:Instance": Replacing(
        ("availabilityZone", "characterSetName", "customIamInstanceProfile", "dbName", "engine", "identifier",
         "identifierPrefix", "kmsKeyId", "ncharCharacterSetName", "restoreToPointInTime", "snapshotIdentifier",
         "storageEncrypted", "timezone", "username"),
        f"{_TF_AWS} internal/service/rds/instance.go@00e4b23 (ResourceInstance schema, ForceNew)"),
    "aws:rds/cluster:Cluster": Replacing(
        ("availabilityZones", "clusterIdentifier", "clusterIdentifierPrefix", "clusterScalabilityType",
         "databaseName", "dbSubnetGroupName", "dbSystemId", "engine", "engineMode", "kmsKeyId", "masterUsername",
         "restoreToPointInTime", "snapshotIdentifier", "sourceRegion", "storageEncrypted"),
        f"{_TF_AWS} internal/service/rds/cluster.go@0168cf6 (resourceCluster schema, ForceNew)"),
    "aws:s3/bucket:Bucket": Replacing(
        ("bucket", "bucketPrefix"),
        f"{_TF_AWS} internal/service/s3/bucket.go@0070bcd (ResourceBucket schema, ForceNew)"),
    "aws:s3/bucketV2:BucketV2": Replacing(
        ("bucket", "bucketPrefix"),
        f"{_TF_AWS} internal/service/s3/bucket.go@0070bcd (aws_s3_bucket, which BucketV2 also maps)"),
    "aws:sqs/queue:Queue": Replacing(
        ("fifoQueue", "name", "namePrefix"),
        f"{_TF_AWS} internal/service/sqs/queue.go@00a3530 (queueSchema, ForceNew)"),
    "aws:elasticache/replicationGroup:ReplicationGroup": Replacing(
        ("atRestEncryptionEnabled", "dataTieringEnabled", "globalReplicationGroupId", "kmsKeyId", "networkType",
         "port", "replicationGroupId", "securityGroupNames", "snapshotArns", "snapshotName", "subnetGroupName"),
        f"{_TF_AWS} internal/service/elasticache/replication_group.go@001b636 (resourceReplicationGroup, ForceNew)"),
    "aws:kms/key:Key": Replacing(
        ("customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"),
        f"{_TF_AWS} internal/service/kms/key.go@00a3530 (resourceKey schema, ForceNew)"),
    "gcp:storage/bucket:Bucket": Replacing(
        ("customPlacementConfig", "enableObjectRetention", "hierarchicalNamespace", "location", "name", "project"),
        f"{_TF_GOOGLE} google/services/storage/resource_storage_bucket.go (ForceNew)"),
    "gcp:kms/cryptoKey:CryptoKey": Replacing(
        ("cryptoKeyBackend", "destroyScheduledDuration", "importOnly", "keyRing", "name", "purpose",
         "versionTemplate.protectionLevel"),
        f"{_TF_GOOGLE} google/services/kms/resource_kms_crypto_key.go (ForceNew)"),
    "gcp:kms/keyRing:KeyRing": Replacing(
        ("location", "name", "project"),
        f"{_TF_GOOGLE} google/services/kms/resource_kms_key_ring.go (ForceNew)"),
    "kubernetes:core/v1:PersistentVolumeClaim": Replacing(
        ("metadata.name", "metadata.namespace", "spec.accessModes", "spec.selector", "spec.storageClassName",
         "spec.volumeName"),
        "pulumi/pulumi-kubernetes v4.32.0 provider/pkg/provider/diff.go (forceNew, PersistentVolumeClaim)"),
}
"""Type token -> the properties whose change replaces it (camelCase, as in the plan's inputs)."""

DATA_HOLDING: dict[str, str] = {
    "aws:rds/instance:Instance": "database",
    "aws:rds/cluster:Cluster": "database",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:sqs/queue:Queue": "queue",
    "aws:elasticache/replicationGroup:ReplicationGroup": "cache",
    "aws:kms/key:Key": "KMS key",
    "gcp:storage/bucket:Bucket": "bucket",
    "gcp:kms/cryptoKey:CryptoKey": "KMS key",
    "gcp:kms/keyRing:KeyRing": "KMS key ring",
    "kubernetes:core/v1:PersistentVolumeClaim": "volume",
}
"""Type token -> what it holds: destroying one (removed, renamed or replaced) loses data."""


def forcing_property(type_token: str, path: str) -> str | None:
    """The replace-forcing property of ``type_token`` that ``path`` (a changed property path) lies in, if any."""
    replacing = REPLACED_BY.get(type_token)
    if replacing is None:
        return None
    for prop in replacing.properties:
        if path == prop or path.startswith((f"{prop}.", f"{prop}[")):
            return prop
    return None
