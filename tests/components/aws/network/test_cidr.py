import ipaddress
import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genai_platform.components.aws.network.cidr import MAX_VPC_PREFIX, MIN_VPC_PREFIX, TIERS, plan_subnets


def test_layout_of_a_slash_16():
    plans = plan_subnets("10.10.0.0/16", 3)
    assert [(p.tier, p.zone_index, p.cidr) for p in plans] == [
        ("public", 0, "10.10.128.0/21"), ("public", 1, "10.10.136.0/21"), ("public", 2, "10.10.144.0/21"),
        ("private", 0, "10.10.0.0/20"), ("private", 1, "10.10.16.0/20"), ("private", 2, "10.10.32.0/20"),
        ("isolated", 0, "10.10.192.0/21"), ("isolated", 1, "10.10.200.0/21"), ("isolated", 2, "10.10.208.0/21"),
    ]


@pytest.mark.parametrize(("cidr", "message"), [
    ("10.10.0.0/15", "cidr_block='10.10.0.0/15' has prefix /15: use a prefix from /16 to /23."),
    ("10.10.0.0/24", "cidr_block='10.10.0.0/24' has prefix /24: use a prefix from /16 to /23."),
    ("10.10.0.1/16", "cidr_block='10.10.0.1/16' is not a valid IPv4 network (10.10.0.1/16 has host bits set): "
                     "use e.g. '10.10.0.0/16'."),
])
def test_unusable_vpc_ranges_are_refused(cidr, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_subnets(cidr, 2)


def test_unknown_tier_and_zone_count_are_refused():
    with pytest.raises(ValueError, match=re.escape("tiers=['public', 'dmz'] contains unknown tier 'dmz'")):
        plan_subnets("10.0.0.0/16", 2, ["public", "dmz"])
    with pytest.raises(ValueError, match=re.escape("zone_count=9 is out of range: use 1 to 8 availability zones.")):
        plan_subnets("10.0.0.0/16", 9)


vpc_ranges = st.builds(
    lambda address, prefix: str(ipaddress.IPv4Network((address, prefix), strict=False)),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=MIN_VPC_PREFIX, max_value=MAX_VPC_PREFIX),
)
tier_sets = st.lists(st.sampled_from(TIERS), min_size=1, unique=True)


@given(vpc=vpc_ranges, zones=st.integers(1, 8), tiers=tier_sets)
def test_subnets_never_overlap_and_stay_inside_the_vpc(vpc, zones, tiers):
    networks = [ipaddress.IPv4Network(p.cidr) for p in plan_subnets(vpc, zones, tiers)]
    assert len(networks) == zones * len(tiers)
    assert all(n.subnet_of(ipaddress.IPv4Network(vpc)) for n in networks)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(networks, 2))
    assert all(n.prefixlen <= 28 for n in networks)  # AWS's smallest subnet


@given(vpc=vpc_ranges, zones=st.integers(1, 7), extra_zones=st.integers(1, 7), tiers=tier_sets)
def test_adding_zones_or_tiers_never_renumbers_existing_subnets(vpc, zones, extra_zones, tiers):
    before = {(p.tier, p.zone_index): p.cidr for p in plan_subnets(vpc, zones, tiers)}
    after = {(p.tier, p.zone_index): p.cidr for p in plan_subnets(vpc, min(zones + extra_zones, 8), TIERS)}
    assert all(after[slot] == cidr for slot, cidr in before.items())
