"""The contract between the estimate and the pricers: what a pricer returns or raises, and which type it prices.

A pricer is ``pricer(resource, context) -> Priced | None``: ``None`` when the resource costs nothing
as configured (a gateway endpoint, a ClusterIP Service), :class:`NotPriced` when it would cost
something the plan or the table cannot tell.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from genai_platform.cost.pricers.context import PricingContext
from genai_platform.cost.prices import rate
from genai_platform.mockcloud import RecordedResource


class NotPriced(Exception):
    """The resource is of a priced type, but the plan does not say enough (or the table lacks its size)."""


@dataclass(frozen=True)
class Ceiling:
    """What a resource that scales by itself (a Karpenter NodePool) may cost at most, beside its floor in ``parts``."""

    monthly: float
    basis: str
    gpu: bool
    """True when the ceiling is GPU capacity (the report's "GPU at max scale" line)."""


@dataclass
class Priced:
    """What a pricer found: fixed monthly parts ``(amount, basis)``, an optional usage-priced remark and, for
    capacity that scales by itself, its ceiling (not in the total)."""

    parts: list[tuple[float, str]] = field(default_factory=list)
    usage: str | None = None
    ceiling: Ceiling | None = None


Pricer = Callable[[RecordedResource, PricingContext], Priced | None]

PRICERS: dict[str, Pricer] = {}
"""Type token -> its pricer. Filled as the domain modules are imported (``genai_platform.cost.pricers``)."""


def pricer_for(*type_tokens: str):
    """Register the decorated function as the pricer of ``type_tokens``."""
    def register(function):
        for token in type_tokens:
            PRICERS[token] = function
        return function
    return register


def flat_fee(type_token: str, section: str, key: str, what: str) -> None:
    """Register a pricer for a type billed ``prices[section][key]`` a month whatever its inputs."""
    def pricer(resource: RecordedResource, context: PricingContext) -> Priced:
        amount = context.prices[section][key]
        return Priced([(amount, f"{what} {rate(amount)}/month")])
    PRICERS[type_token] = pricer
