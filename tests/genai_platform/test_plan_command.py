import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genai_platform.atomic import write_text_atomic
from genai_platform.cli import main
from genai_platform.mockcloud import run_under_mocks
from genai_platform.mockcloud.runner import DuplicateUrnError
from genai_platform.planning import SECRET_PLACEHOLDER

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


@pytest.mark.end_to_end
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
    assert result.stdout == "ERROR dev: not planned (exit 2): the error is on stderr\n"  # the verdict, on stdout


def test_unknown_stack_and_broken_yaml(project, capsys):
    assert main(["plan", "qa", "--project-dir", str(project)]) == 2
    assert "error: qa: stacks/Pulumi.qa.yaml does not exist: create it, or plan one of the stacks that exist " \
           "(dev, prod, staging)." in capsys.readouterr().err
    assert main(["plan", "../../etc/passwd", "--project-dir", str(project)]) == 2
    assert capsys.readouterr().err == ("error: ../../etc/passwd: '../../etc/passwd' is not a stack name: use letters, "
                                       "digits, _, - and . (e.g. dev).\n")
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
    advisory = len(document["policies"]["violations"])
    monthly = document["cost"]["monthly"]
    assert document["verdict"] == {
        "status": "FAIL", "exit_code": 4, "mandatory": [], "advisory": advisory, "monthly": monthly, "budget": 150,
        "line": f"FAIL dev: 0 mandatory, {advisory} advisory, ${monthly:,.0f}/month OVER $150"}


def test_plan_all_reports_every_stack_it_could_plan_and_exits_with_the_worst_code(project, capsys):
    (project / "stacks" / "Pulumi.prod.yaml").write_text(
        (project / "stacks" / "Pulumi.prod.yaml").read_text() + "  genai-platform:protectStateful: false\n")
    (project / "stacks" / "Pulumi.dev.yaml").write_text(
        (project / "stacks" / "Pulumi.dev.yaml").read_text() + "  genai-platform:azCount: 9\n")
    code = main(["plan", "--all", "--project-dir", str(project), "--format", "json"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code == 2  # a stack that cannot be planned is worse than a policy violation (3)
    assert [s["stack"] for s in document["stacks"]] == ["prod", "staging"]
    assert document["errors"] == [{"stack": "dev", "exit_code": 2, "error": "stacks/Pulumi.dev.yaml: "
                                   "genai-platform:azCount = 9 is invalid: use a whole number from 2 to 6."}]
    assert captured.err.splitlines()[0] == ("error: dev: stacks/Pulumi.dev.yaml: genai-platform:azCount = 9 is "
                                            "invalid: use a whole number from 2 to 6.")
    assert all(line.startswith("warning: ") for line in captured.err.splitlines()[1:])


def test_diagram_file_shows_every_service(tmp_path, capsys):
    target = tmp_path / "dev.md"
    assert main(["plan", "dev", "--project-dir", str(ROOT), "--diagram", str(target)]) == 0
    text = target.read_text()
    assert text.startswith("# genai-platform / dev\n\n```mermaid\nflowchart")
    for service in ("RagService", "TabularService", "ChatService", "Platform", "Guardrails"):
        assert service in text


def test_diagram_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "dev.md"
    target.write_text("old diagram\n")

    def killed(source, destination):
        raise KeyboardInterrupt  # as if the run were stopped between writing and renaming

    monkeypatch.setattr("os.replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(target, "new diagram\n")
    assert target.read_text() == "old diagram\n"
    assert [path.name for path in tmp_path.iterdir()] == ["dev.md"]  # no temporary file left behind
    monkeypatch.undo()
    write_text_atomic(target, "new diagram\n")
    assert target.read_text() == "new diagram\n"


def test_the_mocks_refuse_two_resources_with_one_urn_as_the_engine_does():
    import pulumi_aws as aws

    def program():
        aws.sqs.Queue("ingest")
        aws.sqs.Queue("ingest")

    with pytest.raises(DuplicateUrnError, match=re.escape(
            "Duplicate resource URN 'urn:pulumi:test::genai-platform::pulumi:pulumi:Stack$aws:sqs/queue:Queue::ingest'; "
            "try giving it a unique name")):
        run_under_mocks(program)


@pytest.mark.parametrize(("argv", "line"), [
    (["plan", "dev", "--format", "xml"], "error: genai-infra plan: argument --format: invalid choice: 'xml' (choose "
                                         "from 'text', 'json', 'sarif', 'junit'): see genai-infra plan "
                                         "--help"),
    ([], "error: genai-infra: the following arguments are required: command: see genai-infra --help"),
    (["verify", "qa", "--outputs", "o.json"], "error: genai-infra verify: argument env: invalid choice: 'qa' (choose "
                                              "from 'dev', 'staging', 'prod'): see genai-infra verify --help"),
    (["bootstrap", "--bucket", "b", "--timeout", "0"], "error: genai-infra bootstrap: argument --timeout: '0' is not "
                                                       "a number of seconds above 0 and at most 3600: see genai-infra "
                                                       "bootstrap --help"),
])
def test_a_usage_error_is_one_line_and_exit_2(capsys, argv, line):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert capsys.readouterr().err == line + "\n"


def test_a_huge_argument_is_echoed_cut_short(capsys):
    with pytest.raises(SystemExit):
        main(["plan", "dev", "--format", "x" * 100_000])
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and len(err) < 500 and "... (" in err


@pytest.mark.parametrize("name", ["dev.png", "dev"])
def test_a_diagram_extension_that_is_not_a_diagram_format_is_refused_before_planning(tmp_path, capsys, name):
    assert main(["plan", "no-such-stack", "--project-dir", str(ROOT), "--diagram", str(tmp_path / name)]) == 2
    what = ".png" if name.endswith(".png") else "file without an extension"
    assert capsys.readouterr().err == (f"error: --diagram {tmp_path / name}: cannot write a {what}: name a .md "
                                       "(Markdown with a Mermaid diagram) or .mmd (Mermaid text) file.\n")
    assert not (tmp_path / name).exists()
