"""CIDR planning for the Vpc component: a fixed slot layout that never renumbers.

Every (tier, zone) pair owns a fixed slot of the VPC range, whatever the number of
zones or the set of tiers in use. Adding a zone or a tier only adds subnets; it never
changes the CIDR of an existing one, so no subnet (and nothing in it) is replaced.
(pulumi-awsx recomputes the layout from the zone count: awsx #1204, #910.)

Layout of a VPC ``/p`` (the ``/16`` sizes in brackets):

* private  - first half, 8 zone slots of ``/p+4`` (``/20``, 4,091 usable IPs each:
  EKS pods take VPC addresses through the VPC CNI, so private subnets are the big ones)
* public   - third quarter, 8 zone slots of ``/p+5`` (``/21``)
* isolated - fourth quarter, 8 zone slots of ``/p+5`` (``/21``)
"""

import ipaddress
from dataclasses import dataclass

from genai_platform.components.validation import check_range

TIERS: tuple[str, ...] = ("public", "private", "isolated")
MAX_ZONES = 8
"""Slots reserved per tier; no AWS region has more than 6 usable zones today."""
MIN_VPC_PREFIX = 16
MAX_VPC_PREFIX = 23
"""A /23 VPC gives /28 public and isolated subnets, AWS's smallest subnet size."""

# tier -> (block index, block prefix offset, subnet prefix offset), all relative to the VPC prefix.
_LAYOUT: dict[str, tuple[int, int, int]] = {
    "private": (0, 1, 4),
    "public": (2, 2, 5),
    "isolated": (3, 2, 5),
}


@dataclass(frozen=True)
class SubnetPlan:
    tier: str
    zone_index: int
    cidr: str


def plan_subnets(vpc_cidr: str, zone_count: int, tiers: tuple[str, ...] | list[str] = TIERS) -> list[SubnetPlan]:
    """Subnet CIDRs for ``zone_count`` zones of each tier, in tier-then-zone order.

    Raises ``ValueError`` naming the argument and the fix for an unusable input.
    """
    network = vpc_network(vpc_cidr)
    check_range("zone_count", zone_count, 1, MAX_ZONES, " availability zones")
    unknown = [t for t in tiers if t not in _LAYOUT]
    if unknown:
        raise ValueError(f"tiers={list(tiers)} contains unknown tier {unknown[0]!r}: use any of {list(TIERS)}.")
    plans = []
    for tier in TIERS:
        if tier not in tiers:
            continue
        block_index, block_offset, subnet_offset = _LAYOUT[tier]
        block = list(network.subnets(prefixlen_diff=block_offset))[block_index]
        slots = block.subnets(new_prefix=network.prefixlen + subnet_offset)
        for zone_index, slot in zip(range(zone_count), slots):
            plans.append(SubnetPlan(tier, zone_index, str(slot)))
    return plans


def vpc_network(vpc_cidr: str) -> ipaddress.IPv4Network:
    """Parse and check a VPC CIDR: IPv4, host bits zero, prefix between /16 and /23."""
    try:
        network = ipaddress.IPv4Network(vpc_cidr, strict=True)
    except ValueError as error:
        raise ValueError(f"cidr_block={vpc_cidr!r} is not a valid IPv4 network ({error}): use e.g. '10.10.0.0/16'.") from None
    if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
        raise ValueError(
            f"cidr_block={vpc_cidr!r} has prefix /{network.prefixlen}: use a prefix from /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX}."
        )
    return network
