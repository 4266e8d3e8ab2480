"""Outputs of the data and messaging types: RDS, SQS, ElastiCache and S3, in the shapes AWS returns."""

from typing import Any

from genai_platform.mockcloud.cloud import MockContext, computes


def _lower_name(context: MockContext, key: str) -> str:
    # RDS, ElastiCache and S3 names are lower-case; Pulumi's auto-name is logical name + 7 hex.
    return str(context.inputs.get(key) or f"{context.name}-{context.hex_id(7)}").lower()


def _uuid(context: MockContext) -> str:
    h = context.hex_id(32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


@computes("aws:rds/instance:Instance")
def _db_instance(context: MockContext) -> dict[str, Any]:
    identifier = _lower_name(context, "identifier")
    address = f"{identifier}.c{context.hex_id(11)}.{context.region}.rds.amazonaws.com"
    port = int(context.inputs.get("port") or 5432)
    outputs: dict[str, Any] = {
        "id": f"db-{context.hex_id(26).upper()}",
        "identifier": identifier,
        "resourceId": f"db-{context.hex_id(26).upper()}",
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "hostedZoneId": "Z2R2ITUGPM61AM",
        "arn": f"arn:aws:rds:{context.region}:{context.account}:db:{identifier}",
        "engineVersionActual": str(context.inputs.get("engineVersion") or "17.7"),
        "status": "available",
    }
    if context.inputs.get("manageMasterUserPassword"):
        # RDS names the managed secret rds!db-<uuid> and Secrets Manager appends 6 random characters.
        outputs["masterUserSecrets"] = [{
            "secretArn": f"arn:aws:secretsmanager:{context.region}:{context.account}:secret:rds!db-{_uuid(context)}-"
                         f"{context.hex_id(6)}",
            "secretStatus": "active",
            "kmsKeyId": context.inputs.get("masterUserSecretKmsKeyId")
            or f"arn:aws:kms:{context.region}:{context.account}:alias/aws/secretsmanager",
        }]
    return outputs


@computes("aws:cloudwatch/metricAlarm:MetricAlarm")
def _metric_alarm(context: MockContext) -> dict[str, Any]:
    name = context.physical_name
    return {"id": name, "name": name, "arn": f"arn:aws:cloudwatch:{context.region}:{context.account}:alarm:{name}"}


@computes("aws:rds/parameterGroup:ParameterGroup")
def _db_parameter_group(context: MockContext) -> dict[str, Any]:
    name = _lower_name(context, "name")
    return {"id": name, "name": name, "arn": f"arn:aws:rds:{context.region}:{context.account}:pg:{name}"}


def _queue_name(context: MockContext) -> str:
    name = context.physical_name
    if context.inputs.get("fifoQueue") and not name.endswith(".fifo"):
        name += ".fifo"
    return name


@computes("aws:sqs/queue:Queue")
def _queue(context: MockContext) -> dict[str, Any]:
    name = _queue_name(context)
    url = f"https://sqs.{context.region}.amazonaws.com/{context.account}/{name}"
    # The provider uses the queue URL as the resource id.
    return {"id": url, "name": name, "url": url, "arn": f"arn:aws:sqs:{context.region}:{context.account}:{name}"}


@computes("aws:sqs/queuePolicy:QueuePolicy", "aws:sqs/redrivePolicy:RedrivePolicy",
          "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy")
def _queue_attribute(context: MockContext) -> dict[str, Any]:
    return {"id": str(context.inputs.get("queueUrl") or context.name)}


@computes("aws:elasticache/subnetGroup:SubnetGroup")
def _cache_subnet_group(context: MockContext) -> dict[str, Any]:
    name = _lower_name(context, "name")
    arn = f"arn:aws:elasticache:{context.region}:{context.account}:subnetgroup:{name}"
    return {"id": name, "name": name, "arn": arn}


@computes("aws:elasticache/replicationGroup:ReplicationGroup")
def _replication_group(context: MockContext) -> dict[str, Any]:
    group_id = _lower_name(context, "replicationGroupId")
    area, direction, number = context.region.split("-")[:3]
    region_code = f"{area}{direction[0]}{number}"  # us-east-1 -> use1, as in real endpoints
    host = f"{group_id}.{context.hex_id(6)}.{region_code}.cache.amazonaws.com"
    count = int(context.inputs.get("numCacheClusters") or 1)
    return {
        "id": group_id,
        "replicationGroupId": group_id,
        "arn": f"arn:aws:elasticache:{context.region}:{context.account}:replicationgroup:{group_id}",
        "primaryEndpointAddress": f"master.{host}",
        "readerEndpointAddress": f"replica.{host}",
        "port": int(context.inputs.get("port") or 6379),
        "memberClusters": [f"{group_id}-{index:03d}" for index in range(1, count + 1)],
        "engineVersionActual": str(context.inputs.get("engineVersion") or "8.1"),
        "clusterEnabled": False,
    }


@computes("aws:s3/bucket:Bucket")
def _bucket(context: MockContext) -> dict[str, Any]:
    name = _lower_name(context, "bucket")
    return {
        "id": name,
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{context.region}.amazonaws.com",
        "bucketRegion": context.region,
        "region": context.region,
        "hostedZoneId": "Z3AQBSTGFYJSTF",
    }


@computes("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
          "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketPolicy:BucketPolicy",
          "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketLogging:BucketLogging")
def _bucket_configuration(context: MockContext) -> dict[str, Any]:
    # Bucket sub-resources are identified by the bucket name they configure.
    return {"id": str(context.inputs.get("bucket") or context.name)}


@computes("aws:secretsmanager/secret:Secret")
def _secret(context: MockContext) -> dict[str, Any]:
    # Secrets Manager appends a hyphen and six random characters to the name in the ARN.
    name = context.physical_name
    arn = f"arn:aws:secretsmanager:{context.region}:{context.account}:secret:{name}-{context.hex_id(6)}"
    return {"id": arn, "arn": arn, "name": name}
