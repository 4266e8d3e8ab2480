"""``plan --format sarif``: the policy violations of planned stacks as SARIF 2.1.0, for code scanning.

One run per stack (``automationDetails.id`` ``genai-infra-plan/<stack>/``, so code scanning keeps one
category per stack), one result per violation: the rule id, ``error`` for a mandatory violation and
``warning`` for an advisory one, the message, the resource's URN as its logical location and, as its
physical location, the file and line of the code that created the resource (the ``sourcePosition`` the
SDK sends the engine). A violation of the stack as a whole points at the stack's config file.
"""

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from genai_platform.mockcloud import Plan
from genai_platform.policy_check import PolicyReport
from genai_platform.policies import ALL_RULES

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"mandatory": "error", "advisory": "warning"}
SRCROOT = "%SRCROOT%"


def document(planned: Iterable[tuple[Plan, PolicyReport]], root: Path,
             stack_file: Callable[[str], str] = lambda stack: f"stacks/Pulumi.{stack}.yaml") -> dict[str, Any]:
    """The SARIF log of every planned stack; ``root`` is the checkout paths are made relative to, ``stack_file``
    the stack file (relative to ``root``) a stack-wide violation points at."""
    return {"$schema": SCHEMA, "version": "2.1.0",
            "runs": [run(plan, report, root, stack_file(plan.stack)) for plan, report in planned]}


def run(plan: Plan, report: PolicyReport, root: Path, stack_file: str | None = None) -> dict[str, Any]:
    rules = {rule.name: rule for rule in ALL_RULES}
    violated = list(dict.fromkeys(v["policy"] for v in report.violations))
    sources = {resource.urn: resource.source for resource in plan.resources}
    return {
        "tool": {"driver": {
            "name": "genai-infra",
            "rules": [_rule_descriptor(name, rules.get(name)) for name in violated],
        }},
        "automationDetails": {"id": f"genai-infra-plan/{plan.stack}/"},
        "originalUriBaseIds": {SRCROOT: {"uri": root.resolve().as_uri() + "/"}},
        "results": [_result(violation, violated.index(violation["policy"]),
                            _location(violation["urn"], sources, stack_file or f"stacks/Pulumi.{plan.stack}.yaml", root))
                    for violation in report.violations],
    }


def _rule_descriptor(name: str, rule) -> dict[str, Any]:
    if rule is None:  # a rule of another pack than ours: known only by the name in the finding
        return {"id": name}
    return {"id": name, "shortDescription": {"text": rule.description.split(". ")[0].rstrip(".") + "."},
            "fullDescription": {"text": rule.description}, "help": {"text": rule.remediation},
            "properties": {"severity": rule.severity, "domain": rule.domain}}


def _result(violation: dict[str, str], rule_index: int, physical: dict[str, Any]) -> dict[str, Any]:
    result = {"ruleId": violation["policy"], "ruleIndex": rule_index, "level": LEVELS[violation["enforcement"]],
              "message": {"text": violation["message"]}, "locations": [{"physicalLocation": physical}]}
    if violation["urn"]:
        result["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": violation["urn"], "kind": "resource"}]
    return result


def _location(urn: str, sources: dict[str, tuple[str, int] | None], stack_file: str, root: Path) -> dict[str, Any]:
    source = sources.get(urn)
    if source:
        path, line = Path(source[0]), max(source[1], 1)
        try:
            return {"artifactLocation": {"uri": path.resolve().relative_to(root.resolve()).as_posix(),
                                         "uriBaseId": SRCROOT}, "region": {"startLine": line}}
        except ValueError:  # created by code outside the checkout (an installed library)
            return {"artifactLocation": {"uri": path.resolve().as_uri()}, "region": {"startLine": line}}
    return {"artifactLocation": {"uri": stack_file, "uriBaseId": SRCROOT},
            "region": {"startLine": 1}}
