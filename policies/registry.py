"""The rule registry: one :class:`Rule` per policy, usable by the real pack and offline.

A rule is a plain function plus metadata. The same function runs

* inside ``pulumi preview --policy-pack policies`` (``policies/__main__.py`` wraps every rule in a
  ``pulumi_policy.ResourceValidationPolicy`` / ``StackValidationPolicy`` via :func:`build_policies`), and
* in ``genai-infra plan`` (``genai_platform.policy_check`` hands the same policy objects to pulumi_policy's
  analyzer servicer in-process, with the Analyzer requests the engine would send for the offline plan).

Rule functions receive the pulumi_policy args object and a :class:`RuleContext` (environment and
settings read from the policy's config) and *yield* what is wrong; the wrapper appends the
remediation and reports it. Resource rules yield strings, stack rules ``(urn or None, message)``.
The wrapper hands rules their props through :func:`genai_platform.policies.values.engine_view`, so numbers read as
written (``22``, not the ``22.0`` protobuf delivers) while unknown values still raise.
"""

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from genai_platform.policies.values import engine_view, plain

ENVIRONMENTS = ("dev", "staging", "prod")
"""The environments (= stack names) the platform deploys; unknown names are treated as ``prod``."""

STRICTEST_ENVIRONMENT = "prod"
"""Where a rule runs when nobody said which environment it is: fail closed, not open."""

Level = Literal["mandatory", "advisory", "disabled"]
Levels = Mapping[str, Level]

MANDATORY: Levels = {"dev": "mandatory", "staging": "mandatory", "prod": "mandatory"}
"""Blocks a deployment everywhere: exposure, missing encryption, wildcard IAM."""
PROD_MANDATORY: Levels = {"dev": "advisory", "staging": "advisory", "prod": "mandatory"}
"""Resilience and cost-of-loss controls (Multi-AZ, deletion protection): a warning until prod."""
ADVISORY: Levels = {"dev": "advisory", "staging": "advisory", "prod": "advisory"}
"""Good practice worth a warning but not a blocked deployment (extra cost or effort)."""

SEVERITIES = ("low", "medium", "high", "critical")
_KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")

ResourceCheck = Callable[[ResourceValidationArgs, "RuleContext"], Iterable[str]]
StackCheck = Callable[[StackValidationArgs, "RuleContext"], Iterable[tuple[str | None, str]]]


@dataclass(frozen=True)
class Setting:
    """One configurable knob of a rule, exposed in the pack's config schema."""

    schema: dict[str, Any]
    """JSON schema of the value (``{"type": "integer", "minimum": 1}``), without a ``default``:
    the engine would inject a schema default into every environment, hiding the per-env ones."""
    default: Any
    """Value outside prod (and in prod unless ``prod`` is given)."""
    prod: Any = None
    """Stricter value for prod, when it differs."""
    description: str = ""

    def value_for(self, environment: str) -> Any:
        if environment == "prod" and self.prod is not None:
            return self.prod
        return self.default


@dataclass(frozen=True)
class RuleContext:
    """What a rule knows besides the resource: the environment and its effective settings."""

    environment: str
    settings: Mapping[str, Any]

    @property
    def prod(self) -> bool:
        return self.environment == "prod"

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]


@dataclass(frozen=True)
class Rule:
    """A policy: metadata plus the check function. Build with :func:`resource_rule` / :func:`stack_rule`."""

    name: str
    description: str
    """What must hold, ending with the checklist IDs it matches (checkov, cdk-nag AwsSolutions, awsguard)."""
    severity: Literal["low", "medium", "high", "critical"]
    levels: Levels
    remediation: str
    """The fix, naming the argument to set; appended to every violation message."""
    kind: Literal["resource", "stack"]
    check: Callable[..., Iterable[Any]]
    domain: str
    """The rule module (``s3``, ``iam``...), used for grouping in docs and pack tags."""
    types: tuple[str, ...] = ()
    """Resource types a resource rule looks at (documentation; the check filters itself)."""
    settings: Mapping[str, Setting] = field(default_factory=dict)

    def enforcement_for(self, environment: str) -> Level:
        return self.levels.get(environment, self.levels[STRICTEST_ENVIRONMENT])

    def settings_for(self, environment: str, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Effective settings: the pack's config wins over the per-environment defaults."""
        values = {key: setting.value_for(environment) for key, setting in self.settings.items()}
        values.update({k: v for k, v in (config or {}).items() if k in self.settings})
        return values

    def config_schema(self) -> PolicyConfigSchema:
        properties: dict[str, dict[str, Any]] = {
            "environment": {
                "type": "string",
                "enum": list(ENVIRONMENTS),
                "description": "Environment being deployed; selects per-environment thresholds. "
                               "Default: the stack name, else prod.",
            }
        }
        for key, setting in self.settings.items():
            properties[key] = {**setting.schema, "description": setting.description}
        return PolicyConfigSchema(properties=properties)


RULES: list[Rule] = []
"""Every registered rule, in registration order; ``genai_platform.policies.rules.ALL_RULES`` is the ordered, complete set."""


def _register(rule: Rule) -> Rule:
    if any(existing.name == rule.name for existing in RULES):
        raise ValueError(f"policy name {rule.name!r} is registered twice: policy names must be unique.")
    if not _KEBAB.match(rule.name):
        raise ValueError(f"policy name {rule.name!r} is not kebab-case: use lower-case words joined by '-'.")
    if rule.severity not in SEVERITIES:
        raise ValueError(f"severity={rule.severity!r} of {rule.name} is not one of {SEVERITIES}.")
    RULES.append(rule)
    return rule


def _domain_of(function: Callable) -> str:
    return function.__module__.rsplit(".", 1)[-1]


def resource_rule(*, name: str, types: Iterable[str], description: str, severity: str, levels: Levels,
                  remediation: str, settings: Mapping[str, Setting] | None = None) -> Callable[[ResourceCheck], Rule]:
    """Register a check that looks at one resource at a time (``ResourceValidationPolicy``)."""
    type_set = tuple(types)

    def register(check: ResourceCheck) -> Rule:
        def only_listed_types(args: ResourceValidationArgs, ctx: RuleContext) -> Iterable[str]:
            if type_set and args.resource_type not in type_set:
                return ()
            return check(args, ctx)

        return _register(Rule(name=name, description=description, severity=severity, levels=levels,  # type: ignore[arg-type]
                              remediation=remediation, kind="resource", check=only_listed_types,
                              domain=_domain_of(check), types=type_set, settings=dict(settings or {})))

    return register


def stack_rule(*, name: str, description: str, severity: str, levels: Levels, remediation: str,
               settings: Mapping[str, Setting] | None = None) -> Callable[[StackCheck], Rule]:
    """Register a check over all resources of the stack (``StackValidationPolicy``)."""

    def register(check: StackCheck) -> Rule:
        return _register(Rule(name=name, description=description, severity=severity, levels=levels,  # type: ignore[arg-type]
                              remediation=remediation, kind="stack", check=check, domain=_domain_of(check),
                              settings=dict(settings or {})))

    return register


def environment_from_process(environ: Mapping[str, str] | None = None) -> str:
    """The environment the pack runs for: the stack name the engine passes as ``PULUMI_STACK``.

    ``org/project/prod`` and ``prod`` both give ``prod``; anything else falls back to the strictest.
    """
    stack = (environ if environ is not None else os.environ).get("PULUMI_STACK", "")
    name = stack.rsplit("/", 1)[-1]
    return name if name in ENVIRONMENTS else STRICTEST_ENVIRONMENT


def context_for(rule: Rule, config: Mapping[str, Any] | None, fallback_environment: str) -> RuleContext:
    """The context one validation runs with, from the policy's config (``args.get_config()``)."""
    config = plain(config or {})  # the engine delivers config numbers as floats too
    environment = str(config.get("environment") or fallback_environment)
    return RuleContext(environment=environment, settings=rule.settings_for(environment, config))


def violation_message(rule: Rule, detail: str) -> str:
    """What a violation says: the finding, then the fix."""
    return f"{detail} Fix: {rule.remediation}"


def validator(rule: Rule, fallback_environment: str) -> Callable[[Any, Callable[..., None]], None]:
    """The ``validate`` callback pulumi_policy calls for this rule."""
    if rule.kind == "resource":
        def validate_resource(args: ResourceValidationArgs, report_violation: Callable[..., None]) -> None:
            ctx = context_for(rule, args.get_config(), fallback_environment)
            args.props = engine_view(args.props)
            for detail in rule.check(args, ctx):
                report_violation(violation_message(rule, detail))

        return validate_resource

    def validate_stack(args: StackValidationArgs, report_violation: Callable[..., None]) -> None:
        ctx = context_for(rule, args.get_config(), fallback_environment)
        for resource in args.resources:
            resource.props = engine_view(resource.props)
        for urn, detail in rule.check(args, ctx):
            report_violation(violation_message(rule, detail), urn)

    return validate_stack


def build_policy(rule: Rule, environment: str) -> Policy:
    """One pulumi_policy policy object for ``rule``, enforced at the level ``environment`` gets."""
    common = dict(
        name=rule.name,
        description=rule.description,
        validate=validator(rule, environment),
        enforcement_level=EnforcementLevel(rule.enforcement_for(environment)),
        config_schema=rule.config_schema(),
        severity=Severity(rule.severity),
        tags=[rule.domain],
        remediation_steps=rule.remediation,
    )
    if rule.kind == "resource":
        return ResourceValidationPolicy(**common)
    return StackValidationPolicy(**common)


def build_policies(environment: str, rules: Iterable[Rule]) -> list[Policy]:
    """Each rule as a pulumi_policy policy (the pack passes ``policies.ALL_RULES``)."""
    return [build_policy(rule, environment) for rule in rules]


def default_config(environment: str, rules: Iterable[Rule]) -> dict[str, dict[str, Any]]:
    """The ``--policy-pack-config`` document for one environment (what ``policies/config.<env>.json`` holds)."""
    config: dict[str, dict[str, Any]] = {}
    for rule in rules:
        config[rule.name] = {"enforcementLevel": rule.enforcement_for(environment), "environment": environment,
                             **rule.settings_for(environment)}
    return config
