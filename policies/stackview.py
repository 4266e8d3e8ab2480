"""Helpers for stack rules: find resources of a type and the companions that configure them.

Many AWS settings live in companion resources (a bucket's public access block, a queue's policy).
A companion is tied to its target when the target is one of its dependencies (how the engine
records ``bucket=bucket.id``) or when one of its reference properties names the target's
ARN, URL, id or name (how it looks once the values are known).
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from genai_platform.policies.values import is_placeholder, peek

_IDENTIFIER_KEYS = ("arn", "url", "id", "name", "bucket")


def of_types(args: StackValidationArgs, types: Iterable[str]) -> list[PolicyResource]:
    wanted = set(types)
    return [r for r in args.resources if r.resource_type in wanted]


def identifiers(resource: PolicyResource) -> set[str]:
    """Strings other resources use to point at ``resource`` (ARN, URL, id, name)."""
    found = set()
    for key in _IDENTIFIER_KEYS:
        value = peek(resource.props, key)
        if isinstance(value, str) and value and not is_placeholder(value):
            found.add(value)
    return found


def companions_by_target(targets: Iterable[PolicyResource], candidates: Iterable[PolicyResource],
                         reference_keys: Iterable[str]) -> dict[str, list[PolicyResource]]:
    """For each target URN, the candidates that configure it.

    A candidate whose reference properties name a target (known ARN/URL/name) belongs to that
    target only; one whose references are not known yet (a preview) belongs to every target
    among its dependencies.
    """
    targets = list(targets)
    names = {t.urn: identifiers(t) for t in targets}
    found: dict[str, list[PolicyResource]] = {t.urn: [] for t in targets}
    keys = tuple(reference_keys)
    for candidate in candidates:
        references = {v for v in (peek(candidate.props, key) for key in keys)
                      if isinstance(v, str) and v and not is_placeholder(v)}
        matched = [urn for urn, known in names.items() if references & known]
        if not matched:
            dependencies = {d.urn for d in candidate.dependencies}
            matched = [urn for urn in found if urn in dependencies]
        for urn in matched:
            found[urn].append(candidate)
    return found


def label(resource: PolicyResource) -> str:
    """How a finding names a resource: its logical name and type."""
    return f"{resource.name} ({resource.resource_type})"


class Deferred:
    """Checks a stack rule could not make because a value is unknown at preview.

    A stack rule judges every resource it can, then calls :meth:`raise_if_any`: pulumi_policy turns the
    ``UnknownValueError`` into the engine's advisory "can't run policy ... during preview" note, while
    the violations already reported stand. So an unknown is never a silent pass, and never blocks a
    preview either; the update, where the value is known, runs the check in full.
    """

    def __init__(self) -> None:
        self._first: UnknownValueError | None = None

    def check(self, check: Callable[[Mapping[str, Any]], bool], props: Mapping[str, Any]) -> bool:
        """``check(props)``; ``True`` for now (no violation reported) when it meets an unknown value."""
        try:
            return check(props)
        except UnknownValueError as unknown:
            self._first = self._first or unknown
            return True

    def raise_if_any(self) -> None:
        if self._first is not None:
            raise self._first
