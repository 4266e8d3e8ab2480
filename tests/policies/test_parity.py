"""The offline plan's policy verdict equals the served pack's, for every stack and every rule.

The pack runs as the engine runs it (a subprocess, see conftest); both it and the offline
evaluator get the same Analyzer requests built from the plan, as a first preview (computed outputs
unknown) and with known values. Rules and stacks added later are covered without editing this file.
"""

import pytest
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2

from genai_infra import planning
from genai_infra.policy_analyzer import ENGINE_UNKNOWN, analyze, engine_config, requests_for
from genai_infra.policy_check import configured_analyzer, evaluate, load_config
from policies import ALL_RULES

STACKS = planning.stack_names(planning.project_dir())


def configured(analyzer, environment: str) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    analyzer.Configure(engine_config(load_config(environment), info))


def merged(findings_by_pass: list[list]) -> tuple[list[dict], list[dict]]:
    """(violations, notes) of both passes, each once, the way the offline report merges them."""
    violations, notes = [], []
    for findings in findings_by_pass:
        for finding in findings:
            bucket = notes if finding.note else violations
            if finding.to_json() not in bucket:
                bucket.append(finding.to_json())
    return violations, notes


@pytest.mark.parametrize("stack", STACKS)
def test_served_pack_describes_every_rule_as_the_offline_analyzer(stack, served_pack):
    served = served_pack(stack).analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    offline, _ = configured_analyzer(stack, None)
    assert [p.name for p in served.policies] == [r.name for r in ALL_RULES]
    assert served == offline.GetAnalyzerInfo(empty_pb2.Empty())


@pytest.mark.parametrize("stack", STACKS)
def test_offline_plan_gives_the_served_pack_verdict(stack, stack_plans, served_pack):
    """Same policy, level, URN and message for every request, at a first preview and with known values."""
    pack, plan = served_pack(stack), stack_plans[stack]
    configured(pack.analyzer, stack)
    offline, _ = configured_analyzer(stack, load_config(stack))
    served = []
    for preview in (False, True):
        requests = requests_for(plan, preview=preview)
        served.append(analyze(pack.analyzer, requests))
        assert served[-1] == analyze(offline, requests), f"preview={preview}"
    report = evaluate(plan, stack, load_config(stack))
    assert (report.violations, report.notes) == merged(served)
    assert report.mandatory_violations == []  # every shipped stack passes the CI gate
    assert pack.engine.logs == []


@pytest.mark.parametrize("stack", STACKS)
def test_first_preview_sends_computed_outputs_as_the_engine_unknown(stack, stack_plans):
    requests = requests_for(stack_plans[stack], preview=True)
    states = {r.urn: json_format.MessageToDict(r.properties) for r in requests.stack.resources}
    for recorded in stack_plans[stack].resources:
        if recorded.custom and recorded.id and "arn" in recorded.outputs and "arn" not in recorded.inputs:
            assert states[recorded.urn]["arn"] == ENGINE_UNKNOWN
    known = requests_for(stack_plans[stack], preview=False)
    assert ENGINE_UNKNOWN not in str([json_format.MessageToDict(r.properties) for r in known.resources])


def test_requests_carry_numbers_as_floats_and_secrets_in_the_engine_envelope(stack_plans):
    plan = stack_plans["dev"]
    request = {r.urn: r for r in requests_for(plan, preview=False).resources}
    cache = plan.one("aws:elasticache/replicationGroup:ReplicationGroup")
    props = json_format.MessageToDict(request[cache.urn].properties)
    assert props["authToken"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
    assert props["authToken"]["value"] not in ("", "[secret]")  # the plaintext, as the engine sends it
    assert isinstance(props["port"], float) and props["port"] == cache.inputs["port"]
    assert isinstance(request[cache.urn], analyzer_pb2.AnalyzeRequest)
