"""Compare two plan documents (``genai-infra plan --format json``): resources added, removed, changed and
replaced, stack outputs, the cost per service, and the destroyed resources that hold data."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from genai_platform.cost.prices import cents
from genai_platform.cost.tree import STACK_TYPE, service_names
from genai_platform.mockcloud import Plan, RecordedResource
from genai_platform.plan_diff.properties import Change, changes, masked
from genai_platform.plan_diff.replacements import DATA_HOLDING, forcing_property


@dataclass(frozen=True)
class Replacement:
    """A resource destroyed and created again: renamed (its URN changes) or forced by a property change."""

    base_urn: str
    urn: str
    type: str
    reason: str
    """``renamed`` or ``forced by <property>``."""
    changes: tuple[Change, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"base_urn": self.base_urn, "urn": self.urn, "type": self.type, "reason": self.reason,
                "changes": [change.to_json() for change in self.changes]}


@dataclass(frozen=True)
class DataLoss:
    """A destroyed resource that is protected or holds data; the guard refuses it unless it is allowed."""

    urn: str
    """The URN that is destroyed (the base's): what ``--allow-destroy`` names."""
    type: str
    why: str
    """``removed``, ``renamed to <name>`` or ``replaced: forced by <property>``."""
    holds: str
    """What is lost: ``database``, ``bucket``, ... or ``protected resource``."""
    allowed: bool = False

    def message(self) -> str:
        return (f"{self.urn} ({self.type}, {self.holds}) would be destroyed: {self.why}; "
                f"pass --allow-destroy '{self.urn}' if that is intended")

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "why": self.why, "holds": self.holds, "allowed": self.allowed,
                "message": self.message()}


@dataclass
class CostDelta:
    """Monthly cost per service, base -> head (USD)."""

    services: dict[str, tuple[float, float]]
    """Service -> (base, head), largest change first."""
    base_total: float
    head_total: float
    base_budget: float | None
    head_budget: float | None

    @property
    def delta(self) -> float:
        return cents(self.head_total - self.base_total)

    def changed(self) -> dict[str, tuple[float, float]]:
        return {name: pair for name, pair in self.services.items() if pair[0] != pair[1]}

    def to_json(self) -> dict[str, Any]:
        return {"currency": "USD", "base": self.base_total, "head": self.head_total, "delta": self.delta,
                "budget": {"base": self.base_budget, "head": self.head_budget},
                "services": [{"service": name, "base": base, "head": head, "delta": cents(head - base)}
                             for name, (base, head) in self.services.items()]}


@dataclass
class PlanDiff:
    stack: str
    base_label: str
    added: list[RecordedResource] = field(default_factory=list)
    removed: list[RecordedResource] = field(default_factory=list)
    changed: list[tuple[RecordedResource, list[Change]]] = field(default_factory=list)
    replaced: list[Replacement] = field(default_factory=list)
    unchanged: int = 0
    outputs: list[Change] = field(default_factory=list)
    cost: CostDelta | None = None
    data_loss: list[DataLoss] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing changes: no resource, no output, no cost and no budget."""
        cost_changes = self.cost is not None and (
            self.cost.changed() or (self.cost.base_budget, self.cost.base_total) != (self.cost.head_budget,
                                                                                    self.cost.head_total))
        return not (self.added or self.removed or self.changed or self.replaced or self.outputs or cost_changes)

    @property
    def refused(self) -> list[DataLoss]:
        return [loss for loss in self.data_loss if not loss.allowed]

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed), "changed": len(self.changed),
                "replaced": len(self.replaced), "unchanged": self.unchanged}

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "base": self.base_label,
            "counts": self.counts(),
            "added": [_resource_json(r) for r in self.added],
            "removed": [_resource_json(r) for r in self.removed],
            "changed": [{**_resource_json(r), "changes": [c.to_json() for c in found]} for r, found in self.changed],
            "replaced": [replacement.to_json() for replacement in self.replaced],
            "outputs": [change.to_json() for change in self.outputs],
            "cost": self.cost.to_json() if self.cost else None,
            "data_loss": [loss.to_json() for loss in self.data_loss],
        }


def _resource_json(resource: RecordedResource) -> dict[str, Any]:
    return {"urn": resource.urn, "type": resource.type, "name": resource.name, "protect": resource.protect,
            "inputs": masked(resource.inputs)}


def plan_of(document: dict[str, Any]) -> Plan:
    """The :class:`Plan` a plan document was written from (what the cost tree and the diff need of it)."""
    resources = [RecordedResource(urn=r["urn"], type=r["type"], name=r["name"], parent=r.get("parent"),
                                  custom=r.get("custom", True), protect=r.get("protect", False),
                                  dependencies=r.get("dependencies", []), inputs=r.get("inputs", {}),
                                  aliases=r.get("aliases", []))
                 for r in document.get("resources", [])]
    return Plan(project=document.get("project", ""), stack=document.get("stack", ""),
                resources=sorted(resources, key=lambda r: r.urn), outputs=document.get("outputs", {}))


def diff(base: dict[str, Any] | None, head: dict[str, Any], base_label: str,
         allow_destroy: frozenset[str] = frozenset()) -> PlanDiff:
    """What changes from ``base`` to ``head`` (plan documents; ``base`` None: a new stack, everything added)."""
    base_plan = plan_of(base or {})
    head_plan = plan_of(head)
    result = PlanDiff(stack=head_plan.stack, base_label=base_label)
    old = {r.urn: r for r in base_plan.resources if r.type != STACK_TYPE}
    new = {r.urn: r for r in head_plan.resources if r.type != STACK_TYPE}
    gone, appeared = old.keys() - new.keys(), new.keys() - old.keys()
    # A head resource that names a vanished URN among its aliases is that resource under its new URN.
    answers_to = {alias: r.urn for r in new.values() if r.urn in appeared for alias in r.aliases}
    moved = {urn: answers_to[urn] for urn in sorted(gone) if urn in answers_to}
    renamed = _renames([old[urn] for urn in sorted(gone - moved.keys())],
                       [new[urn] for urn in sorted(appeared - set(moved.values()))], dict(moved))
    for urn in sorted(gone - moved.keys()):
        if urn in renamed:
            head_resource = new[renamed[urn]]
            found = changes(old[urn].inputs, head_resource.inputs)
            result.replaced.append(Replacement(urn, head_resource.urn, head_resource.type, "renamed", tuple(found)))
        else:
            result.removed.append(old[urn])
    result.added = [new[urn] for urn in sorted(appeared - set(moved.values()) - set(renamed.values()))]
    same = [(urn, urn) for urn in sorted(old.keys() & new.keys())] + sorted(moved.items())
    for base_urn, urn in same:
        found = [_with_forcing(change, new[urn].type) for change in changes(old[base_urn].inputs, new[urn].inputs)]
        if base_urn != urn:
            found.insert(0, Change("(urn, by alias)", base_urn, urn))
        if old[base_urn].protect != new[urn].protect:
            found.append(Change("(protect)", old[base_urn].protect, new[urn].protect))
        forcing = next((change.forces for change in found if change.forces), None)
        if forcing:
            result.replaced.append(Replacement(base_urn, urn, new[urn].type, f"forced by {forcing}", tuple(found)))
        elif found:
            result.changed.append((new[urn], found))
        else:
            result.unchanged += 1
    result.replaced.sort(key=lambda replacement: replacement.base_urn)
    result.changed.sort(key=lambda pair: pair[0].urn)
    result.outputs = changes(base_plan.outputs, head_plan.outputs)
    result.cost = _cost_delta(base, base_plan, head, head_plan)
    result.data_loss = _data_loss(result, old, new, allow_destroy)
    return result


def _with_forcing(change: Change, type_token: str) -> Change:
    forces = forcing_property(type_token, change.path)
    return Change(change.path, change.old, change.new, forces) if forces else change


def _depth(resource: RecordedResource, by_urn: dict[str, RecordedResource]) -> int:
    depth, parent = 0, resource.parent
    while parent in by_urn and depth < len(by_urn):
        depth, parent = depth + 1, by_urn[parent].parent
    return depth


def _renames(removed: list[RecordedResource], added: list[RecordedResource],
             pairs: dict[str, str]) -> dict[str, str]:
    """Base URN -> head URN of each removed resource that reappears under another name: same type, same parent
    (or the parent's own new name, so a renamed component's children pair too). Parents are paired first; among
    several candidates the one with the most equal inputs wins. ``pairs`` starts with the resources moved by an
    alias (they are parents too) and is returned with the renames added."""
    by_urn = {r.urn: r for r in removed}
    candidates: dict[tuple[str, str | None], list[RecordedResource]] = defaultdict(list)
    for resource in added:
        candidates[(resource.type, resource.parent)].append(resource)
    for resource in sorted(removed, key=lambda r: (_depth(r, by_urn), r.urn)):
        parent = pairs.get(resource.parent, resource.parent)
        pool = candidates.get((resource.type, parent))
        if not pool:
            continue
        best = max(pool, key=lambda r: _similarity(resource.inputs, r.inputs))  # ties: the first URN
        pool.remove(best)
        pairs[resource.urn] = best.urn
    return {urn: paired for urn, paired in pairs.items() if urn in by_urn}


def _similarity(old: dict[str, Any], new: dict[str, Any]) -> int:
    return sum(1 for key in old.keys() & new.keys() if old[key] == new[key])


def _cost_delta(base: dict[str, Any] | None, base_plan: Plan, head: dict[str, Any], head_plan: Plan) -> CostDelta:
    base_cost = (base or {}).get("cost") or {}
    head_cost = head.get("cost") or {}
    old = _by_service(base_cost, base_plan)
    new = _by_service(head_cost, head_plan)
    services = {name: (old.get(name, 0.0), new.get(name, 0.0)) for name in old.keys() | new.keys()}
    ordered = dict(sorted(services.items(), key=lambda kv: (-abs(kv[1][1] - kv[1][0]), -kv[1][1], kv[0])))
    return CostDelta(ordered, cents(base_cost.get("monthly", 0.0)), cents(head_cost.get("monthly", 0.0)),
                     base_cost.get("budget"), head_cost.get("budget"))


def _by_service(cost: dict[str, Any], plan: Plan) -> dict[str, float]:
    names = service_names(plan)
    totals: dict[str, float] = defaultdict(float)
    for item in cost.get("items", []):
        totals[names.get(item["urn"], item["urn"])] += item["monthly"]
    return {name: cents(total) for name, total in totals.items()}


def _data_loss(result: PlanDiff, old: dict[str, RecordedResource], new: dict[str, RecordedResource],
               allow_destroy: frozenset[str]) -> list[DataLoss]:
    destroyed = [(r, "removed") for r in result.removed]
    destroyed += [(old[r.base_urn], f"renamed to {new[r.urn].name}" if r.reason == "renamed" else f"replaced: {r.reason}")
                  for r in result.replaced]
    found = []
    for resource, why in sorted(destroyed, key=lambda pair: pair[0].urn):
        holds = DATA_HOLDING.get(resource.type) or ("protected resource" if resource.protect else None)
        if holds and resource.custom:
            if resource.protect and holds != "protected resource":
                holds += ", protected"
            found.append(DataLoss(resource.urn, resource.type, why, holds, resource.urn in allow_destroy))
    return found
