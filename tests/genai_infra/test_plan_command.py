import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genai_infra.cli import main
from genai_infra.planning import SECRET_PLACEHOLDER

ROOT = Path(__file__).resolve().parents[2]
CIPHERTEXT = "v1:c2VjcmV0LWNpcGhlcnRleHQtdGhhdC1tdXN0LW5vdC1sZWFr"


@pytest.fixture
def project(tmp_path):
    """A copy of the project's Pulumi.yaml and stacks/ that a test may edit."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def plan_json(capsys, *args):
    code = main(["plan", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_json_document_shape(capsys):
    code, document = plan_json(capsys, "dev", "--project-dir", str(ROOT))
    assert code == 0
    assert document["project"] == "genai-platform" and document["stack"] == "dev"
    resource = document["resources"][0]
    assert set(resource) >= {"urn", "type", "name", "parent", "custom", "protect", "dependencies", "inputs"}
    by_urn = {r["urn"]: r for r in document["resources"]}
    roots = [r for r in document["resources"] if r["parent"] is None]
    assert [r["type"] for r in roots] == ["pulumi:pulumi:Stack"]
    assert all(r["parent"] in by_urn for r in document["resources"] if r["parent"])
    assert all(dep in by_urn for r in document["resources"] for dep in r["dependencies"])
    assert document["outputs"]["vpcId"].startswith("vpc-")


def test_plan_all_covers_every_stack_file(capsys):
    code, document = plan_json(capsys, "--all", "--project-dir", str(ROOT))
    assert code == 0
    assert [s["stack"] for s in document["stacks"]] == ["dev", "prod", "staging"]


def test_secure_values_never_reach_the_output(project, capsys):
    stack_file = project / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + f"  genai-platform:redisAuthToken:\n    secure: {CIPHERTEXT}\n")
    code = main(["plan", "dev", "--format", "json", "--project-dir", str(project)])
    text = capsys.readouterr().out
    assert code == 0
    assert CIPHERTEXT not in text and SECRET_PLACEHOLDER not in text


def test_text_report_shows_tree_types_and_outputs(capsys):
    assert main(["plan", "dev", "--project-dir", str(ROOT)]) == 0
    text = capsys.readouterr().out
    assert "dev-network" in text and "genai:aws:Vpc" in text
    assert "aws:autoscaling/group:Group" in text  # dev's NAT instance
    assert "vpcId" in text


def test_bad_config_exits_2_with_one_line_and_no_traceback(project):
    stack_file = project / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  genai-platform:azCount: seven\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "genai-infra"), "plan", "dev", "--project-dir", str(project)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == ("error: dev: stacks/Pulumi.dev.yaml: genai-platform:azCount = 'seven' is invalid: "
                             "use a whole number.\n")
    assert result.stdout == ""


def test_unknown_stack_and_broken_yaml(project, capsys):
    assert main(["plan", "qa", "--project-dir", str(project)]) == 2
    assert "error: qa: stacks/Pulumi.qa.yaml does not exist: create it, or plan one of the stacks that exist " \
           "(dev, prod, staging)." in capsys.readouterr().err
    (project / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  aws:region: [unclosed\n")
    assert main(["plan", "dev", "--project-dir", str(project)]) == 2
    assert "error: dev: stacks/Pulumi.dev.yaml: line 3 is not valid YAML" in capsys.readouterr().err


def test_plain_yaml_values_become_engine_strings(project, capsys):
    stack_file = project / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  genai-platform:azCount: 3\n"
                                                   "  genai-platform:interfaceEndpoints: [sts]\n")
    code, document = plan_json(capsys, "dev", "--project-dir", str(project))
    assert code == 0
    types = [r["type"] for r in document["resources"]]
    assert types.count("aws:ec2/subnet:Subnet") == 9
    assert types.count("aws:ec2/vpcEndpoint:VpcEndpoint") == 2


def test_a_mandatory_policy_violation_exits_3_and_is_reported(project, capsys):
    stack_file = project / "stacks" / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text() + "  genai-platform:protectStateful: false\n")
    code, document = plan_json(capsys, "prod", "--project-dir", str(project))
    assert code == 3
    mandatory = [v for v in document["policies"]["violations"] if v["enforcement"] == "mandatory"]
    assert mandatory and {v["policy"] for v in mandatory} >= {"stack-prod-stateful-protected"}
    assert all(set(v) == {"policy", "enforcement", "urn", "message"} for v in mandatory)


def test_an_estimate_over_budget_exits_4(project, capsys):
    stack_file = project / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  genai-platform:monthlyBudgetUsd: 100\n")
    code, document = plan_json(capsys, "dev", "--project-dir", str(project))
    assert code == 4
    assert document["cost"]["budget"] == 150  # AWS 100 + GCP 50
    assert document["cost"]["monthly"] > 150
    assert not [v for v in document["policies"]["violations"] if v["enforcement"] == "mandatory"]


def test_config_errors_win_over_policy_and_budget_codes(project, capsys):
    (project / "stacks" / "Pulumi.prod.yaml").write_text(
        (project / "stacks" / "Pulumi.prod.yaml").read_text() + "  genai-platform:protectStateful: false\n")
    (project / "stacks" / "Pulumi.dev.yaml").write_text(
        (project / "stacks" / "Pulumi.dev.yaml").read_text() + "  genai-platform:azCount: 9\n")
    assert main(["plan", "--all", "--project-dir", str(project), "--format", "json"]) == 2


def test_diagram_file_shows_every_service(tmp_path, capsys):
    target = tmp_path / "dev.md"
    assert main(["plan", "dev", "--project-dir", str(ROOT), "--diagram", str(target)]) == 0
    text = target.read_text()
    assert text.startswith("# genai-platform / dev\n\n```mermaid\nflowchart")
    for service in ("RagService", "TabularService", "ChatService", "Platform", "Guardrails"):
        assert service in text
