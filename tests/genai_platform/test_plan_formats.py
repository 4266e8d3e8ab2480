"""The verdict that ends every plan, and the machine-readable formats (SARIF 2.1.0, JUnit XML)."""

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from genai_platform import cost, junit, planning, policy_check, sarif, verdict
from genai_platform.cli import main

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture(scope="module")
def failing_project(tmp_path_factory):
    """prod without protection (mandatory violations), dev with a config error: one stack of each outcome."""
    project = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", project / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    for stack, line in (("prod", "genai-platform:protectStateful: false"), ("dev", "genai-platform:azCount: 9")):
        stack_file = project / "stacks" / f"Pulumi.{stack}.yaml"
        stack_file.write_text(stack_file.read_text() + f"  {line}\n")
    return project


@pytest.fixture(scope="module")
def unprotected_prod(failing_project):
    plan = planning.plan_stack("prod", failing_project, warnings=[])
    policies = policy_check.evaluate(plan, "prod", policy_check.load_config("prod"))
    estimate = cost.estimate(plan, 3800)
    return plan, policies, estimate


def test_verdict_lines_say_pass_fail_or_error_with_rules_and_cost():
    assert verdict.Verdict("dev", 0, (), 18, 197.4, 550.0).line() == "PASS dev: 0 mandatory, 18 advisory, $197/month of $550"
    assert verdict.Verdict("prod", 3, ("rule-a", "rule-b"), 2, 2317.0, 3800.0).line() == (
        "FAIL prod: 2 mandatory (rule-a, rule-b), 2 advisory, $2,317/month of $3,800")
    assert verdict.Verdict("dev", 4, (), 18, 620.0, 550.0).line() == "FAIL dev: 0 mandatory, 18 advisory, $620/month OVER $550"
    assert verdict.Verdict("other", 0, (), 0, 12.0, None).line() == "PASS other: 0 mandatory, 0 advisory, $12/month (no budget)"
    assert verdict.not_planned("staging").line() == "ERROR staging: not planned (exit 2): the error is on stderr"
    assert verdict.worst_exit_code([verdict.Verdict("a", 4), verdict.Verdict("b", 3), verdict.Verdict("c", 0)]) == 3


def test_a_planned_stack_verdict_names_each_violated_mandatory_rule_once(unprotected_prod):
    plan, policies, estimate = unprotected_prod
    found = verdict.planned("prod", policies, estimate)
    rules = list(dict.fromkeys(v["policy"] for v in policies.mandatory_violations))
    assert found.exit_code == 3 and list(found.mandatory) == rules and "stack-prod-stateful-protected" in rules
    assert found.advisory == len(policies.advisory_violations)
    assert found.line().startswith(f"FAIL prod: {len(rules)} mandatory ({', '.join(rules)}), ")


def test_plan_all_ends_with_a_verdict_line_per_stack_and_a_table(failing_project, capsys):
    code = main(["plan", "--all", "--project-dir", str(failing_project)])
    out = capsys.readouterr().out.splitlines()
    assert code == 2
    verdict_lines = [line for line in out if line.split(" ", 1)[0] in ("PASS", "FAIL", "ERROR")]
    assert [line.split(":")[0] for line in verdict_lines] == ["ERROR dev", "FAIL prod", "PASS staging"]
    assert verdict_lines[0] == "ERROR dev: not planned (exit 2): the error is on stderr"
    table = out[out.index(next(line for line in out if line.startswith("Verdict: exit 2"))):]
    rows = [line for line in table if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["dev", "prod", "staging"]
    assert [row.split("│")[2].strip() for row in rows] == ["ERROR", "FAIL", "PASS"]
    assert out[-1].startswith("└")  # the table is the last thing printed


def test_sarif_is_valid_2_1_0_with_one_result_per_violation(unprotected_prod):
    plan, policies, _ = unprotected_prod
    log = sarif.document([(plan, policies)], ROOT)
    jsonschema.validate(log, SARIF_SCHEMA)
    (run,) = log["runs"]
    assert run["automationDetails"]["id"] == "genai-infra-plan/prod/"
    assert len(run["results"]) == len(policies.violations)
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for result, violation in zip(run["results"], policies.violations):
        assert result["ruleId"] == violation["policy"] == rule_ids[result["ruleIndex"]]
        assert result["level"] == {"mandatory": "error", "advisory": "warning"}[violation["enforcement"]]
        assert result["message"]["text"] == violation["message"]
        if violation["urn"]:
            assert result["locations"][0]["logicalLocations"] == [{"fullyQualifiedName": violation["urn"],
                                                                  "kind": "resource"}]


def test_sarif_points_at_the_line_that_created_the_resource(unprotected_prod):
    plan, policies, _ = unprotected_prod
    log = sarif.document([(plan, policies)], ROOT)
    result = next(r for r in log["runs"][0]["results"] if r["level"] == "error" and r["locations"][0].get("logicalLocations"))
    urn = result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    resource = next(r for r in plan.resources if r.urn == urn)
    physical = result["locations"][0]["physicalLocation"]
    source_file, line = resource.source
    assert physical["artifactLocation"] == {"uri": Path(source_file).relative_to(ROOT).as_posix(),
                                            "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": line}
    created = (ROOT / physical["artifactLocation"]["uri"]).read_text().splitlines()[line - 1]
    assert "(" in created  # a constructor call, e.g. aws.rds.Instance(


def test_junit_reports_mandatory_rules_as_failures_and_a_config_error_as_an_error(unprotected_prod):
    plan, policies, estimate = unprotected_prod
    failing = verdict.planned("prod", policies, estimate)
    xml = junit.document([(failing, policies, None),
                          (verdict.not_planned("dev"), None, "stacks/Pulumi.dev.yaml: genai-platform:azCount = 9")])
    suites = ET.fromstring(xml)
    prod, dev = suites.findall("testsuite")
    failed = {case.get("name") for case in prod.findall("testcase") if case.find("failure") is not None}
    assert failed == set(failing.mandatory)
    assert prod.get("failures") == str(len(failing.mandatory))
    assert dev.find("testcase[@name='plan']/error").get("message") == "stacks/Pulumi.dev.yaml: genai-platform:azCount = 9"
    assert suites.get("errors") == "1" and suites.get("failures") == str(len(failing.mandatory))


def test_plan_format_sarif_on_the_command_line(capsys):
    assert main(["plan", "dev", "--project-dir", str(ROOT), "--format", "sarif"]) == 0
    log = json.loads(capsys.readouterr().out)
    jsonschema.validate(log, SARIF_SCHEMA)
    assert [run["automationDetails"]["id"] for run in log["runs"]] == ["genai-infra-plan/dev/"]
    assert all(result["level"] == "warning" for result in log["runs"][0]["results"])


def test_plan_format_junit_on_the_command_line(failing_project, capsys):
    assert main(["plan", "dev", "prod", "--project-dir", str(failing_project), "--format", "junit"]) == 2
    suites = ET.fromstring(capsys.readouterr().out)
    assert [suite.get("name") for suite in suites.findall("testsuite")] == ["plan dev", "plan prod"]
    assert suites.find("testsuite[@name='plan dev']/testcase[@name='plan']/error").get("message") == (
        "stacks/Pulumi.dev.yaml: genai-platform:azCount = 9 is invalid: use a whole number from 2 to 6.")
    assert suites.find("testsuite[@name='plan prod']/testcase[@name='stack-prod-stateful-protected']/failure") is not None
