"""What a pricer may look at beside its own resource: the whole plan, the price table, the hours in a month."""

from typing import Any

from genai_platform.mockcloud import Plan, RecordedResource


class PricingContext:
    """One estimate's view of the plan and the price table, shared by every pricer it calls."""

    def __init__(self, plan: Plan, prices: dict[str, Any]):
        self.plan = plan
        self.prices = prices
        self.hours = float(prices["hours_per_month"])
        self.by_urn = {r.urn: r for r in plan.resources}
        self.shared_albs: dict[str, str] = {}
        """Ingress group name -> the ingress its shared ALB is priced on (the first one met)."""

    def monthly(self, hourly: float) -> float:
        return hourly * self.hours

    def linked(self, resource: RecordedResource, type_token: str, reference: Any = None) -> RecordedResource | None:
        """The resource of ``type_token`` that ``resource`` refers to.

        Dependencies are transitive through components (a node group depends on every launch template
        of the cluster it joins), so the reference (id, ARN or name) decides first; without a match,
        the only dependency of that type, or the only one beside ``resource``, is taken.
        """
        dependencies = [self.by_urn[u] for u in resource.dependencies
                        if u in self.by_urn and self.by_urn[u].type == type_token]
        if isinstance(reference, str) and reference:
            for candidate in dependencies or self.plan.of_type(type_token):
                arn = str(candidate.outputs.get("arn") or "")
                names = (candidate.urn, arn, candidate.outputs.get("id"), candidate.outputs.get("name"),
                         candidate.inputs.get("name"))
                if reference in names or arn.endswith(f"/{reference}"):
                    return candidate
        beside = [d for d in dependencies if d.parent == resource.parent]
        for choice in (dependencies, beside):
            if len(choice) == 1:
                return choice[0]
        return None
