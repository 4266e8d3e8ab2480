"""Instance types, database classes, cache node types and regions: only those the providers or the price table know.

The config layer (``stacks/config.py``) checks the shape of these values; it may not import the CLI's price
table, so the plan checks them here, against the AWS provider's enums and ``genai_platform/cost/prices.json``,
before the program runs. The real providers refuse an unknown type at ``pulumi up``; the offline plan refuses
it too, and refuses a region it would otherwise price at another region's rates.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

from genai_platform.cost.prices import PRICES_FILE
from genai_platform.stacks.config import PROJECT, ConfigError, EnvConfig, elide


def ec2_instance_types(prices: dict[str, Any]) -> set[str]:
    from pulumi_aws.ec2 import InstanceType

    return {item.value for item in InstanceType} | set(prices["ec2"]["on_demand_hourly"])


def rds_instance_classes(prices: dict[str, Any]) -> set[str]:
    # The provider's enum lags AWS (it has no db.r7g); the price table fills the gap.
    from pulumi_aws.rds import InstanceType

    return {item.value for item in InstanceType} | set(prices["rds"]["instance_hourly"])


def cache_node_types(prices: dict[str, Any]) -> set[str]:
    # The AWS provider publishes no list of ElastiCache node types; the price table is the catalogue.
    return set(prices["elasticache"]["node_hourly"])


def check_catalogue(settings: EnvConfig, config_file: str, prices: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` for the first value no provider or price table knows."""
    ec2, both = ec2_instance_types(prices), f"the AWS provider or {PRICES_FILE}"
    lists = {
        "systemNodeInstanceTypes": (settings.system_node_instance_types, ec2, f"an EC2 instance type {both}"),
        "postgresInstanceClass": ([settings.postgres_instance_class], rds_instance_classes(prices),
                                  f"an RDS instance class {both}"),
        "redisNodeType": ([settings.redis_node_type], cache_node_types(prices),
                          f"an ElastiCache node type {PRICES_FILE}"),
    }
    for key, (values, known, what) in lists.items():
        for value in values:
            if value not in known:
                shown = json.dumps(values) if key.endswith("Types") else repr(value)
                item = f"item {elide(repr(value))} is" if key.endswith("Types") else "it is"
                raise ConfigError(f"{config_file}: {PROJECT}:{key} = {elide(shown)} is invalid: {item} not {what} knows: use one of the nearest, "
                                  f"{', '.join(nearest(value, known))}.")
    check_priced_region(settings.aws_region, config_file, prices)


def check_priced_region(region: str, config_file: str, prices: dict[str, Any]) -> None:
    """Refuse an ``aws:region`` the price table does not price, rather than price it at another region's rates."""
    priced = prices["aws_region"]
    if region != priced:
        raise ConfigError(f"{config_file}: aws:region = {elide(repr(region))} is invalid: "
                          f"{PRICES_FILE} prices {priced} only, so the estimate and the budget gate would be wrong: "
                          f"use aws:region: {priced}, or add the region's prices to {PRICES_FILE}.")


def nearest(value: str, known: Iterable[str], count: int = 3) -> list[str]:
    """The ``count`` known values most like ``value`` (always some, however far)."""
    return difflib.get_close_matches(value, sorted(known), n=count, cutoff=0.0)
