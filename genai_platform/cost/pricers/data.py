"""Data stores and the keys and secrets that guard them: RDS, ElastiCache, DynamoDB, KMS, secrets."""

from typing import Any

from genai_platform.cost.prices import PRICES_FILE, money, rate
from genai_platform.cost.pricers.context import PricingContext
from genai_platform.cost.pricers.quantities import count_text, known_text, number
from genai_platform.cost.pricers.registry import NotPriced, Priced, flat_fee, pricer_for
from genai_platform.mockcloud import RecordedResource

# --------------------------------------------------------------------------------------------- databases and caches


@pricer_for("aws:rds/instance:Instance")
def _rds_instance(resource: RecordedResource, context: PricingContext) -> Priced:
    inputs, prices = resource.inputs, context.prices["rds"]
    instance_class = known_text(inputs.get("instanceClass"), "instanceClass")
    engine = inputs.get("engine") or "postgres"
    if engine not in prices["engines"]:
        raise NotPriced(f"engine {engine!r} is not in the price table ({PRICES_FILE}); it prices {prices['engines']}")
    if instance_class not in prices["instance_hourly"]:
        raise NotPriced(f"instance class {instance_class!r} is not in the price table ({PRICES_FILE}): "
                        "add its us-east-1 PostgreSQL on-demand price")
    multi_az = inputs.get("multiAz") is True
    factor = prices["multi_az_factor"] if multi_az else 1
    times_az = f" x {factor} (Multi-AZ)" if multi_az else ""
    hourly = prices["instance_hourly"][instance_class]
    amount = context.monthly(hourly) * factor
    parts = [(amount, f"{instance_class} {rate(hourly)}/h x {context.hours:g} h{times_az} = {money(amount)}")]

    storage_type = inputs.get("storageType") or ("io1" if inputs.get("iops") else prices["default_storage_type"])
    if storage_type not in prices["storage_gb_month"]:
        raise NotPriced(f"storage type {storage_type!r} is not in the price table ({PRICES_FILE})")
    if inputs.get("allocatedStorage") is not None:
        gb = number(inputs["allocatedStorage"], "allocatedStorage")
        per_gb = prices["storage_gb_month"][storage_type]
        amount = gb * per_gb * factor
        parts.append((amount, f"{storage_type} {count_text(gb)} GB x {rate(per_gb)}/GB-month{times_az} "
                              f"= {money(amount)}"))
        iops = number(inputs.get("iops") or 0, "iops")
        if storage_type == "gp3":
            included = prices["gp3_included_iops"]["from_400_gb" if gb >= 400 else "below_400_gb"]
            iops = max(0.0, iops - included)
        if iops and storage_type in prices["provisioned_iops_month"]:
            per_iops = prices["provisioned_iops_month"][storage_type]
            amount = iops * per_iops * factor
            parts.append((amount, f"{count_text(iops)} provisioned IOPS x {rate(per_iops)}/IOPS-month{times_az} "
                                  f"= {money(amount)}"))
    elif not inputs.get("replicateSourceDb") and not inputs.get("snapshotIdentifier"):
        raise NotPriced("allocatedStorage is not set, so the storage size is unknown")
    if inputs.get("manageMasterUserPassword") is True:
        secret = prices["managed_master_secret_month"]
        parts.append((secret, f"RDS-managed master user secret in Secrets Manager {rate(secret)}/month"))
    return Priced(parts)


@pricer_for("aws:rds/clusterInstance:ClusterInstance")
def _aurora_instance(resource: RecordedResource, context: PricingContext) -> Priced:
    raise NotPriced(f"Aurora instance class {resource.inputs.get('instanceClass')!r} is not in the price table "
                    f"({PRICES_FILE}): Aurora is priced apart from RDS instances")


def _cache_node_hourly(context: PricingContext, node_type: Any, engine: str) -> tuple[float, str]:
    prices = context.prices["elasticache"]
    node_type = known_text(node_type, "nodeType")
    if node_type not in prices["node_hourly"]:
        raise NotPriced(f"node type {node_type!r} is not in the price table ({PRICES_FILE}): "
                        "add its us-east-1 Redis OSS on-demand price")
    hourly = prices["node_hourly"][node_type]
    if engine == "valkey":
        return hourly * prices["valkey_factor"], f"{node_type} Valkey ({rate(hourly)}/h Redis OSS x {prices['valkey_factor']:g})"
    return hourly, f"{node_type} {engine} {rate(hourly)}/h"


@pricer_for("aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/cluster:Cluster")
def _cache_nodes(resource: RecordedResource, context: PricingContext) -> Priced:
    inputs = resource.inputs
    engine = inputs.get("engine") or "redis"
    if "numCacheNodes" in inputs:
        nodes, note = number(inputs["numCacheNodes"], "numCacheNodes"), "numCacheNodes"
    elif "numCacheClusters" in inputs:
        nodes, note = number(inputs["numCacheClusters"], "numCacheClusters"), "numCacheClusters"
    elif "numNodeGroups" in inputs:
        shards = number(inputs["numNodeGroups"], "numNodeGroups")
        replicas = number(inputs.get("replicasPerNodeGroup", 0), "replicasPerNodeGroup")
        nodes, note = shards * (replicas + 1), f"{count_text(shards)} shards x {count_text(replicas + 1)} nodes"
    else:
        nodes, note = 1.0, "node count not set: 1 node"
    hourly, described = _cache_node_hourly(context, inputs.get("nodeType"), engine)
    amount = nodes * context.monthly(hourly)
    return Priced([(amount, f"{count_text(nodes)} x {described} ({note}) x {context.hours:g} h = {money(amount)}")])


@pricer_for("aws:elasticache/serverlessCache:ServerlessCache")
def _serverless_cache(resource: RecordedResource, context: PricingContext) -> Priced:
    prices = context.prices["elasticache"]
    engine = resource.inputs.get("engine") or "redis"
    if engine not in prices["serverless_gb_hourly"]:
        raise NotPriced(f"serverless engine {engine!r} is not in the price table ({PRICES_FILE})")
    limits = ((resource.inputs.get("cacheUsageLimits") or {}).get("dataStorage") or {})
    floor = max(prices["serverless_min_gb"][engine], float(limits.get("minimum") or 0))
    per_gb = prices["serverless_gb_hourly"][engine]
    amount = floor * context.monthly(per_gb)
    return Priced([(amount, f"ElastiCache Serverless {engine} metered minimum {floor:g} GB x {rate(per_gb)}/GB-h "
                            f"x {context.hours:g} h = {money(amount)}")],
                  usage="ElastiCache Serverless data above the minimum and ECPUs per request")


@pricer_for("aws:dynamodb/table:Table")
def _dynamodb_table(resource: RecordedResource, context: PricingContext) -> Priced:
    inputs, prices = resource.inputs, context.prices["dynamodb"]
    usage = "DynamoDB storage $0.25/GB-month"
    if inputs.get("billingMode") == "PAY_PER_REQUEST":
        return Priced(usage=usage + ", on-demand reads $0.125 and writes $0.625 per million")
    rcu = number(inputs.get("readCapacity", 0), "readCapacity")
    wcu = number(inputs.get("writeCapacity", 0), "writeCapacity")
    amount = context.monthly(rcu * prices["rcu_hourly"] + wcu * prices["wcu_hourly"])
    return Priced([(amount, f"provisioned {count_text(rcu)} RCU x {rate(prices['rcu_hourly'])}/h + "
                            f"{count_text(wcu)} WCU x {rate(prices['wcu_hourly'])}/h x {context.hours:g} h "
                            f"= {money(amount)}")], usage=usage)


# --------------------------------------------------------------------------------------------- keys and secrets

flat_fee("aws:kms/key:Key", "kms", "key_month", "KMS customer managed key")
flat_fee("aws:kms/replicaKey:ReplicaKey", "kms", "key_month", "KMS replica key")
flat_fee("aws:secretsmanager/secret:Secret", "secretsmanager", "secret_month", "Secrets Manager secret")
flat_fee("gcp:secretmanager/secretVersion:SecretVersion", "gcp_secret_manager", "version_month",
         "Secret Manager active version")


@pricer_for("gcp:kms/cryptoKey:CryptoKey")
def _gcp_crypto_key(resource: RecordedResource, context: PricingContext) -> Priced:
    level = (resource.inputs.get("versionTemplate") or {}).get("protectionLevel") or "SOFTWARE"
    if level != "SOFTWARE":
        raise NotPriced(f"protection level {level!r} is not in the price table ({PRICES_FILE}); it prices SOFTWARE keys")
    amount = context.prices["gcp_kms"]["software_key_version_month"]
    return Priced([(amount, f"Cloud KMS software key, one active version {rate(amount)}/month")])


# --------------------------------------------------------------------------------------------- disaster-recovery copies

@pricer_for("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
def _s3_replication(resource: RecordedResource, context: PricingContext) -> Priced:
    prices = context.prices["s3_replication"]
    usage = []
    for rule in resource.inputs.get("rules") or []:
        destination = rule.get("destination") or {}
        storage_class = destination.get("storageClass") or "STANDARD"
        if storage_class not in prices["storage_gb_month"]:
            raise NotPriced(f"replica storage class {storage_class!r} is not in the price table ({PRICES_FILE})")
        text = (f"replica storage {storage_class} {rate(prices['storage_gb_month'][storage_class])}/GB-month + "
                f"replication {rate(prices['put_requests_thousand'][storage_class])} per 1,000 objects + "
                f"inter-region transfer {rate(prices['inter_region_transfer_gb'])}/GB")
        if (destination.get("replicationTime") or {}).get("status") == "Enabled":
            text += f" + Replication Time Control {rate(prices['replication_time_control_gb'])}/GB"
        usage.append(text)
    return Priced(usage="; ".join(usage) or None)


@pricer_for("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
def _rds_backup_replication(resource: RecordedResource, context: PricingContext) -> Priced:
    prices = context.prices["rds_backup_replication"]
    days = count_text(number(resource.inputs.get("retentionPeriod", 7), "retentionPeriod"))
    return Priced(usage=f"replicated backups ({days} days) {rate(prices['backup_storage_gb_month'])}/GB-month, "
                        f"no free allowance + inter-region transfer {rate(prices['inter_region_transfer_gb'])}/GB")
