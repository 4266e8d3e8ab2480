"""Read a stack file (``stacks/Pulumi.<env>.yaml``, or another project's ``Pulumi.<stack>.yaml``) and ``Pulumi.yaml``
the way the Pulumi engine does, and refuse what it refuses (or worse).

The engine reads stack files as YAML 1.2 (Go): ``yes``/``on`` are strings, ``1.10`` is the number 1.1 unless
quoted. PyYAML is YAML 1.1 and disagrees, so this module uses ruamel.yaml's YAML 1.2 reading, walks the
composed nodes itself and refuses, with one line naming the file, line, key and fix:

* duplicate keys (YAML says keys are unique; a parser that lets the last one win runs a dev file as prod),
* keys that are not strings, ``null`` values, merge keys,
* a string setting written as a number, boolean or date (``releaseTag: 1.10`` would deploy tag ``1.1``),
* a ``secure:`` value that is not ciphertext, and a plaintext value for a key Pulumi.yaml declares secret,
* more than :data:`MAX_NODES` values after alias expansion, nesting deeper than :data:`MAX_DEPTH`, a file
  over :data:`MAX_BYTES` or a line over :data:`MAX_LINE`: a few lines of nested aliases must not expand into
  gigabytes, nor a long line keep the scanner busy for seconds.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stacks import provider_keys
from stacks.config import ConfigError, elide

if TYPE_CHECKING:  # genai_infra.project reads Pulumi.yaml with this module's reader
    from genai_infra.project import Project

SECRET_PLACEHOLDER = "OfflinePlaceholderSecret-0000"
"""Stands in for every ``secure:`` value offline: the real one is never decrypted or printed."""

MAX_BYTES = 64 * 1024
MAX_LINE = 16 * 1024
MAX_NODES = 10_000
MAX_DEPTH = 20
_STR, _NULL, _MERGE = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:merge"
_CORE = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}
_KINDS = {"tag:yaml.org,2002:int": "a number", "tag:yaml.org,2002:float": "a number",
          "tag:yaml.org,2002:bool": "a boolean", "tag:yaml.org,2002:timestamp": "a date"}


@dataclass
class StackConfig:
    """The flat config Pulumi would pass to the program: string values (numbers and booleans as text,
    lists and objects as JSON), and which keys are secret."""

    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    explicit: set[str] = field(default_factory=set)
    """Keys the file sets (the rest come from tier presets or Pulumi.yaml)."""
    values: dict[str, Any] = field(default_factory=dict)
    """The plain (not ``secure:``) values the file sets, as YAML read them: what the engine type-checks against
    Pulumi.yaml's declarations (a scalar as its text, a list or mapping as itself)."""


class _Reader:
    def __init__(self, relative: str):
        self.relative = relative
        self.nodes = 0
        self._yaml = YAML(typ="safe", pure=True)

    def error(self, node: Node | int, text: str) -> ConfigError:
        """An error at ``node`` (or at a 1-based line number)."""
        line = node if isinstance(node, int) else node.start_mark.line + 1
        return ConfigError(f"{self.relative}: line {line}: {text}.")

    def compose(self, text: str) -> Node | None:
        try:
            self._check_depth(text)
            return self._yaml.compose(text)
        except MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = f" line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{self.relative}:{where} is not valid YAML ({error.problem or error.context}): "
                              "fix the syntax.") from None
        except YAMLError as error:
            raise ConfigError(f"{self.relative} is not valid YAML ({_one_line(error)}): fix the syntax.") from None

    def _check_depth(self, text: str) -> None:
        """Refuse deep nesting from the event stream, before the (recursive) composer meets it."""
        depth = 0
        for event in self._yaml.parse(text):
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ConfigError(f"{self.relative}: line {event.start_mark.line + 1}: nests values more than "
                                      f"{MAX_DEPTH} levels deep: flatten it.")
            elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                depth -= 1

    def value(self, node: Node, depth: int = 0) -> Any:
        """The Python value of ``node``, with every alias counted as the copy it expands to."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.error(node, f"holds more than {MAX_NODES} values once its aliases are expanded: "
                                   "write the values out, without nested aliases")
        if depth > MAX_DEPTH:
            raise self.error(node, f"nests values more than {MAX_DEPTH} levels deep: flatten it")
        if str(node.tag) not in _CORE:
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            raise self.error(node, f"uses the YAML tag {elide(tag)}: a stack file holds plain values "
                                   "(strings, numbers, booleans, lists, mappings); remove the tag")
        if isinstance(node, SequenceNode):
            return [self.value(item, depth + 1) for item in node.value]
        if isinstance(node, MappingNode):
            return {key: self.value(item, depth + 1) for key, item, _ in self.pairs(node)}
        if isinstance(node, ScalarNode) and str(node.tag) == _NULL:
            return None
        try:
            return self._yaml.constructor.construct_object(node)
        except (ValueError, YAMLError):  # e.g. 2001-13-45 looks like a date but is none
            raise self.error(node, f"{elide(repr(node.value))} looks like {_KINDS.get(str(node.tag), 'a value')} but is "
                                   "not one: quote it") from None

    def pairs(self, node: MappingNode) -> list[tuple[str, Node, int]]:
        """(key, value node, line of the key) with string keys, each key once."""
        seen: dict[str, int] = {}
        pairs = []
        for key_node, value_node in node.value:
            if str(key_node.tag) == _MERGE:
                raise self.error(key_node, "uses a YAML merge key (<<): write the keys out")
            if not isinstance(key_node, ScalarNode):
                raise self.error(key_node, "a key is a list or mapping: write keys as names")
            if str(key_node.tag) != _STR:
                shown = elide(str(key_node.value))
                raise self.error(key_node, f"the key {shown} is not a string: write keys as names, e.g. \"{shown}\": ...")
            key = key_node.value
            if key in seen:
                raise self.error(key_node, f"{elide(key)} is set twice (lines {seen[key]} and "
                                           f"{key_node.start_mark.line + 1}): keep one; Pulumi refuses duplicate keys")
            seen[key] = key_node.start_mark.line + 1
            pairs.append((key, value_node, key_node.start_mark.line + 1))
        return pairs


def read_stack_file(project: Project, stack: str) -> StackConfig:
    """The config of ``project``'s ``Pulumi.<stack>.yaml`` as the engine passes it to the program.

    Bare keys get the project's namespace. ``secure:`` values get a placeholder; so do, for the platform itself,
    the secret keys Pulumi.yaml declares and the file does not set (the committed stack files carry no secrets).
    """
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", stack) or stack.startswith("."):
        raise ConfigError(f"{elide(repr(stack))} is not a stack name: use letters, digits, _, - and . (e.g. dev).")
    path = project.stack_file(stack)
    relative = project.relative(path)
    if not path.is_file():
        known = ", ".join(project.stack_names()) or "none"
        raise ConfigError(f"{relative} does not exist: create it, or plan one of the stacks that exist ({known}).")
    reader = _Reader(relative)
    document = reader.compose(_read_text(path, relative))
    section = _section(reader, document, "config")
    declared_secret = project.secret_keys
    result = StackConfig()
    lines: dict[str, int] = {}
    for key, node, line in reader.pairs(section) if section is not None else []:
        full_key = project.full_key(key)
        if full_key in lines:
            raise reader.error(line, f"{full_key} is set twice (lines {lines[full_key]} and {line}, with and "
                                     f"without the {project.name}: prefix): keep one")
        lines[full_key] = line
        result.explicit.add(full_key)
        value = reader.value(node)
        if isinstance(value, dict) and "secure" in value:
            _check_ciphertext(reader, line, full_key, value)
            result.config[full_key] = SECRET_PLACEHOLDER
            result.secret_keys.append(full_key)
            continue
        if full_key in declared_secret:
            raise reader.error(line, f"{full_key} is declared secret in Pulumi.yaml but set in plain text: remove "
                                     f"the line and run pulumi config set --secret {full_key} <value>")
        _check_plain(reader, node, line, full_key, value, project)
        result.config[full_key] = _engine_text(value)
        result.values[full_key] = value if isinstance(value, (list, dict)) else result.config[full_key]
    for key in declared_secret if project.is_platform else ():
        if key not in result.config:
            result.config[key] = SECRET_PLACEHOLDER
            result.secret_keys.append(key)
    return result


def read_mapping(path: Path, relative: str) -> dict[str, Any]:
    """A YAML mapping file (``Pulumi.yaml``) read as strictly as a stack file, as plain values."""
    reader = _Reader(relative)
    document = reader.compose(_read_text(path, relative))
    if document is None:
        return {}
    if not isinstance(document, MappingNode):
        raise reader.error(document, "expected a mapping of key: value lines")
    return reader.value(document)


def _read_text(path: Path, relative: str) -> str:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(f"{relative} is {path.stat().st_size} bytes, more than a stack file needs "
                              f"({MAX_BYTES}): keep only config: key: value lines in it.")
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{relative} cannot be read ({error.strerror}): check its permissions.") from None
    try:
        # The engine reads UTF-8; a UTF-8 byte-order mark is tolerated, UTF-16 (PowerShell's >) is not.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{relative} is not UTF-8 text: save it as UTF-8 (PowerShell: Set-Content -Encoding "
                          "utf8).") from None
    # The YAML scanner reads a flow line ([...], {...}) whole before it yields its first event, so one long line
    # of brackets costs seconds before the depth check can stop it: long lines are refused before it sees them.
    longest = max(enumerate(text.splitlines(), start=1), key=lambda numbered: len(numbered[1]), default=(0, ""))
    if len(longest[1]) > MAX_LINE:
        raise ConfigError(f"{relative}: line {longest[0]} is {len(longest[1])} characters long, more than a stack "
                          f"file needs ({MAX_LINE}): split the value over several lines or shorten it.")
    return text


def _section(reader: _Reader, document: Node | None, name: str) -> MappingNode | None:
    if document is None:
        return None
    if not isinstance(document, MappingNode):
        raise reader.error(document, "expected a mapping with a config: section")
    node = {key: value for key, value, _ in reader.pairs(document)}.get(name)
    if node is None or (isinstance(node, ScalarNode) and str(node.tag) == _NULL):
        return None
    if not isinstance(node, MappingNode):
        raise reader.error(node, f"{name} must be a mapping of key: value lines")
    return node


def _check_ciphertext(reader: _Reader, line: int, key: str, value: dict[str, Any]) -> None:
    """``secure:`` must hold what ``pulumi config set --secret`` writes: base64 ciphertext, optionally
    ``v1:<nonce>:<ciphertext>`` (the passphrase provider). The engine fails to decrypt anything else."""
    secure = value.get("secure")
    parts = secure.removeprefix("v1:").split(":") if isinstance(secure, str) else []
    if set(value) != {"secure"} or not parts or not all(_is_base64(part) for part in parts):
        raise reader.error(line, f"{key} has a secure: value that is not Pulumi ciphertext: set it with "
                                 f"pulumi config set --secret {key} <value>")


def _is_base64(text: str) -> bool:
    try:
        return bool(text) and bool(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return False


def _check_plain(reader: _Reader, node: Node, line: int, key: str, value: Any, project: Project) -> None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        raise reader.error(line, f"{key} has no value: set one or remove the line")
    if _is_string_key(key, project) and isinstance(node, ScalarNode) and str(node.tag) in _KINDS:
        text = elide(node.value)
        raise reader.error(line, f"{key} = {text} is read as {_KINDS[str(node.tag)]} by YAML 1.2 (as Pulumi reads "
                                 f"it): quote it, {key}: \"{text}\"")


def _is_string_key(key: str, project: Project) -> bool:
    if key in project.kinds:
        return project.kinds[key] == "string"
    namespace, _, name = key.partition(":")
    return namespace in provider_keys.PROVIDERS and provider_keys.provider_keys(namespace).get(name) == "string"


def _engine_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return str(value)


def _one_line(text: object) -> str:
    return elide(" ".join(str(text).split()))
