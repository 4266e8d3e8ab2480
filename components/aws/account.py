"""The account, region and partition a component deploys into, looked up once per deployment and provider.

ARNs in policies and trust documents need all three as plain strings, so they come from the provider's
synchronous invokes (``get_caller_identity``, ``get_region``, ``get_partition``). A synchronous invoke stops the
program until the provider answers, and while it waits the SDK pumps every pending registration; a stack made
about 40 of them for 8 distinct answers. The answers cannot change within one deployment for one provider, so
:func:`account_of` asks each provider once per deployment (the root stack resource) and gives the same answer to
every component after that.
"""

import weakref
from dataclasses import dataclass

import pulumi
from pulumi.runtime.settings import get_root_resource
from pulumi_aws import get_caller_identity, get_partition, get_region


@dataclass(frozen=True)
class Account:
    """Where resources of one AWS provider land."""

    account_id: str
    partition: str
    region: str


_answers: "weakref.WeakKeyDictionary[pulumi.Resource, dict[pulumi.ProviderResource | None, Account]]" = (
    weakref.WeakKeyDictionary())
"""Per deployment (its root stack resource), per provider (``None``: the default provider)."""


def account_of(parent: pulumi.Resource, provider: pulumi.ProviderResource | None = None) -> Account:
    """The account, partition and region of ``provider``, or of the AWS provider ``parent`` passes to its children.

    The provider is chosen as the SDK chooses it for an invoke parented to ``parent``: an explicit one first, then
    the one ``parent`` was given for the ``aws`` package, else the default provider.
    """
    provider = provider or parent.get_provider("aws::getCallerIdentity")
    root = get_root_resource()
    known = _answers.setdefault(root, {}) if root is not None else {}
    if provider not in known:
        invoke = pulumi.InvokeOptions(parent=parent, provider=provider)
        known[provider] = Account(account_id=get_caller_identity(opts=invoke).account_id,
                                  partition=get_partition(opts=invoke).partition,
                                  region=get_region(opts=invoke).region)
    return known[provider]
