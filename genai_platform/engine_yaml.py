"""YAML as the Pulumi engine reads Pulumi.yaml and stack files: YAML 1.2 (Go), strictly, within bounds.

PyYAML is YAML 1.1 (``yes`` is a boolean, ``1.10`` the number 1.1) and lets a duplicate key win; this module uses
ruamel.yaml's YAML 1.2 reading, walks the composed nodes itself and refuses, with one line naming the file, line and
fix: duplicate keys, keys that are not strings, merge keys, custom tags, and more than :data:`MAX_NODES` values after
alias expansion, nesting deeper than :data:`MAX_DEPTH`, a file over :data:`MAX_BYTES` or a line over
:data:`MAX_LINE` (a few lines of nested aliases must not expand into gigabytes, nor a long line keep the scanner
busy for seconds). What the values mean is :mod:`genai_platform.stack_file`'s and :mod:`genai_platform.project`'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from genai_platform.stacks.config import ConfigError, elide

MAX_BYTES = 64 * 1024
MAX_LINE = 16 * 1024
MAX_NODES = 10_000
MAX_DEPTH = 20
_STR, _NULL, _MERGE = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:merge"
_CORE = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}
KINDS = {"tag:yaml.org,2002:int": "a number", "tag:yaml.org,2002:float": "a number",
         "tag:yaml.org,2002:bool": "a boolean", "tag:yaml.org,2002:timestamp": "a date"}
"""What YAML 1.2 reads an unquoted scalar of each tag as, in the words of an error line."""


class Reader:
    """One file's YAML, composed within the limits; its errors name the file and line."""

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
            raise ConfigError(f"{self.relative} is not valid YAML ({one_line(error)}): fix the syntax.") from None

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
            raise self.error(node, f"{elide(repr(node.value))} looks like {KINDS.get(str(node.tag), 'a value')} but is "
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



def read_mapping(path: Path, relative: str) -> dict[str, Any]:
    """A YAML mapping file (``Pulumi.yaml``) read as strictly as a stack file, as plain values."""
    reader = Reader(relative)
    document = reader.compose(read_text(path, relative))
    if document is None:
        return {}
    if not isinstance(document, MappingNode):
        raise reader.error(document, "expected a mapping of key: value lines")
    return reader.value(document)


def read_text(path: Path, relative: str) -> str:
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


def section(reader: Reader, document: Node | None, name: str) -> MappingNode | None:
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



def engine_text(value: Any) -> str:
    """``createConfigValue``: a scalar as Go's ``%v`` prints it, anything else as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return json.dumps(value, default=str)


def one_line(text: object) -> str:
    return elide(" ".join(str(text).split()))
