"""Small readers for engine property bags, shared by the rule modules.

Props are camelCase. In a real preview a value the engine does not know yet raises
``UnknownValueError`` when read (pulumi_policy's proxy); offline plans carry ``"[unknown]"``
and ``"[secret]"`` placeholders instead. JSON documents (IAM policies, ECS container
definitions, SQS redrive policies) arrive as strings.
"""

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy.proxy import UnknownValueError

UNKNOWN = "[unknown]"
PLACEHOLDERS = (UNKNOWN, "[secret]")
"""What the offline plan puts where the engine has no plain value."""

OPEN_IPV4, OPEN_IPV6 = "0.0.0.0/0", "::/0"


def get(props: Any, path: str, default: Any = None) -> Any:
    """``props["a"]["b"]...`` for ``"a.b"``; ``default`` when a step is missing, ``None`` or not a mapping.

    A value unknown during a real preview raises ``UnknownValueError``, which the engine turns into an
    advisory "can't run policy during preview" note for resource rules; stack rules use :func:`peek`.
    """
    value = props
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return default
        value = value[key]
    return default if value is None else value


def peek(props: Any, path: str, default: Any = None) -> Any:
    """:func:`get` for stack rules: an unknown value reads as ``"[unknown]"`` instead of raising."""
    try:
        return get(props, path, default)
    except UnknownValueError:
        return UNKNOWN


def is_true(value: Any) -> bool:
    """True for ``True`` and ``"true"`` (launch templates and some AWS flags are strings)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def flags_not_true(props: Mapping[str, Any], *flags: str) -> Iterator[str]:
    """``"<flag> is not true."`` for each boolean setting that is not on."""
    for flag in flags:
        if not is_true(props.get(flag)):
            yield f"{flag} is not true."


def as_list(value: Any) -> list[Any]:
    """A list for a list, ``[value]`` for one value, ``[]`` for nothing (IAM allows both forms)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def number(value: Any) -> float | None:
    """A number from an int, float or numeric string; ``None`` for anything else (unknown, secret)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value in PLACEHOLDERS


def parse_json(value: Any) -> Any:
    """A JSON document given as string or already parsed; ``None`` if unknown, secret or not JSON."""
    if isinstance(value, (Mapping, list)):
        return value
    if not isinstance(value, str) or is_placeholder(value):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM policy document (string or dict); ``[]`` when it cannot be read."""
    parsed = parse_json(document)
    if not isinstance(parsed, Mapping):
        return []
    return [s for s in as_list(parsed.get("Statement")) if isinstance(s, Mapping)]


def tags_of(props: Mapping[str, Any], key: str = "tags") -> dict[str, Any]:
    tags = get(props, key, {})
    return dict(tags) if isinstance(tags, Mapping) else {}


def denies_insecure_transport(document: Any) -> bool:
    """Whether a resource policy denies requests without TLS (``aws:SecureTransport`` = false)."""
    for statement in statements(document):
        if statement.get("Effect") != "Deny":
            continue
        condition = statement.get("Condition") or {}
        for operator in ("Bool", "BoolIfExists"):
            flag = (condition.get(operator) or {}).get("aws:SecureTransport")
            if str(flag).lower() == "false" or flag is False:
                return True
    return False


def each_mapping(values: Iterable[Any]) -> Iterator[Mapping[str, Any]]:
    for value in values:
        if isinstance(value, Mapping):
            yield value
