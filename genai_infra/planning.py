"""The offline plan: run the real stack program with a stack's config under recording mocks.

Everything the user can get wrong is refused before the program runs (the stack file, the typed config,
the instance-type and region catalogue); a component that still refuses an argument the config produced is
traced back to the config key that fed it, so every failure names the file and the key.
"""

import json
import re
import runpy
from pathlib import Path

from genai_infra.catalogue import check_catalogue
from genai_infra.cost.prices import load_prices
from genai_infra.mockcloud import Plan, run_under_mocks
from genai_infra.stack_file import SECRET_PLACEHOLDER, StackConfig, read_stack_file, stack_names
from stacks.config import PROJECT, SETTINGS, ConfigError, EnvConfig, elide, load, snake_case

__all__ = ["SECRET_PLACEHOLDER", "plan_stack", "project_dir", "read_stack_config", "stack_names", "stack_settings"]

MAX_COMPONENT_MESSAGE = 400
"""Characters of a component's own message kept in the one error line."""


def project_dir(start: Path | None = None) -> Path:
    """The checkout holding ``Pulumi.yaml``: the nearest one above ``start`` (default: cwd)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file() and (folder / "stacks").is_dir():
            return folder
    raise ConfigError(f"no Pulumi.yaml with a stacks/ folder in {here} or above: run genai-infra from the checkout "
                      "or pass --project-dir.")


def config_file(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


def read_stack_config(root: Path, stack: str) -> tuple[dict[str, str], list[str]]:
    """The flat config Pulumi would pass to the program for ``stack``, and its secret keys (for tests and
    tools that run the program themselves, e.g. with overrides)."""
    stack_config = read_stack_file(root, stack)
    return stack_config.config, stack_config.secret_keys


def stack_settings(stack: str, root: Path) -> EnvConfig:
    """The validated settings of ``stack`` (budgets, tier...) as the program sees them."""
    return load(read_stack_file(root, stack).config, stack, config_file(stack))


def plan_stack(stack: str, root: Path | None = None, warnings: list[str] | None = None) -> Plan:
    """Run ``stacks/__main__.py`` for ``stack`` under mocks.

    Raises :class:`ConfigError` for anything the user fixes in the stack file, including a component's
    ``ValueError`` (traced to the config key). The program's warnings go to ``warnings`` when given.
    """
    root = root or project_dir()
    stack_config = read_stack_file(root, stack)
    settings = load(stack_config.config, stack, config_file(stack))
    check_catalogue(settings, config_file(stack), load_prices())
    program = str(root / "stacks" / "__main__.py")
    try:
        return run_under_mocks(lambda: runpy.run_path(program, run_name="__main__"), project=PROJECT, stack=stack,
                               config=stack_config.config, secret_keys=stack_config.secret_keys,
                               warnings=warnings)
    except ValueError as error:
        raise trace_to_config(error, stack_config, settings, config_file(stack)) from None


def trace_to_config(error: ValueError, stack_config: StackConfig, settings: EnvConfig, file: str) -> ConfigError:
    """The config key whose value the component's message names (keys the file sets win over presets)."""
    message = " ".join(str(error).split())
    if len(message) > MAX_COMPONENT_MESSAGE:
        message = message[:MAX_COMPONENT_MESSAGE] + "..."
    fed = [setting.key for setting in SETTINGS
           if not setting.secret and _mentions(message, getattr(settings, snake_case(setting.key)))]
    fed.sort(key=lambda key: f"{PROJECT}:{key}" not in stack_config.explicit)
    if not fed:
        return ConfigError(f"{file}: a component refused what the config produced: {message}")
    key = fed[0]
    value = getattr(settings, snake_case(key))
    shown = elide(json.dumps(value) if isinstance(value, list) else repr(value))
    return ConfigError(f"{file}: {PROJECT}:{key} = {shown} was refused by a component: {message}")


def _mentions(message: str, value: object) -> bool:
    """Whether ``message`` names ``value`` (a string or any list item of 2+ characters, as a whole word)."""
    items = value if isinstance(value, list) else [value]
    return any(isinstance(item, str) and len(item) >= 2
               and re.search(rf"(?<![\w.-]){re.escape(item)}(?![\w-])", message) for item in items)
