"""The GitHub workflows: no zizmor finding of medium severity or above, every action pinned to a commit, and
they reference exactly the variables the CI identity stack (ci/) outputs and the runner the platform creates."""

import json
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from genai_platform.mockcloud import run_under_mocks
from genai_platform.stacks.services.platform import Platform

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
OPERATOR_VARIABLES = {"AWS_REGION", "PULUMI_BACKEND_URL"}
"""Set by hand per GitHub environment / repository: the region and the state backend URL."""


def workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


@pytest.mark.end_to_end
def test_zizmor_offline_finds_nothing_of_medium_severity_or_above():
    # a dev dependency: installed next to the interpreter running the tests
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or "zizmor"
    result = subprocess.run([zizmor, "--offline", "--min-severity", "medium", "--format", "plain", str(WORKFLOWS)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_to_a_full_commit_with_its_version():
    uses = re.findall(r"uses: (\S+)(.*)", "".join(path.read_text() for path in WORKFLOWS.glob("*.yml")))
    external = [(ref, comment) for ref, comment in uses if not ref.startswith("./")]
    assert external
    for ref, comment in external:
        # owner/repo[/path-to-action]@<40-hex commit> (codeql-action/upload-sarif lives in a sub-folder)
        assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)*@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), (ref, comment)


def test_ci_and_the_pull_request_workflow_run_the_readme_s_test_command():
    """On every core, as the README says: a plain ``pytest`` runs the whole suite on one core."""
    command = re.search(r"^(\.venv/bin/python -m pytest\b.*?)\s+#", (ROOT / "README.md").read_text(), re.M).group(1)
    steps = [step["run"] for job in workflow("pull-request.yml")["jobs"].values() for step in job["steps"]
             if "pytest" in step.get("run", "")]
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in line]
    assert command == ".venv/bin/python -m pytest -n auto"
    assert [run.replace(".venv-lowest/", ".venv/") for run in steps] == [command, command]
    assert ci == [command]


@pytest.fixture(scope="module")
def ci_outputs():
    # the engine hands the program structured values as JSON text
    config = {key: value if isinstance(value, str) else json.dumps(value)
              for key, value in yaml.safe_load((ROOT / "ci" / "example-config.yaml").read_text())["config"].items()}
    program = str(ROOT / "ci" / "__main__.py")
    return run_under_mocks(lambda: runpy.run_path(program, run_name="__main__"), project="genai-platform-ci",
                           stack="nonprod", config=config).outputs


def referenced_variables() -> set[str]:
    text = "".join(path.read_text() for path in WORKFLOWS.glob("*.yml"))
    direct = set(re.findall(r"vars\.([A-Z0-9_]+)", text))
    matrix = {value for job in workflow("pull-request.yml")["jobs"].values()
              for entry in job.get("strategy", {}).get("matrix", {}).get("include", [])
              for key, value in entry.items() if key != "stack"}
    return direct | matrix


def test_workflows_reference_exactly_the_ci_stacks_outputs(ci_outputs):
    repository = set(ci_outputs["githubVariables"])
    environment = set(ci_outputs["githubEnvironmentVariables"]["dev"])
    # the example config hosts dev only; the preview matrix also names staging and prod, which their own
    # account's ci stack outputs with the same names
    per_env = {name.replace("_DEV", f"_{env}") for name in repository if name.endswith("_DEV")
               for env in ("DEV", "STAGING", "PROD")}
    outputs = (repository - {n for n in repository if n.endswith("_DEV")}) | per_env | environment
    assert referenced_variables() - OPERATOR_VARIABLES == outputs


def test_the_deploy_job_runs_on_the_environments_in_vpc_runner():
    job = workflow("deploy-stack.yml")["jobs"]["up"]
    project = Platform.runner_name("${{ inputs.stack }}")
    assert job["runs-on"] == f"codebuild-{project}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"
    assert job["environment"] == {"name": "${{ inputs.stack }}"}
    assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_no_job_keeps_git_credentials_and_no_workflow_grants_permissions_at_the_top():
    for path in WORKFLOWS.glob("*.yml"):
        document = yaml.safe_load(path.read_text())
        assert document["permissions"] == {}, path.name
        for job in document["jobs"].values():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, path.name


def test_no_expression_is_expanded_inside_a_script():
    for path in WORKFLOWS.glob("*.yml"):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), (path.name, step.get("name"))
