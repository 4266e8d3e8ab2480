"""Run the CrossGuard pack's rules over an offline plan, as the engine would during a preview.

The same ``pulumi_policy`` policy objects the pack serves (``policies.build_policies``) get
``ResourceValidationArgs`` for every recorded resource and one ``StackValidationArgs`` for the
whole plan. Like the engine, resource policies see every registration: custom resources,
components (``eks:index:Cluster`` shows its inputs offline) and the stack root; each rule filters
by type itself.

``config`` takes the ``--policy-pack-config`` document shape, so ``policies/config.<env>.json``
can be passed as loaded::

    {"all": "advisory", "<rule>": "disabled", "<rule>": {"enforcementLevel": "mandatory", "<setting>": ...}}
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from genai_infra.mockcloud.plan import Plan, RecordedResource
from policies import ALL_RULES, Rule
from policies.registry import build_policy

CONFIG_DIR = Path(__file__).resolve().parent.parent / "policies"
# Mock state keeps secrets wrapped in the engine's signature envelope; stack rules must not read them.
_SIG_KEY, _SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


@dataclass
class PolicyReport:
    """What the rules found in one plan."""

    environment: str
    rules: int
    """How many rules ran (rules disabled by config are not counted)."""
    violations: list[dict[str, str]] = field(default_factory=list)
    """Each ``{"policy", "enforcement", "urn", "message"}``; ``urn`` is "" for the stack as a whole."""

    @property
    def mandatory_violations(self) -> list[dict[str, str]]:
        return [v for v in self.violations if v["enforcement"] == "mandatory"]

    @property
    def advisory_violations(self) -> list[dict[str, str]]:
        return [v for v in self.violations if v["enforcement"] == "advisory"]

    def to_json(self) -> dict[str, Any]:
        return {"rules": self.rules, "violations": list(self.violations)}


def load_config(environment: str, directory: Path = CONFIG_DIR) -> dict[str, Any]:
    """The shipped ``policies/config.<environment>.json`` (what CI passes to ``--policy-pack-config``)."""
    return json.loads((directory / f"config.{environment}.json").read_text())


def _entry(config: Mapping[str, Any], name: str) -> tuple[str | None, dict[str, Any]]:
    """(enforcement level, settings) a config document gives one rule, as the engine reads it."""
    level, settings = None, {}
    for key in ("all", name):
        value = config.get(key)
        if isinstance(value, str):
            level = value
        elif isinstance(value, Mapping):
            level = value.get("enforcementLevel", level)
            if key == name:
                settings = {k: v for k, v in value.items() if k != "enforcementLevel"}
    return level, settings


def _options(resource: RecordedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=resource.protect, ignore_changes=[], delete_before_replace=None,
                                 aliases=[], custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
                                 additional_secret_outputs=[], parent=resource.parent)


def _hide_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return "[secret]"
        return {k: _hide_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_secrets(v) for v in value]
    return value


def _stack_resources(plan: Plan) -> list[PolicyResource]:
    """The plan as the engine hands it to stack policies: state (inputs plus computed outputs), linked."""
    by_urn: dict[str, PolicyResource] = {}
    for recorded in plan.resources:
        props = {**_hide_secrets(recorded.outputs), **recorded.inputs}
        by_urn[recorded.urn] = PolicyResource(recorded.type, props, recorded.urn, recorded.name, _options(recorded),
                                              None, None, [], {})
    for recorded in plan.resources:
        resource = by_urn[recorded.urn]
        resource.parent = by_urn.get(recorded.parent) if recorded.parent else None
        resource.dependencies = [by_urn[urn] for urn in recorded.dependencies if urn in by_urn]
    return list(by_urn.values())


def _collector(report: PolicyReport, policy: str, level: str, resource_urn: str | None = None):
    """The ``report_violation`` callback the policy gets; it records into ``report``."""

    def report_violation(message: str, urn: str | None = None) -> None:
        report.violations.append({"policy": policy, "enforcement": level, "urn": resource_urn or urn or "",
                                  "message": message})

    return report_violation


def evaluate(plan: Plan, environment: str, config: Mapping[str, Any] | None = None,
             rules: tuple[Rule, ...] = ALL_RULES) -> PolicyReport:
    """Check ``plan`` against every rule for ``environment`` and collect the violations.

    ``config`` overrides levels and settings like ``--policy-pack-config``; ``None`` means each
    rule's own defaults for the environment (identical to ``policies/config.<environment>.json``).
    """
    config = config or {}
    report = PolicyReport(environment=environment, rules=0)
    stack_resources = _stack_resources(plan)
    for rule in rules:
        level, settings = _entry(config, rule.name)
        level = level or rule.enforcement_for(environment)
        if level == "disabled":
            continue
        report.rules += 1
        if level == "remediate":  # the engine reports remediation policies' violations as mandatory
            level = "mandatory"
        policy = build_policy(rule, environment)
        rule_config = {**settings, "environment": environment}

        if isinstance(policy, ResourceValidationPolicy):
            for recorded in plan.resources:
                args = ResourceValidationArgs(recorded.type, recorded.inputs, recorded.urn, recorded.name,
                                              _options(recorded), None, config=rule_config)
                # Like the engine, a resource policy's violations belong to the resource validated.
                policy.validate(args, _collector(report, rule.name, level, recorded.urn))
        else:
            policy.validate(StackValidationArgs(stack_resources, config=rule_config),
                            _collector(report, rule.name, level))
    return report


def render_text(report: PolicyReport) -> str:
    """A plain-text report: one block per violation, mandatory first, then a summary line."""
    severity = {rule.name: rule.severity for rule in ALL_RULES}
    lines = []
    for violation in [*report.mandatory_violations, *report.advisory_violations]:
        where = violation["urn"].rsplit("::", 1)[-1] if violation["urn"] else "(stack)"
        lines.append(f"[{violation['enforcement']}] {violation['policy']} ({severity.get(violation['policy'], '?')}) "
                     f"{where}")
        lines.append(f"    {violation['message']}")
    lines.append(f"policies ({report.environment}): {report.rules} rules, "
                 f"{len(report.mandatory_violations)} mandatory and {len(report.advisory_violations)} advisory "
                 f"violations")
    return "\n".join(lines)
