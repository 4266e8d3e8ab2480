"""Read a stack file (``stacks/Pulumi.<env>.yaml``, or another project's ``Pulumi.<stack>.yaml``) into the config the
engine hands the program, and refuse what the engine refuses (or worse), in one line naming file, line, key and fix.

The YAML itself is read as the engine reads it (YAML 1.2, duplicate keys, tags and size limits refused:
:mod:`genai_platform.engine_yaml`); here are the values' rules:

* ``null`` values, and a string setting written as a number, boolean or date (``releaseTag: 1.10`` would deploy
  tag ``1.1``),
* a ``secure:`` value that is not ciphertext, and a plaintext value for a key Pulumi.yaml declares secret,
* Pulumi.yaml's declarations: defaults fill unset keys, a required key left unset or a value of the wrong type
  is refused in the engine's words.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.nodes import Node, ScalarNode

from genai_platform.engine_yaml import KINDS, Reader, engine_text, read_text, section
from genai_platform.project import Project, matches_type
from genai_platform.stacks import provider_keys
from genai_platform.stacks.config import ConfigError, elide

SECRET_PLACEHOLDER = "OfflinePlaceholderSecret-0000"
"""Stands in for every ``secure:`` value offline: the real one is never decrypted or printed."""


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
    reader = Reader(relative)
    document = reader.compose(read_text(path, relative))
    config_section = section(reader, document, "config")
    declared_secret = project.secret_keys
    result = StackConfig()
    lines: dict[str, int] = {}
    for key, node, line in reader.pairs(config_section) if config_section is not None else []:
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
        result.config[full_key] = engine_text(value)
        result.values[full_key] = value if isinstance(value, (list, dict)) else result.config[full_key]
    for key in declared_secret if project.is_platform else ():
        if key not in result.config:
            result.config[key] = SECRET_PLACEHOLDER
            result.secret_keys.append(key)
    return result


def _check_ciphertext(reader: Reader, line: int, key: str, value: dict[str, Any]) -> None:
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


def _check_plain(reader: Reader, node: Node, line: int, key: str, value: Any, project: Project) -> None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        raise reader.error(line, f"{key} has no value: set one or remove the line")
    if _is_string_key(key, project) and isinstance(node, ScalarNode) and str(node.tag) in KINDS:
        text = elide(node.value)
        raise reader.error(line, f"{key} = {text} is read as {KINDS[str(node.tag)]} by YAML 1.2 (as Pulumi reads "
                                 f"it): quote it, {key}: \"{text}\"")


def _is_string_key(key: str, project: Project) -> bool:
    if key in project.kinds:
        return project.kinds[key] == "string"
    namespace, _, name = key.partition(":")
    return namespace in provider_keys.PROVIDERS and provider_keys.provider_keys(namespace).get(name) == "string"


def apply_project_config(project: Project, stack: str, stack_config: StackConfig) -> StackConfig:
    """The config the engine hands the program: the stack file's values, then Pulumi.yaml's defaults and values
    for the keys it does not set; a required key left unset, or a value of the wrong type, refused in the engine's
    words (``ValidateStackConfigAndApplyProjectConfig``)."""
    config, explicit = dict(stack_config.config), set(stack_config.explicit)
    missing = []
    for declared in sorted(project.declared, key=lambda d: d.written):
        if declared.key in config:
            continue
        if declared.required:
            if declared.key.startswith(f"{project.name}:"):
                missing.append(declared.written)
            continue
        config[declared.key] = engine_text(declared.value if declared.value is not None else declared.default)
    relative = project.relative(project.stack_file(stack))
    if missing:
        first = next(d for d in project.declared if d.written == min(missing))
        raise ConfigError(f"{relative}: Stack '{stack}' is missing configuration value{'s' if len(missing) > 1 else ''} "
                          f"{_quoted_list(missing)}: set {'each' if len(missing) > 1 else 'it'}, e.g. pulumi config set"
                          f"{' --secret' if first.secret else ''} {first.key} <value>.")
    for declared in sorted(project.declared, key=lambda d: d.written):
        if declared.type is None or declared.key not in stack_config.values:
            continue  # secure: values cannot be decrypted offline, so only plain ones are type-checked
        if not matches_type(declared.type, declared.items, stack_config.values[declared.key]):
            raise ConfigError(f"{relative}: Stack '{stack}' with configuration key '{declared.written}' must be of "
                              f"type '{declared.type_name()}': set {_a(declared.type_name())} value.")
    return StackConfig(config=config, secret_keys=list(stack_config.secret_keys), explicit=explicit,
                       values=dict(stack_config.values))


def _quoted_list(keys: list[str]) -> str:
    """``formatMissingKeys``: 'a', 'b' and 'c'."""
    keys = sorted(keys)
    if len(keys) == 1:
        return f"'{keys[0]}'"
    return ", ".join(f"'{key}'" for key in keys[:-1]) + f" and '{keys[-1]}'"


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"
