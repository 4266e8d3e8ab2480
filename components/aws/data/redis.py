"""RedisCache: an ElastiCache (Valkey or Redis OSS) replication group, encrypted, private, optionally authenticated."""

import re
from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_aws import elasticache

from genai_platform.components.aws.data_helpers import (
    check_kms_key_arn,
    check_not_empty,
    security_group_admitting,
)
from genai_platform.components.aws.limits import check_auto_name
from genai_platform.components.tagging import child_tags
from genai_platform.components.validation import check_range

PORT = 6379
Engine = Literal["valkey", "redis"]
DEFAULT_ENGINE_VERSIONS: dict[str, str] = {"valkey": "8.1", "redis": "7.1"}
"""Version used when ``engine_version`` is not given, covered by the ``default.valkey8`` / ``default.redis7``
parameter groups. Redis OSS 7.1 is the last Redis line ElastiCache offers; Valkey has newer lines than 8.1."""
_MIN_VERSION = {"valkey": (7, 2), "redis": (7, 0)}  # Valkey on ElastiCache starts at 7.2
_MAX_REPLICATION_GROUP_ID = 40
_GROUP_ID_PREFIX = re.compile(r"^[A-Za-z](-?[A-Za-z0-9])*$")  # letter first, no '--', no trailing '-'
_VERSION = re.compile(r"^(\d+)\.(\d+)$")
# AWS: 16-128 printable ASCII characters; the only specials allowed are ! & # $ ^ < > -
_AUTH_TOKEN = re.compile(r"^[A-Za-z0-9!&#$^<>-]{16,128}$")


@dataclass
class RedisCacheArgs:
    """Arguments of :class:`RedisCache`. Every default is the secure, cheap one."""

    vpc_id: pulumi.Input[str]
    """VPC of the cache's security group."""

    subnet_ids: list[pulumi.Input[str]]
    """Subnets of the cache subnet group: the private or isolated tier, in at least two zones for Multi-AZ."""

    allowed_security_group_ids: list[pulumi.Input[str]]
    """Security groups of the clients. Port 6379 is open to these only, never to a CIDR. At least one."""

    engine: Engine = "valkey"
    """``valkey`` (default) or ``redis``. Valkey is the open-source (BSD) continuation of Redis OSS 7.2 that
    AWS develops: the same protocol and clients (redis-py works unchanged), about 20% cheaper per node on
    ElastiCache, and where new ElastiCache features land. Redis OSS can be upgraded in place to Valkey;
    not back."""

    engine_version: str | None = None
    """``major.minor``: Valkey 7.2 or later, Redis OSS 7.0 or later (e.g. ``"8.1"``, ``"7.1"``). Default: 8.1 for
    Valkey, 7.1 for Redis OSS."""

    node_type: str = "cache.t4g.micro"
    """Node size. Default: the smallest Graviton node (0.5 GiB, ~$9/month Valkey in us-east-1)."""

    num_cache_clusters: int = 1
    """Nodes in the group: a primary plus up to 5 read replicas (1-6). With 2 or more, automatic failover
    is on and, unless told otherwise, replicas go to other zones (Multi-AZ)."""

    multi_az_enabled: bool | None = None
    """Place replicas in other zones and fail over across zones. Default: on when there are 2+ nodes.
    Needs at least 2 nodes."""

    auth_token: pulumi.Input[str] | None = None
    """Password clients send with ``AUTH`` (pass a Pulumi secret, e.g. ``config.require_secret``): 16-128
    printable characters, specials limited to ``! & # $ ^ < > -``. One of ``auth_token`` and
    ``user_group_ids`` is required unless ``allow_unauthenticated``."""

    user_group_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """ElastiCache RBAC user groups (per-user ACLs) instead of one shared ``auth_token``."""

    allow_unauthenticated: bool = False
    """Accept a cache with neither ``auth_token`` nor ``user_group_ids``, where only the security group
    stands between a client and the data. Default off: an open cache is a deliberate choice."""

    kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed key for at-rest encryption. Default none: ElastiCache's AWS-owned key (encryption at
    rest is always on either way)."""

    snapshot_retention_limit: int = 1
    """Days of automatic daily snapshots, 0-35 (0 turns them off). One day is enough to recover a cache."""

    protect: bool = False
    """Pulumi ``protect`` on the replication group (ElastiCache has no deletion protection of its own)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class RedisCache(pulumi.ComponentResource):
    """An ElastiCache replication group (cluster mode disabled) for caching.

    Encrypted at rest and in transit (TLS required, so clients connect with ``rediss://``), reachable on
    6379 only from the given security groups, optionally password- or RBAC-authenticated.
    """

    primary_endpoint_address: pulumi.Output[str]
    """Host name of the primary (reads and writes); follows failovers."""
    reader_endpoint_address: pulumi.Output[str]
    """Host name spreading reads over the replicas."""
    port: int
    """Port, 6379."""
    security_group_id: pulumi.Output[str]
    """The cache's security group."""
    replication_group_id: pulumi.Output[str]
    """Replication group id."""
    arn: pulumi.Output[str]
    """Replication group ARN."""

    def __init__(self, name: str, args: RedisCacheArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:aws:RedisCache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        replicated = args.num_cache_clusters > 1
        multi_az = replicated if args.multi_az_enabled is None else args.multi_az_enabled

        subnet_group = elasticache.SubnetGroup(
            f"{name}-subnets",
            description=f"Subnets of cache {name}",
            subnet_ids=args.subnet_ids,
            tags=child_tags(f"{name}-subnets", args.tags),
            opts=child,
        )
        group = security_group_admitting(
            f"{name}-sg", vpc_id=args.vpc_id, port=PORT, source_security_group_ids=args.allowed_security_group_ids,
            description=f"Cache {name}: 6379 from allowed client security groups only", tags=args.tags, parent=self,
        )
        auth_token = pulumi.Output.secret(args.auth_token) if args.auth_token is not None else None
        replication_group = elasticache.ReplicationGroup(
            f"{name}-cache",
            description=f"Cache {name}",
            engine=args.engine,
            engine_version=args.engine_version or DEFAULT_ENGINE_VERSIONS[args.engine],
            node_type=args.node_type,
            num_cache_clusters=args.num_cache_clusters,
            automatic_failover_enabled=replicated,
            multi_az_enabled=multi_az,
            port=PORT,
            subnet_group_name=subnet_group.name,
            security_group_ids=[group.id],
            at_rest_encryption_enabled=True,
            kms_key_id=args.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",  # "preferred" would still accept plaintext clients
            auth_token=auth_token,
            user_group_ids=args.user_group_ids or None,
            auto_minor_version_upgrade=True,
            snapshot_retention_limit=args.snapshot_retention_limit,
            tags=child_tags(f"{name}-cache", args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )

        self.primary_endpoint_address = replication_group.primary_endpoint_address
        self.reader_endpoint_address = replication_group.reader_endpoint_address
        self.port = PORT
        self.security_group_id = group.id
        self.replication_group_id = replication_group.id
        self.arn = replication_group.arn
        self.register_outputs(
            {
                "primary_endpoint_address": self.primary_endpoint_address,
                "reader_endpoint_address": self.reader_endpoint_address,
                "security_group_id": self.security_group_id,
                "replication_group_id": self.replication_group_id,
                "arn": self.arn,
            }
        )


def _validate(name: str, args: RedisCacheArgs) -> None:
    # The replication group id is auto-named from the component name; AWS allows 40 characters.
    if not _GROUP_ID_PREFIX.match(name):
        raise ValueError(f"name={name!r} cannot start an ElastiCache replication group id: use letters, digits and "
                         "single hyphens, starting with a letter and not ending with a hyphen.")
    check_auto_name(name, "-cache", _MAX_REPLICATION_GROUP_ID, "ElastiCache replication group id")
    check_not_empty("subnet_ids", args.subnet_ids, "pass the private or isolated subnet ids of the VPC")
    check_not_empty("allowed_security_group_ids", args.allowed_security_group_ids,
                    "pass the security groups of the clients (e.g. the EKS node or ECS task security group)")
    if args.engine not in DEFAULT_ENGINE_VERSIONS:
        raise ValueError(f"engine={args.engine!r} is not an engine this component runs: use 'valkey' or 'redis'.")
    if args.engine_version is not None:
        version = _VERSION.match(args.engine_version)
        minimum = _MIN_VERSION[args.engine]
        if version is None or (int(version.group(1)), int(version.group(2))) < minimum:
            raise ValueError(
                f"engine_version={args.engine_version!r} is not a supported {args.engine} version: use major.minor "
                f"{minimum[0]}.{minimum[1]} or later, e.g. {DEFAULT_ENGINE_VERSIONS[args.engine]!r}."
            )
    if not args.node_type.startswith("cache."):
        raise ValueError(f"node_type={args.node_type!r} is not an ElastiCache node type: use a 'cache.' type such "
                         "as 'cache.t4g.micro'.")
    check_range("num_cache_clusters", args.num_cache_clusters, 1, 6, " (a primary and up to 5 replicas)")
    if args.multi_az_enabled and args.num_cache_clusters < 2:
        raise ValueError(
            f"multi_az_enabled=True needs at least 2 nodes, got num_cache_clusters={args.num_cache_clusters}: "
            "set num_cache_clusters=2 or more, or leave multi_az_enabled unset."
        )
    check_range("snapshot_retention_limit", args.snapshot_retention_limit, 0, 35, " (days)")
    if args.auth_token is None and not args.user_group_ids and not args.allow_unauthenticated:
        raise ValueError(
            "neither auth_token nor user_group_ids is set: pass an auth_token (a Pulumi secret) or RBAC "
            "user_group_ids, or set allow_unauthenticated=True to rely on the security group alone."
        )
    if args.auth_token is not None and args.user_group_ids:
        raise ValueError(
            "auth_token and user_group_ids are both set: ElastiCache takes one authentication mode; "
            "pass auth_token for one shared password or user_group_ids for per-user RBAC."
        )
    if isinstance(args.auth_token, str) and not _AUTH_TOKEN.match(args.auth_token):
        raise ValueError(
            f"auth_token (length {len(args.auth_token)}) is not a valid ElastiCache AUTH token: use 16-128 "
            "letters, digits or the specials ! & # $ ^ < > -."
        )
    check_kms_key_arn("kms_key_arn", args.kms_key_arn)
