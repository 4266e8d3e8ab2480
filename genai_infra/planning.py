"""The offline plan: run the real stack program with a stack's config under recording mocks."""

import json
import runpy
from pathlib import Path
from typing import Any

import yaml

from genai_infra.mockcloud import Plan, run_under_mocks
from stacks.config import PROJECT, ConfigError, EnvConfig, load

SECRET_PLACEHOLDER = "OfflinePlaceholderSecret-0000"
"""Stands in for every ``secure:`` value offline: the real one is never decrypted or printed."""


def project_dir(start: Path | None = None) -> Path:
    """The checkout holding ``Pulumi.yaml``: the nearest one above ``start`` (default: cwd)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file() and (folder / "stacks").is_dir():
            return folder
    raise ConfigError(f"no Pulumi.yaml with a stacks/ folder in {here} or above: run genai-infra from the checkout "
                      "or pass --project-dir.")


def stack_names(root: Path) -> list[str]:
    """Stacks that have a ``stacks/Pulumi.<name>.yaml``."""
    return sorted(path.name[len("Pulumi."):-len(".yaml")] for path in (root / "stacks").glob("Pulumi.*.yaml"))


def read_stack_config(root: Path, stack: str) -> tuple[dict[str, str], list[str]]:
    """The flat config Pulumi would pass to the program, and its secret keys.

    Values are strings as the engine passes them (numbers and booleans as text, lists as JSON).
    ``secure:`` values, and secret keys declared in Pulumi.yaml but not set, get a placeholder.
    """
    relative = f"stacks/Pulumi.{stack}.yaml"
    path = root / relative
    if not path.is_file():
        known = ", ".join(stack_names(root)) or "none"
        raise ConfigError(f"{relative} does not exist: create it, or plan one of the stacks that exist ({known}).")
    raw = _load_yaml(path, relative).get("config") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{relative}: config must be a mapping of key: value lines.")

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full_key = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, dict) and "secure" in value:
            config[full_key] = SECRET_PLACEHOLDER
            secret_keys.append(full_key)
        else:
            config[full_key] = _engine_text(value)
    for key in _declared_secret_keys(root):
        if key not in config:
            config[key] = SECRET_PLACEHOLDER
            secret_keys.append(key)
    return config, secret_keys


def stack_settings(stack: str, root: Path) -> EnvConfig:
    """The validated settings of ``stack`` (budgets, tier...) as the program sees them."""
    return load(read_stack_config(root, stack)[0], stack, f"stacks/Pulumi.{stack}.yaml")


def plan_stack(stack: str, root: Path | None = None) -> Plan:
    """Run ``stacks/__main__.py`` for ``stack`` under mocks. Raises ConfigError for bad config."""
    root = root or project_dir()
    config, secret_keys = read_stack_config(root, stack)
    program = str(root / "stacks" / "__main__.py")
    return run_under_mocks(lambda: runpy.run_path(program, run_name="__main__"), project=PROJECT, stack=stack,
                           config=config, secret_keys=secret_keys)


def _load_yaml(path: Path, relative: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{relative}:{where} is not valid YAML ({getattr(error, 'problem', error)}): fix the syntax.") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{relative}: expected a mapping with a config: section.")
    return document


def _engine_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _declared_secret_keys(root: Path) -> list[str]:
    declared = (_load_yaml(root / "Pulumi.yaml", "Pulumi.yaml").get("config") or {})
    return [key for key, spec in declared.items() if isinstance(spec, dict) and spec.get("secret")]
