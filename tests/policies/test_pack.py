"""The registry's metadata, the pack entry point, and the generated docs/config staying in sync."""

import json
import re
import runpy

import pulumi_policy
import pytest
import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity, StackValidationPolicy

from genai_platform.policies import ALL_RULES, ENVIRONMENTS, environment_from_process
from genai_platform.policies.docs import ROOT, render_markdown, stale_files
from genai_platform.policies.pack import PACK_NAME
from genai_platform.policies.registry import Setting, build_policies, resource_rule

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
CHECKLISTS = ("checkov", "cdk-nag", "awsguard", "platform rule")


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.name for r in ALL_RULES])
def test_rule_metadata(rule):
    assert KEBAB.match(rule.name)
    assert rule.description.endswith(".") and any(source in rule.description for source in CHECKLISTS)
    assert rule.remediation and rule.remediation[0].isupper()
    assert rule.severity in ("low", "medium", "high", "critical")
    assert {rule.enforcement_for(env) for env in ENVIRONMENTS} <= {"mandatory", "advisory"}
    # prod is never more lenient than dev or staging
    strict = {"advisory": 0, "mandatory": 1}
    assert all(strict[rule.enforcement_for("prod")] >= strict[rule.enforcement_for(env)] for env in ENVIRONMENTS)


def test_rule_count_and_unique_names():
    names = [rule.name for rule in ALL_RULES]
    assert len(names) == len(set(names)) >= 45
    assert sum(rule.kind == "stack" for rule in ALL_RULES) >= 4


def test_registration_refuses_bad_names():
    with pytest.raises(ValueError, match=re.escape("policy name 'NoKebab' is not kebab-case")):
        resource_rule(name="NoKebab", types=[], description="x.", severity="low", levels={"prod": "advisory"},
                      remediation="Y.")(lambda args, ctx: [])
    with pytest.raises(ValueError, match=re.escape("policy name 'rds-multi-az' is registered twice")):
        resource_rule(name="rds-multi-az", types=[], description="x.", severity="low", levels={"prod": "advisory"},
                      remediation="Y.")(lambda args, ctx: [])


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_built_policies_mirror_the_registry(environment):
    policies = build_policies(environment, ALL_RULES)
    assert [p.name for p in policies] == [r.name for r in ALL_RULES]
    for policy, rule in zip(policies, ALL_RULES, strict=True):
        assert isinstance(policy, ResourceValidationPolicy if rule.kind == "resource" else StackValidationPolicy)
        assert policy.enforcement_level == EnforcementLevel(rule.enforcement_for(environment))
        assert policy.severity == Severity(rule.severity)
        assert policy.remediation_steps == rule.remediation
        schema = policy.config_schema.properties
        assert set(schema) == {"environment", *rule.settings}
        # A schema default would be injected into every environment, hiding the per-env defaults.
        assert all("default" not in prop for prop in schema.values())


def test_setting_prod_value():
    setting = Setting({"type": "integer"}, 1, prod=7)
    assert [setting.value_for(env) for env in ENVIRONMENTS] == [1, 1, 7]


@pytest.mark.parametrize(("stack", "environment"), [("dev", "dev"), ("acme/genai-platform/staging", "staging"),
                                                     ("prod", "prod"), ("feature-x", "prod"), (None, "prod")])
def test_environment_comes_from_the_stack_name(stack, environment):
    assert environment_from_process({} if stack is None else {"PULUMI_STACK": stack}) == environment


def test_main_builds_the_pack_from_the_registry(monkeypatch):
    captured = {}

    class FakePack:  # the real PolicyPack starts a gRPC server and blocks
        def __init__(self, **kwargs):
            captured.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", FakePack)
    monkeypatch.setenv("PULUMI_STACK", "dev")
    runpy.run_path(str(ROOT / "policies" / "__main__.py"), run_name="__main__")
    assert captured["name"] == PACK_NAME
    assert [p.name for p in captured["policies"]] == [r.name for r in ALL_RULES]
    levels = {p.name: p.enforcement_level for p in captured["policies"]}
    assert levels["rds-multi-az"] == EnforcementLevel.ADVISORY
    assert levels["rds-storage-encrypted"] == EnforcementLevel.MANDATORY


def test_pack_project_file_points_at_main_and_the_project_venv():
    text = (ROOT / "policies" / "PulumiPolicy.yaml").read_text()
    assert re.search(r"^runtime:\n  name: python\n", text, re.MULTILINE)
    assert "virtualenv: ../.venv" in text


def test_generated_docs_and_configs_are_current():
    assert stale_files() == [], "run: .venv/bin/python -m genai_platform.policies.docs"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_config_files_only_use_declared_settings(environment):
    config = json.loads((ROOT / "policies" / f"config.{environment}.json").read_text())
    rules = {rule.name: rule for rule in ALL_RULES}
    assert list(config) == list(rules)
    for name, entry in config.items():
        assert entry["environment"] == environment
        assert entry["enforcementLevel"] == rules[name].enforcement_for(environment)
        assert set(entry) <= {"enforcementLevel", "environment", *rules[name].settings}


def test_docs_table_lists_every_rule_with_its_levels():
    text = render_markdown()
    assert f"**{len(ALL_RULES)} rules**" in text
    for rule in ALL_RULES:
        levels = " | ".join({"mandatory": "M", "advisory": "A"}[rule.enforcement_for(e)] for e in ENVIRONMENTS)
        assert f"| `{rule.name}` | {rule.kind} | {rule.severity} | {levels} |" in text


def _workflow(name: str) -> dict:
    document = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as True
    return document


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def _uses(job: dict, action: str) -> dict:
    (step,) = [s for s in _steps(job) if s.get("uses", "").startswith(action)]
    return step.get("with", {})


def test_pull_request_gate_runs_tests_offline_plan_and_policy_previews():
    workflow = _workflow("pull-request.yml")
    assert "pull_request" in workflow["on"]
    offline = " ".join(s.get("run", "") for s in _steps(workflow["jobs"]["offline"]))
    assert "./setup.sh" in offline and ".venv/bin/python -m pytest" in offline and "genai-infra plan --all" in offline
    preview = workflow["jobs"]["preview"]
    assert preview["permissions"]["id-token"] == "write"
    assert [m["stack"] for m in preview["strategy"]["matrix"]["include"]] == list(ENVIRONMENTS)
    assert _uses(preview, "aws-actions/configure-aws-credentials")["role-to-assume"]
    assert _uses(preview, "google-github-actions/auth")["workload_identity_provider"]
    step = next(s for s in _steps(preview) if "pulumi preview" in s.get("run", ""))
    assert step["env"] == {"STACK": "${{ matrix.stack }}"}  # expressions reach scripts through env only
    assert 'pulumi preview --stack "$STACK"' in step["run"]
    assert '--policy-pack policies --policy-pack-config "policies/config.$STACK.json"' in step["run"]


def test_deployments_dev_on_main_then_staging_and_approved_prod_on_tags():
    dev, release = _workflow("deploy-dev.yml"), _workflow("release.yml")
    assert dev["on"]["push"]["branches"] == ["main"]
    assert dev["jobs"]["dev"]["with"]["stack"] == "dev"
    assert release["on"]["push"]["tags"] == ["v*"]
    assert release["jobs"]["staging"]["with"]["stack"] == "staging"
    assert release["jobs"]["prod"]["with"]["stack"] == "prod" and release["jobs"]["prod"]["needs"] == "staging"
    deploy = _workflow("deploy-stack.yml")["jobs"]["up"]
    # The job runs in the GitHub environment named after the stack: `prod` carries the required reviewers.
    assert deploy["environment"]["name"] == "${{ inputs.stack }}"
    assert deploy["permissions"]["id-token"] == "write"
    assert _uses(deploy, "aws-actions/configure-aws-credentials")["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    commands = " ".join(s.get("run", "") for s in _steps(deploy))
    assert deploy["env"] == {"STACK": "${{ inputs.stack }}"}
    assert 'pulumi up --stack "$STACK" --yes' in commands and "--policy-pack policies" in commands


def test_workflows_store_no_cloud_keys():
    text = "\n".join(p.read_text() for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    for key in ("aws-access-key-id", "aws-secret-access-key", "credentials_json", "AWS_SECRET_ACCESS_KEY"):
        assert key not in text
