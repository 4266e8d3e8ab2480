"""What a planned stack is held against: the policy pack's levels and the monthly budget.

The platform's own stacks take both from their tier (``policies/config.<tier>.json``; ``monthlyBudgetUsd`` +
``gcpMonthlyBudgetUsd``). Another team's project chooses, first match wins:

* levels: ``--policy-config FILE`` (a ``--policy-pack-config`` document, read as the engine reads one), else a
  tier's preset (``--tier``, else the project's ``<project>:tier`` key), else the pack's own levels, as the served
  pack enforces them without a config file: the environment is the stack name when it is dev, staging or prod,
  and prod (the strictest) otherwise (``genai_platform.policies.registry.environment_from_process``: the engine starts the pack
  with ``PULUMI_STACK`` set, pulumi/pulumi pkg/resource/plugin/analyzer_plugin.go, pkg v3.259 commit 1b59498);
* budget: ``--budget-key KEY``, else ``<project>:monthlyBudgetUsd`` when set, else none (priced, never exit 4).
"""

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genai_platform import planning, policy_check
from genai_platform.project import Project
from genai_platform.stack_file import StackConfig
from genai_platform.policies import ALL_RULES
from genai_platform.policies.registry import Rule, environment_from_process
from genai_platform.stacks.config import TIERS, ConfigError, EnvConfig, elide

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
"""The engine's valid enforcement levels (``apitype.EnforcementLevel.IsValid``)."""
MAX_POLICY_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Gates:
    """The pack's environment and config, and the budget, with the reason each was chosen (for the report)."""

    environment: str
    policy_config: Mapping[str, Any] | None
    """The ``--policy-pack-config`` document; ``None``: the pack's own levels (no ``Configure``)."""
    levels: str
    """Where the levels came from, in words."""
    budget: float | None
    budget_source: str

    def to_json(self) -> dict[str, Any]:
        return {"policy_environment": self.environment, "policy_levels": self.levels, "budget": self.budget,
                "budget_source": self.budget_source}


@dataclass(frozen=True)
class Choices:
    """The command line's choices (each ``None`` when not given); a policy config file is read (and refused) before
    any stack is planned."""

    tier: str | None = None
    policy_config: tuple[dict[str, Any], str] | None = None
    """The ``--policy-config`` document and how the report names it."""
    budget_key: str | None = None

    @classmethod
    def read(cls, tier: str | None, policy_config: Path | None, budget_key: str | None) -> "Choices":
        return cls(tier, read_policy_config(policy_config) if policy_config else None, budget_key)

    def refuse_for_platform(self) -> None:
        given = [flag for flag, value in (("--tier", self.tier), ("--budget-key", self.budget_key)) if value]
        if given:
            raise ConfigError(f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} for another team's "
                              "project: the platform's stacks take their tier and budget from genai-platform:tier and "
                              "monthlyBudgetUsd in the stack file.")


def platform_gates(settings: EnvConfig, choices: Choices) -> Gates:
    """The platform's stacks: their tier's shipped config (or ``--policy-config``), both clouds' budgets."""
    config, levels = choices.policy_config or (
        policy_check.load_config(settings.tier), f"tier {settings.tier} (policies/config.{settings.tier}.json)")
    return Gates(settings.tier, config, levels, settings.monthly_budget_usd + settings.gcp_monthly_budget_usd,
                 "genai-platform:monthlyBudgetUsd + genai-platform:gcpMonthlyBudgetUsd")


def project_gates(project: Project, stack: str, config: StackConfig, choices: Choices) -> Gates:
    """Another team's stack: see the module's docstring for the order of the choices."""
    file = project.relative(project.stack_file(stack))
    tier_key = f"{project.name}:tier"
    tier = choices.tier or config.config.get(tier_key)
    if tier is not None and tier not in TIERS:
        where = "--tier" if choices.tier else f"{file}: {tier_key}"
        raise ConfigError(f"{where} = {elide(repr(tier))} is not a tier: use one of {', '.join(TIERS)} (its "
                          "policies/config.<tier>.json levels apply), or remove it for the pack's own levels.")
    if choices.policy_config:
        policy_config, levels = choices.policy_config
        environment = tier or environment_from_process({"PULUMI_STACK": stack})
    elif tier:
        environment = tier
        policy_config = policy_check.load_config(tier)
        source = "--tier" if choices.tier else tier_key
        levels = f"tier {tier} from {source} (policies/config.{tier}.json)"
    else:
        environment, policy_config = environment_from_process({"PULUMI_STACK": stack}), None
        levels = (f"the pack's own levels for {environment} (no policy config; "
                  + ("the stack's name)" if environment == stack else "a stack not named dev, staging or prod gets "
                                                                       "prod's)"))
    budget, budget_source = _budget(project, file, config, choices.budget_key)
    return Gates(environment, policy_config, levels, budget, budget_source)



def stack_gates(project: Project, stack: str, choices: Choices) -> Gates:
    """The gates of ``project``'s ``stack``: the platform's tier, or another team's choices and config."""
    if project.is_platform:
        return platform_gates(planning.stack_settings(stack, project.root), choices)
    return project_gates(project, stack, planning.stack_config(project, stack), choices)


def _budget(project: Project, file: str, config: StackConfig, key: str | None) -> tuple[float | None, str]:
    default = f"{project.name}:monthlyBudgetUsd"
    if key is None and default not in config.config:
        return None, "none (no --budget-key, no " + default + ")"
    key = project.full_key(key or default)
    if key not in config.config:
        raise ConfigError(f"{file}: --budget-key {key} is not set: set it (pulumi config set {key} 500) or name "
                          "another key.")
    text = config.config[key]
    if key in config.secret_keys:
        raise ConfigError(f"{file}: --budget-key {key} is a secret, which the offline plan cannot read: name a "
                          "plain key.")
    try:
        amount = float(text)
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount) or amount <= 0:
        raise ConfigError(f"{file}: {key} = {elide(repr(text))} is invalid: the budget is a monthly amount in USD: "
                          "use a number above 0, e.g. 500.")
    return amount, key


def read_policy_config(path: Path) -> tuple[dict[str, Any], str]:
    """A ``--policy-pack-config`` document, refused where the engine refuses it (pkg/resource/analyzer/config.go
    ``parsePolicyPackConfig``: a JSON object of a level or an object with an optional valid ``enforcementLevel`` per
    policy) or where it would silently do nothing (a policy name the pack does not have)."""
    shown = str(path)
    try:
        if path.stat().st_size > MAX_POLICY_CONFIG_BYTES:
            raise ConfigError(f"--policy-config {shown} is larger than a policy config needs "
                              f"({MAX_POLICY_CONFIG_BYTES} bytes): keep one entry per policy.")
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ConfigError(f"--policy-config {shown} cannot be read ({error.strerror}): check the path.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--policy-config {shown} is not UTF-8 text: save it as UTF-8.") from None
    try:
        document = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise ConfigError(f"--policy-config {shown}: line {error.lineno} is not valid JSON ({error.msg}): fix the "
                          "syntax.") from None
    if not isinstance(document, dict):
        raise ConfigError(f"--policy-config {shown} is not a JSON object: write {{\"<policy>\": \"advisory\", ...}}.")
    if "environments" in document:
        raise ConfigError(f"--policy-config {shown}: \"environments\" (Pulumi ESC) cannot be resolved offline: "
                          "write the values into the file.")
    rules = {rule.name: rule for rule in ALL_RULES}
    names = ["all", *rules]
    for name, value in document.items():
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            raise ConfigError(f"--policy-config {shown}: {elide(repr(name))} is not a policy of the pack"
                              + (f": did you mean {close[0]!r}?" if close else ": see docs/policies.md."))
        level = value if isinstance(value, str) else value.get("enforcementLevel") if isinstance(value, dict) else 0
        if level == 0:
            raise ConfigError(f"--policy-config {shown}: {name}: {elide(json.dumps(value))} is not a valid value; "
                              "must be a string or object.")
        if level is not None and level not in LEVELS:
            raise ConfigError(f"--policy-config {shown}: {name}: {elide(repr(level))} is not a valid enforcement "
                              f"level: use one of {', '.join(LEVELS)}.")
        if isinstance(value, dict) and name in rules:
            _check_settings(shown, name, {k: v for k, v in value.items() if k != "enforcementLevel"}, rules[name])
    return document, f"--policy-config {shown}"


def _check_settings(shown: str, name: str, settings: dict[str, Any], rule: Rule) -> None:
    """A policy's settings against its config schema, as the engine validates them (``validatePolicyConfig``: the
    schema's properties in an object schema, checked by a JSON schema validator) before the pack is configured."""
    import jsonschema  # only when a policy config is given

    schema = {"type": "object", "properties": rule.config_schema().properties}
    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(settings))
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path) or "(settings)"
        raise ConfigError(f"--policy-config {shown}: {name}: {where}: {elide(error.message)}: fix the value (see "
                          "docs/policies.md).")
