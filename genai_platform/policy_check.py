"""Run the CrossGuard pack over an offline plan exactly as ``pulumi preview --policy-pack`` runs it.

The plan becomes the engine's Analyzer requests and pulumi_policy's own analyzer answers them
(:mod:`genai_platform.policy_analyzer`): one evaluation path, so rules see the proxies, floats, unknowns
and secrets the served pack sees. Like the engine, resource policies see every registration (custom
resources, components, providers, the stack root); each rule filters by type itself.

The plan is analyzed twice, because a deployment meets the pack twice: at a first preview, where
every value the provider computes is still unknown, and once values are known (the update, or a
preview of a stack that exists). The verdict is the union, never kinder than either; a rule that
cannot judge a value at preview leaves an advisory *note* (pulumi_policy's "can't run policy"),
and the known-values pass still judges it.

``config`` takes the ``--policy-pack-config`` document shape, so ``policies/config.<env>.json``
can be passed as loaded::

    {"all": "advisory", "<rule>": "disabled", "<rule>": {"enforcementLevel": "mandatory", "<setting>": ...}}
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2

from genai_platform.mockcloud.plan import Plan
from genai_platform.policy_analyzer import Finding, InProcessAnalyzer, analyze, engine_config, requests_for
from genai_platform.policies import ALL_RULES, PACK_DIR, Rule

CONFIG_DIR = PACK_DIR


@dataclass
class PolicyReport:
    """What the rules found in one plan."""

    environment: str
    rules: int
    """How many rules ran (rules disabled by config are not counted)."""
    violations: list[dict[str, str]] = field(default_factory=list)
    """Each ``{"policy", "enforcement", "urn", "message"}``; ``urn`` is "" for the stack as a whole."""
    notes: list[dict[str, str]] = field(default_factory=list)
    """Checks a first preview cannot make (a value unknown until the update), same shape."""

    @property
    def mandatory_violations(self) -> list[dict[str, str]]:
        return [v for v in self.violations if v["enforcement"] == "mandatory"]

    @property
    def advisory_violations(self) -> list[dict[str, str]]:
        return [v for v in self.violations if v["enforcement"] == "advisory"]

    def to_json(self) -> dict[str, Any]:
        return {"rules": self.rules, "violations": list(self.violations), "notes": list(self.notes)}


def load_config(environment: str, directory: Path = CONFIG_DIR) -> dict[str, Any]:
    """The shipped ``policies/config.<environment>.json`` (what CI passes to ``--policy-pack-config``)."""
    return json.loads((directory / f"config.{environment}.json").read_text())


def configured_analyzer(environment: str, config: Mapping[str, Any] | None,
                        rules: tuple[Rule, ...] = ALL_RULES) -> tuple[InProcessAnalyzer, int]:
    """The pack's analyzer for ``environment``, configured as the engine configures it; and how many rules run.

    Without ``config`` the engine sends no ``Configure`` and each rule keeps the pack's level and defaults.
    """
    analyzer = InProcessAnalyzer(environment, rules)
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    if config is None:
        return analyzer, len(info.policies)
    request = engine_config(config, info)
    analyzer.Configure(request)
    return analyzer, sum(entry.enforcementLevel != analyzer_pb2.DISABLED for entry in request.policyConfig.values())


PASSES = (False, True)
"""``preview`` of each analysis of a plan: known values, then a first preview."""


def evaluate(plan: Plan, environment: str, config: Mapping[str, Any] | None = None,
             rules: tuple[Rule, ...] = ALL_RULES) -> PolicyReport:
    """Check ``plan`` against every rule for ``environment`` and collect the violations.

    ``config`` overrides levels and settings like ``--policy-pack-config``; ``None`` means each
    rule's own defaults for the environment (identical to ``policies/config.<environment>.json``).
    """
    running, passes = analyzed(plan, environment, config, rules)
    return merged_report(environment, running, passes)


def analyzed(plan: Plan, environment: str, config: Mapping[str, Any] | None = None,
             rules: tuple[Rule, ...] = ALL_RULES) -> tuple[int, list[list[Finding]]]:
    """How many rules run for ``environment``, and what the analyzer finds in each pass of :data:`PASSES`."""
    analyzer, running = configured_analyzer(environment, config, rules)
    return running, [analyze(analyzer, requests_for(plan, preview=preview)) for preview in PASSES]


def merged_report(environment: str, rules: int, passes: Iterable[Iterable[Finding]]) -> PolicyReport:
    """One report from the findings of each pass: every violation and note once, in the order first seen."""
    report = PolicyReport(environment=environment, rules=rules)
    for findings in passes:
        for finding in findings:
            bucket = report.notes if finding.note else report.violations
            if finding.to_json() not in bucket:
                bucket.append(finding.to_json())
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
    if report.notes:
        lines.append(f"    {len(report.notes)} checks wait for values a first preview does not know "
                     f"(judged on known values above; see the JSON report's notes)")
    return "\n".join(lines)
