"""``plan --format junit``: each stack as a JUnit test suite, for CI systems that show test reports.

A suite per stack with a test case for the plan itself (an ``error`` when the stack could not be
planned), one per violated rule (a ``failure`` when it is mandatory; an advisory one passes and lists
its findings in ``system-out``), one for the rules that found nothing and one for the budget (a
``failure`` over budget).
"""

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from genai_platform.policy_check import PolicyReport
from genai_platform.verdict import EXIT_OVER_BUDGET, Verdict


def document(stacks: Iterable[tuple[Verdict, PolicyReport | None, str | None]]) -> str:
    """The report of ``(verdict, policies or None, error line or None)`` per stack, as JUnit XML."""
    suites = ET.Element("testsuites", name="genai-infra plan")
    for verdict, policies, error in stacks:
        suites.append(_suite(verdict, policies, error))
    for attribute in ("tests", "failures", "errors"):
        suites.set(attribute, str(sum(int(suite.get(attribute)) for suite in suites)))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _suite(verdict: Verdict, policies: PolicyReport | None, error: str | None) -> ET.Element:
    suite = ET.Element("testsuite", name=f"plan {verdict.stack}")
    plan_case = _case(suite, verdict.stack, "plan")
    if policies is None:
        ET.SubElement(plan_case, "error", message=error or "not planned").text = error
    else:
        _policy_cases(suite, verdict.stack, policies)
        budget = _case(suite, verdict.stack, "budget")
        if verdict.exit_code == EXIT_OVER_BUDGET:
            ET.SubElement(budget, "failure", message=verdict.cost())
        ET.SubElement(budget, "system-out").text = verdict.cost()
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(len(suite.findall("testcase/failure"))))
    suite.set("errors", str(len(suite.findall("testcase/error"))))
    return suite


def _policy_cases(suite: ET.Element, stack: str, policies: PolicyReport) -> None:
    by_rule: dict[str, list[dict[str, str]]] = {}
    for violation in policies.violations:
        by_rule.setdefault(violation["policy"], []).append(violation)
    for rule, found in by_rule.items():
        case = _case(suite, stack, rule)
        lines = "\n".join(f"[{v['enforcement']}] {v['urn'] or '(stack)'}: {v['message']}" for v in found)
        mandatory = [v for v in found if v["enforcement"] == "mandatory"]
        if mandatory:
            ET.SubElement(case, "failure", message=mandatory[0]["message"], type="mandatory").text = lines
        else:
            ET.SubElement(case, "system-out").text = lines
    clean = max(policies.rules - len(by_rule), 0)
    ET.SubElement(_case(suite, stack, "other rules"), "system-out").text = f"{clean} rules found nothing"


def _case(suite: ET.Element, stack: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=f"genai-infra.plan.{stack}", name=name)
