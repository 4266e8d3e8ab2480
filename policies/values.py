"""Small readers for engine property bags, shared by the rule modules.

Props are camelCase and arrive as the analyzer builds them, in a real preview and in the offline
plan alike (both go through pulumi_policy's analyzer servicer): lists and objects are pulumi_policy's
read-only proxies (``collections.abc.Sequence`` / ``Mapping``, never ``list`` / ``dict``), every
number is a float (protobuf ``Struct`` has no integers), and a value the engine does not know yet
raises ``UnknownValueError`` when read. JSON documents (IAM policies, ECS container definitions,
SQS redrive policies) arrive as strings.

:func:`engine_view` wraps a property bag so that rules read integral numbers as ``int`` (messages
say ``port 22``, not ``22.0``); the registry applies it to every rule's props, and :func:`plain` to
its settings.
"""

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

UNKNOWN = "[unknown]"
PLACEHOLDERS = (UNKNOWN, "[secret]")
"""What :func:`peek` returns for an unknown value, and what a secret reads as when the offline plan
does not know its plaintext."""

OPEN_IPV4, OPEN_IPV6 = "0.0.0.0/0", "::/0"


def as_written(value: Any) -> Any:
    """``22`` for the ``22.0`` the analyzer hands over (protobuf numbers are doubles); other values unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _MappingView(Mapping):
    """A read-only mapping over an engine object whose values read as the user wrote them."""

    def __init__(self, target: Mapping[str, Any]):
        self._target = target

    def __getitem__(self, key: str) -> Any:
        return engine_view(self._target[key])  # an unknown raises here, as with the proxy itself

    def __iter__(self) -> Iterator[str]:
        return iter(self._target)

    def __len__(self) -> int:
        return len(self._target)


class _SequenceView(Sequence):
    """A read-only sequence over an engine list whose items read as the user wrote them."""

    def __init__(self, target: Sequence[Any]):
        self._target = target

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [engine_view(self._target[i]) for i in range(len(self._target))[index]]
        return engine_view(self._target[index])

    def __len__(self) -> int:
        return len(self._target)


def engine_view(value: Any) -> Any:
    """``value`` with integral floats read as ints, containers wrapped lazily so unknowns still raise."""
    if isinstance(value, (_MappingView, _SequenceView, str, bytes)):
        return value
    if isinstance(value, Mapping):
        return _MappingView(value)
    if isinstance(value, Sequence):
        return _SequenceView(value)
    return as_written(value)


def plain(value: Any) -> Any:
    """``value`` as plain ``dict``/``list``/``int``, read in full: for known data such as a policy's config."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if is_sequence(value):
        return [plain(item) for item in value]
    return as_written(value)


def get(props: Any, path: str | tuple[str, ...], default: Any = None) -> Any:
    """``props["a"]["b"]...`` for ``"a.b"``; ``default`` when a step is missing, ``None`` or not a mapping.

    A tuple of keys reads keys that contain dots themselves (tag keys like ``kubernetes.io/role``).

    A value unknown during a real preview raises ``UnknownValueError``, which the engine turns into an
    advisory "can't run policy during preview" note for resource rules; stack rules use :func:`peek`.
    """
    value = props
    for key in path.split(".") if isinstance(path, str) else path:
        if not isinstance(value, Mapping) or key not in value:
            return default
        value = value[key]
    return default if value is None else engine_view(value)


def peek(props: Any, path: str, default: Any = None) -> Any:
    """:func:`get` for stack rules: an unknown value reads as ``"[unknown]"`` instead of raising."""
    try:
        return get(props, path, default)
    except UnknownValueError:
        return UNKNOWN


def is_set(props: Any, path: str | tuple[str, ...]) -> bool:
    """Whether a setting is given: a non-empty value, or one a preview does not know yet.

    For presence checks only (a log bucket, a KMS key): an unknown there is an output of another
    resource the program passes in, so a value will be set. Rules that judge the value itself must
    read it with :func:`get` and let the unknown stop them.
    """
    try:
        value = get(props, path)
    except UnknownValueError:
        return True
    if isinstance(value, (str, Mapping)) or is_sequence(value):
        return len(value) > 0
    return value is not None


def is_true(value: Any) -> bool:
    """True for ``True`` and ``"true"`` (launch templates and some AWS flags are strings)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def flags_not_true(props: Mapping[str, Any], *flags: str) -> Iterator[str]:
    """``"<flag> is not true."`` for each boolean setting that is not on."""
    for flag in flags:
        if not is_true(props.get(flag)):
            yield f"{flag} is not true."


def is_sequence(value: Any) -> bool:
    """A list as the analyzer hands it (a read-only proxy, not ``list``), a JSON array, a tuple; not a string."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def as_list(value: Any) -> list[Any]:
    """A list for a list, ``[value]`` for one value, ``[]`` for nothing (IAM allows both forms)."""
    if value is None:
        return []
    if is_sequence(value):
        return [engine_view(item) for item in value]
    return [engine_view(value)]


def number(value: Any) -> int | float | None:
    """A number from an int, float or numeric string (``22`` for ``22.0``); ``None`` for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return as_written(value)
    try:
        return as_written(float(value))
    except (TypeError, ValueError):
        return None


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value in PLACEHOLDERS


def parse_json(value: Any) -> Any:
    """A JSON document given as string or already parsed; ``None`` if unknown, secret or not JSON."""
    if isinstance(value, Mapping) or is_sequence(value):
        return engine_view(value)
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
    """The tag map as a plain dict (``{}`` when unset or not a map)."""
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
    """The items of ``values`` that are objects (proxies included), read as the user wrote them."""
    for value in values:
        if isinstance(value, Mapping):
            yield engine_view(value)
