"""account_of: the provider is asked once per deployment and provider, and each provider's own answer is kept."""

import collections

import pulumi
import pulumi_aws as aws

from genai_platform.components.aws.account import Account, account_of
from genai_platform.mockcloud import ACCOUNT_ID, PlatformMocks, run_under_mocks

LOOK_UPS = ("aws:index/getCallerIdentity:getCallerIdentity", "aws:index/getPartition:getPartition",
            "aws:index/getRegion:getRegion")


class CountingMocks(PlatformMocks):
    def __init__(self, region: str):
        super().__init__(region=region)
        self.calls: collections.Counter[str] = collections.Counter()

    def call(self, args):
        self.calls[args.token] += 1
        return super().call(args)


class Part(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None,
                 provider: pulumi.ProviderResource | None = None):
        super().__init__("test:index:Part", name, None, opts)
        self.account = account_of(self, provider)


def run(program, region: str = "us-east-1") -> CountingMocks:
    mocks = CountingMocks(region)
    run_under_mocks(program, config={"aws:region": region}, mocks=mocks)
    return mocks


def test_every_component_of_a_deployment_shares_one_answer_per_provider():
    seen: list[Account] = []

    def program():
        seen.extend(Part(f"part-{index}").account for index in range(5))

    mocks = run(program)
    assert {mocks.calls[token] for token in LOOK_UPS} == {1}
    assert seen == [Account(account_id=ACCOUNT_ID, partition="aws", region="us-east-1")] * 5


def test_a_provider_handed_down_by_the_parent_or_named_gets_its_own_answer():
    seen: dict[str, Account] = {}

    def program():
        replica = aws.Provider("replica", region="us-west-2")
        seen["default"] = Part("home").account
        seen["inherited"] = Part("abroad", pulumi.ResourceOptions(providers=[replica])).account
        seen["named"] = Part("named", provider=replica).account

    mocks = run(program)
    assert (seen["default"].region, seen["inherited"].region, seen["named"].region) == (
        "us-east-1", "us-west-2", "us-west-2")
    assert seen["inherited"] is seen["named"]
    assert {mocks.calls[token] for token in LOOK_UPS} == {2}


def test_a_new_deployment_asks_again():
    regions = []
    for region in ("us-east-1", "eu-west-1"):
        mocks = run(lambda: regions.append(Part("part").account.region), region)
        assert {mocks.calls[token] for token in LOOK_UPS} == {1}
    assert regions == ["us-east-1", "eu-west-1"]
