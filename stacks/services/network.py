"""The environment's network: one Vpc sized and routed by the tier's settings."""

from components.aws import Vpc, VpcArgs
from stacks.config import EnvConfig


def build(settings: EnvConfig) -> Vpc:
    return Vpc(
        f"{settings.stack}-network",
        VpcArgs(
            cidr_block=settings.vpc_cidr,
            zone_count=settings.az_count,
            nat_strategy=settings.nat_strategy,
            flow_log_retention_days=settings.flow_log_retention_days,
            interface_endpoints=settings.interface_endpoints,
            tags=settings.tags,
        ),
    )
