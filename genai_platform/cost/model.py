"""The estimate: every resource of an offline plan priced by its type's pricer, summed per month.

The pricers live in :mod:`genai_platform.cost.pricers`, one module per domain. A resource type without a
pricer but with an entry under ``usage_based`` in ``prices.json`` is listed with that assumption,
not summed; any other type has no price in the table and is left out.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from genai_platform.cost.pricers import PRICERS, NotPriced, PricingContext
from genai_platform.cost.prices import cents, load_prices
from genai_platform.cost.tree import service_names
from genai_platform.mockcloud import Plan

__all__ = ["CostEstimate", "NotPriced", "estimate", "priced_types"]

_CLOUD_OF_PACKAGE = {"eks": "aws", "awsx": "aws", "kubernetes": "aws"}


@dataclass
class CostEstimate:
    """A plan's monthly estimate. Amounts are USD, rounded to cents; ``monthly`` is the sum of ``items``."""

    monthly: float
    budget: float | None
    items: list[dict[str, Any]]
    """``{"urn", "type", "monthly", "basis"}`` per priced resource, most expensive first."""
    usage_based: list[dict[str, Any]]
    """``{"urn", "type", "basis"}`` per resource (or part of one) priced by usage: not in ``monthly``."""
    unpriced: list[dict[str, Any]]
    """``{"urn", "type", "reason"}`` per resource of a priced type the table cannot price."""
    services: dict[str, str] = field(default_factory=dict, repr=False)
    """URN -> service (top-level component) name."""
    read_on: str = ""
    """The date the price table was read."""
    at_max_scale: list[dict[str, Any]] = field(default_factory=list)
    """``{"urn", "type", "floor", "ceiling", "gpu", "basis"}`` per resource with a ceiling (Karpenter NodePools):
    ``floor`` is in ``monthly``; ``ceiling`` is what its limits allow, not in it."""

    @property
    def gpu_at_max_scale(self) -> float:
        """Monthly cost of every GPU pool at its ceiling."""
        return cents(sum(entry["ceiling"] for entry in self.at_max_scale if entry["gpu"]))

    @property
    def monthly_at_max_scale(self) -> float:
        """The total with every pool at its ceiling instead of its floor."""
        return cents(self.monthly + sum(entry["ceiling"] - entry["floor"] for entry in self.at_max_scale))

    @property
    def over_budget_at_max_scale(self) -> bool:
        """Advisory: the limits allow spending past the budget (the plan still passes)."""
        return self.budget is not None and self.monthly_at_max_scale > self.budget

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.monthly > self.budget

    def by_service(self) -> dict[str, float]:
        """Monthly subtotal per service (the top-level component under the stack root), largest first."""
        totals: dict[str, float] = defaultdict(float)
        for item in self.items:
            totals[self.services.get(item["urn"], item["urn"])] += item["monthly"]
        return {name: cents(total) for name, total in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))}

    def by_cloud(self) -> dict[str, float]:
        """Monthly subtotal per cloud (``aws``, ``gcp``), to hold each against its own budget.

        pulumi-eks components and the load balancers Kubernetes objects create on EKS count as AWS.
        """
        totals: dict[str, float] = defaultdict(float)
        for item in self.items:
            package = item["type"].split(":", 1)[0]
            totals[_CLOUD_OF_PACKAGE.get(package, package)] += item["monthly"]
        return {name: cents(total) for name, total in sorted(totals.items())}

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "monthly": self.monthly,
            "budget": self.budget,
            "items": self.items,
            "usage_based": self.usage_based,
            "unpriced": self.unpriced,
            "at_max_scale": {"monthly": self.monthly_at_max_scale, "gpu_monthly": self.gpu_at_max_scale,
                             "over_budget": self.over_budget_at_max_scale, "pools": self.at_max_scale},
        }


def estimate(plan: Plan, budget_usd: float | None = None, prices: dict[str, Any] | None = None) -> CostEstimate:
    """Price every resource of ``plan`` and hold the total against ``budget_usd`` (None: no budget)."""
    context = PricingContext(plan, prices or load_prices())
    items, usage_based, unpriced, at_max_scale = [], [], [], []
    for resource in plan.resources:
        pricer = PRICERS.get(resource.type)
        usage_basis = context.prices["usage_based"].get(resource.type)
        if pricer is None:
            if usage_basis:
                usage_based.append({"urn": resource.urn, "type": resource.type, "basis": usage_basis})
            continue
        try:
            found = pricer(resource, context)
        except NotPriced as reason:
            unpriced.append({"urn": resource.urn, "type": resource.type, "reason": str(reason)})
            continue
        if found is None:
            continue
        if found.parts:
            items.append({
                "urn": resource.urn,
                "type": resource.type,
                "monthly": cents(sum(amount for amount, _ in found.parts)),
                "basis": "; ".join(basis for _, basis in found.parts),
            })
        if found.usage:
            usage_based.append({"urn": resource.urn, "type": resource.type, "basis": found.usage})
        if found.ceiling:
            at_max_scale.append({"urn": resource.urn, "type": resource.type,
                                 "floor": cents(sum(amount for amount, _ in found.parts)),
                                 "ceiling": cents(found.ceiling.monthly), "gpu": found.ceiling.gpu,
                                 "basis": found.ceiling.basis})
    items.sort(key=lambda item: (-item["monthly"], item["urn"]))
    budget = None if budget_usd is None else cents(float(budget_usd))
    return CostEstimate(
        monthly=cents(sum(item["monthly"] for item in items)),
        budget=budget,
        items=items,
        usage_based=usage_based,
        unpriced=unpriced,
        services=service_names(plan),
        read_on=context.prices.get("read_on", ""),
        at_max_scale=at_max_scale,
    )


def priced_types() -> list[str]:
    """Type tokens with a pricer (fixed-price types); usage-only types are in ``prices.json``."""
    return sorted(PRICERS)
