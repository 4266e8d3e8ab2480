"""The recorded result of a program run under mocks."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordedResource:
    """One resource registration, as the engine would have received it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    protect: bool
    dependencies: list[str]
    inputs: dict[str, Any]
    """Engine property bag (camelCase keys); secrets are replaced by ``"[secret]"``."""
    id: str | None = None
    """The physical id the mocks gave it (None for components)."""
    remote: bool = False
    """A multi-language component (e.g. ``eks:index:Cluster``): its children are not visible offline."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """State the mocks returned (inputs plus computed ids, ARNs, endpoints)."""
    source: tuple[str, int] | None = None
    """File and line of the code that created it, as the SDK sends it to the engine (``sourcePosition``)."""
    aliases: list[str] = field(default_factory=list)
    """The other URNs it answers to (its ``aliases``, and its parent's, as the engine derives them)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "protect": self.protect,
            "dependencies": self.dependencies,
            "inputs": self.inputs,
            "aliases": self.aliases,
        }


@dataclass
class Plan:
    """Resources and stack outputs of one program run, sorted by URN so output is stable."""

    project: str
    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]

    def of_type(self, type_token: str) -> list[RecordedResource]:
        """All resources of one type token, e.g. ``aws:ec2/natGateway:NatGateway``."""
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> RecordedResource:
        """The single resource of a type; fails loudly when there are none or several."""
        found = self.of_type(type_token)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_token}, found {len(found)}: {[r.name for r in found]}")
        return found[0]

    def named(self, name: str, type_token: str | None = None) -> RecordedResource:
        """The resource with this logical name; pass ``type_token`` when several types share the name."""
        found = [r for r in self.resources if r.name == name and type_token in (None, r.type)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r}"
                           + (f" of type {type_token}" if type_token else "; pass type_token to choose"))
        return found[0]

    def children(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == urn]

    def type_counts(self) -> Counter:
        """Resources per type, the stack root excluded."""
        return Counter(r.type for r in self.resources if r.type != "pulumi:pulumi:Stack")

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
        }
