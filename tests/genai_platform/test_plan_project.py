"""``genai-infra plan --project-dir``: another team's Pulumi Python project, planned with the platform's machinery.

The "other team" is ``tests/projects/team_app`` (project ``team-app``): our components plus a helper package of its
own (``team_lib``) and one resource written with ``pulumi_aws`` directly, its own config keys, a ``secure:`` value,
and a policy config of its own.
"""

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from genai_platform import planning
from genai_platform.cli import main
from genai_platform.components.aws import Vpc
from genai_platform.project import matches_type, read_project
from genai_platform.stacks.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TEAM_APP = ROOT / "tests" / "projects" / "team_app"
CIPHERTEXT = "dGVhbS1hcHAtd2ViaG9vay10b2tlbi1jaXBoZXJ0ZXh0"
PLATFORM_PACKAGE = Vpc.__module__.partition(".")[0]
"""The platform's top-level package (``components`` today, one namespace after the move): a team package of that
name cannot be imported next to it."""
OPEN_SSH = '''
aws.ec2.SecurityGroup(f"{name}-debug", vpc_id=network.vpc_id, description="debug access",
                      ingress=[{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}],
                      tags=child_tags(f"{name}-debug", tags))
'''


@pytest.fixture
def team(tmp_path):
    """A copy of the team project a test may edit."""
    copy = tmp_path / "team_app"
    shutil.copytree(TEAM_APP, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def plan_json(capsys, project: Path, *args: str) -> tuple[int, dict, str]:
    code = main(["plan", *args, "--project-dir", str(project), "--format", "json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else {}, captured.err


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_pulumi_yaml_is_read_as_the_engine_reads_it():
    project = read_project(TEAM_APP)
    assert (project.name, project.is_platform) == ("team-app", False)
    assert project.program == TEAM_APP and project.config_dir == TEAM_APP and project.stack_names() == ["dev", "prod"]
    declared = {d.key: d for d in project.declared}
    assert declared["team-app:owner"].required and declared["team-app:webhookToken"].secret
    assert (declared["team-app:zones"].type, declared["team-app:zones"].default) == ("integer", 2)
    assert declared["team-app:alertEmails"].type_name() == "array<string>"
    platform = read_project(ROOT)
    assert platform.is_platform and platform.program == ROOT / "stacks" and platform.config_dir == ROOT / "stacks"


def test_the_team_program_plans_with_its_name_its_config_and_its_own_package(capsys):
    code, document, err = plan_json(capsys, TEAM_APP, "dev")
    assert code == 0, err
    assert (document["project"], document["stack"]) == ("team-app", "dev")
    types = Counter(resource["type"] for resource in document["resources"])
    assert len(document["resources"]) == 67
    assert {token: types[token] for token in ("genai:aws:Vpc", "genai:aws:Bucket", "genai:aws:QueueWithDlq",
                                              "genai:aws:AlertTopic", "genai:aws:AwsBudget",
                                              "genai:aws:BucketQueueNotification")} == dict.fromkeys(
        ("genai:aws:Vpc", "genai:aws:Bucket", "genai:aws:QueueWithDlq", "genai:aws:AlertTopic", "genai:aws:AwsBudget",
         "genai:aws:BucketQueueNotification"), 1)
    assert (types["aws:sqs/queue:Queue"], types["aws:ec2/subnet:Subnet"], types["aws:ec2/natGateway:NatGateway"],
            types["aws:ssm/parameter:Parameter"], types["aws:budgets/budget:Budget"]) == (2, 6, 1, 1, 1)
    assert all(r["urn"].startswith("urn:pulumi:dev::team-app::") for r in document["resources"])
    by_name = {r["name"]: r for r in document["resources"]}
    # Pulumi.yaml's default, the stack file's value and team_lib's tags all reached the program.
    assert by_name["team-dev-net-vpc"]["inputs"]["cidrBlock"] == "10.40.0.0/16"
    token = by_name["team-dev-webhook-token"]["inputs"]
    assert token["tags"] == {"Name": "team-dev-webhook-token", "ManagedBy": "pulumi", "Platform": "genai-platform",
                             "Environment": "dev", "Team": "data", "Owner": "data-team@example.com"}
    assert token["value"] == "[secret]" and token["type"] == "SecureString"
    assert CIPHERTEXT not in json.dumps(document) and planning.SECRET_PLACEHOLDER not in json.dumps(document)
    assert document["outputs"]["queueUrl"].startswith("https://sqs.us-east-1.amazonaws.com/123456789012/team-dev-ingest")
    assert document["gates"] == {"policy_environment": "dev", "budget": None,
                                 "policy_levels": "the pack's own levels for dev (no policy config; the stack's name)",
                                 "budget_source": "none (no --budget-key, no team-app:monthlyBudgetUsd)"}
    assert [v["policy"] for v in document["policies"]["violations"]] == ["logs-kms-encryption",
                                                                          "s3-bucket-access-logging"]
    assert document["verdict"]["line"] == "PASS dev: 0 mandatory, 2 advisory, $40/month (no budget)"
    assert document["cost"]["monthly"] == 39.7


def test_the_text_report_says_which_levels_and_budget_applied(capsys):
    assert main(["plan", "dev", "--project-dir", str(TEAM_APP)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "policy levels: the pack's own levels for dev (no policy config; the stack's name)" in out
    assert "budget: none (no --budget-key, no team-app:monthlyBudgetUsd)" in out
    assert out[-1] == "PASS dev: 0 mandatory, 2 advisory, $40/month (no budget)"


def test_levels_come_from_their_policy_config_or_a_tier_or_the_pack(capsys):
    policy_config = TEAM_APP / "policy-config.json"
    code, document, _ = plan_json(capsys, TEAM_APP, "dev", "--policy-config", str(policy_config))
    assert code == 0
    assert document["gates"]["policy_levels"] == f"--policy-config {policy_config}"
    # "all": mandatory, logs-kms-encryption disabled, s3-bucket-access-logging advisory.
    assert [(v["policy"], v["enforcement"]) for v in document["policies"]["violations"]] == [
        ("s3-bucket-access-logging", "advisory")]
    assert document["policies"]["rules"] == 89

    code, document, _ = plan_json(capsys, TEAM_APP, "dev", "--tier", "prod")
    assert code == 3
    assert document["gates"]["policy_levels"] == "tier prod from --tier (policies/config.prod.json)"
    # prod's levels, and prod's settings: the dev stack's Environment tag does not say prod (35 taggable resources).
    assert document["verdict"]["line"] == ("FAIL dev: 2 mandatory (s3-bucket-access-logging, "
                                           "stack-prod-stateful-protected), 36 advisory, $40/month (no budget)")
    assert Counter(v["policy"] for v in document["policies"]["violations"])["aws-environment-tag-matches"] == 35

    code, document, _ = plan_json(capsys, TEAM_APP, "prod")  # Pulumi.prod.yaml sets team-app:tier: prod
    assert code == 3
    assert document["gates"]["policy_levels"] == "tier prod from team-app:tier (policies/config.prod.json)"
    assert document["verdict"]["mandatory"] == ["s3-bucket-access-logging", "stack-prod-stateful-protected"]


def test_a_stack_not_named_like_a_tier_gets_the_strictest_levels(team, capsys):
    shutil.copy(team / "Pulumi.dev.yaml", team / "Pulumi.sandbox.yaml")
    code, document, _ = plan_json(capsys, team, "sandbox")
    assert code == 3  # prod's levels, as the served pack falls back to prod for an unknown stack name
    assert document["gates"]["policy_environment"] == "prod"
    assert document["gates"]["policy_levels"] == ("the pack's own levels for prod (no policy config; a stack not "
                                                  "named dev, staging or prod gets prod's)")


def test_budget_from_a_named_key_the_default_key_or_none(team, capsys):
    code, document, _ = plan_json(capsys, TEAM_APP, "dev", "--budget-key", "budgetUsd")
    assert code == 0
    assert document["verdict"]["line"] == "PASS dev: 0 mandatory, 2 advisory, $40/month of $100"
    assert document["gates"]["budget_source"] == "team-app:budgetUsd"

    stack_file = team / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  team-app:monthlyBudgetUsd: 20\n")
    code, document, _ = plan_json(capsys, team, "dev")
    assert code == 4
    assert document["verdict"]["line"] == "FAIL dev: 0 mandatory, 2 advisory, $40/month OVER $20"

    code, _, err = plan_json(capsys, team, "dev", "--budget-key", "owner")
    assert code == 2
    assert err == ("error: dev: Pulumi.dev.yaml: team-app:owner = 'data-team@example.com' is invalid: the budget is "
                   "a monthly amount in USD: use a number above 0, e.g. 500.\n")


def test_a_mandatory_violation_in_their_own_code_exits_3_naming_the_rule(team, capsys):
    (team / "__main__.py").write_text((team / "__main__.py").read_text() + OPEN_SSH)
    code, document, _ = plan_json(capsys, team, "dev")
    assert code == 3
    (violation,) = [v for v in document["policies"]["violations"] if v["enforcement"] == "mandatory"]
    assert violation["policy"] == "ec2-security-group-no-public-ingress"
    assert violation["urn"] == "urn:pulumi:dev::team-app::pulumi:pulumi:Stack$aws:ec2/securityGroup:SecurityGroup::team-dev-debug"
    assert document["verdict"]["line"] == ("FAIL dev: 1 mandatory (ec2-security-group-no-public-ingress), "
                                           "2 advisory, $40/month (no budget)")


def test_sarif_points_at_their_file_and_line(team, capsys):
    (team / "__main__.py").write_text((team / "__main__.py").read_text() + OPEN_SSH)
    line = (team / "__main__.py").read_text().splitlines().index('aws.ec2.SecurityGroup(f"{name}-debug", '
                                                                 'vpc_id=network.vpc_id, description="debug access",') + 1
    assert main(["plan", "dev", "--project-dir", str(team), "--format", "sarif"]) == 3
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    result = next(r for r in run["results"] if r["ruleId"] == "ec2-security-group-no-public-ingress")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "__main__.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": line}


@pytest.mark.parametrize(("change", "error"), [
    (lambda team: (team / "__main__.py").write_text((team / "__main__.py").read_text()
                                                    + 'raise RuntimeError("queue name\\n  taken")\n'),
     "dev: __main__.py: line 34: the program raised RuntimeError: queue name taken"),
    (lambda team: edit(team / "__main__.py", 'name = f"team-{stack}"\n', 'name = f"team-{stack}"\n'
                                                                       '__import__("sys").exit(3)\n'),
     "dev: __main__.py: line 16: the program raised SystemExit: 3"),
    (lambda team: edit(team / "Pulumi.dev.yaml", "  aws:region: us-east-1\n", "  aws:region: us-east-1\n"
                                                                               "  team-app:zones: 9\n"),
     "dev: __main__.py: line 17: the program raised ValueError: zone_count=9 is out of range: use 1 to 8 availability "
     "zones."),
    (lambda team: edit(team / "Pulumi.dev.yaml", "  team-app:owner: data-team@example.com\n",
                       "  team-app:owner: data-team@example.com\n  owner: ops@example.com\n"),
     "dev: Pulumi.dev.yaml: line 4: team-app:owner is set twice (lines 3 and 4, with and without the team-app: prefix): "
     "keep one."),
    (lambda team: edit(team / "Pulumi.dev.yaml", "  team-app:owner: data-team@example.com\n", ""),
     "dev: Pulumi.dev.yaml: Stack 'dev' is missing configuration value 'team-app:owner': set it, e.g. pulumi config set "
     "team-app:owner <value>."),
    (lambda team: edit(team / "Pulumi.dev.yaml", "  aws:region: us-east-1\n",
                       "  aws:region: us-east-1\n  team-app:zones: two\n"),
     "dev: Pulumi.dev.yaml: Stack 'dev' with configuration key 'team-app:zones' must be of type 'integer': set an integer "
     "value."),
    (lambda team: edit(team / "Pulumi.dev.yaml", "secure: v1:", "secure: not-ciphertext "),
     "dev: Pulumi.dev.yaml: line 6: team-app:webhookToken has a secure: value that is not Pulumi ciphertext: set it with "
     "pulumi config set --secret team-app:webhookToken <value>."),
    (lambda team: edit(team / "Pulumi.dev.yaml", "  aws:region: us-east-1\n", "  aws:regoin: us-east-1\n"),
     "dev: Pulumi.dev.yaml: aws:regoin = 'us-east-1' is invalid: unknown key; remove it or fix the name (did you mean "
     "aws:region?)."),
    (lambda team: edit(team / "Pulumi.yaml", "  name: python\n", "  name: nodejs\n"),
     "Pulumi.yaml: runtime = 'nodejs': genai-infra plans Pulumi Python programs only (runtime: python); plan this "
     "project with pulumi preview."),
    (lambda team: shutil.copytree(team / "team_lib", team / PLATFORM_PACKAGE),
     f"dev: {PLATFORM_PACKAGE}: the module {PLATFORM_PACKAGE} of the program is shadowed by the {PLATFORM_PACKAGE} that "
     "genai-infra itself imports "),
], ids=["program-raises", "program-exits", "component-refuses", "duplicate-key", "required-key-unset", "wrong-type", "bad-ciphertext",
        "provider-key-typo", "not-python", "shadowed-package"])
def test_errors_are_one_line_and_exit_2(team, capsys, change, error):
    change(team)
    code, document, err = plan_json(capsys, team, "dev")
    assert code == 2 and document == {}
    assert err.count("\n") == 1 and "Traceback" not in err
    if error.endswith(" "):  # the rest names a path of this machine
        assert err.startswith(f"error: {error}")
    else:
        assert err == f"error: {error}\n"


def test_their_own_keys_are_theirs_and_main_and_stack_config_dir_are_honoured(team, capsys):
    (team / "src").mkdir()
    for moved in ("__main__.py", "team_lib"):
        shutil.move(team / moved, team / "src" / moved)
    (team / "stacks").mkdir()
    shutil.move(team / "Pulumi.dev.yaml", team / "stacks" / "Pulumi.dev.yaml")
    edit(team / "Pulumi.yaml", "config:\n", "main: src/\nstackConfigDir: stacks\nconfig:\n")
    edit(team / "stacks" / "Pulumi.dev.yaml", "  aws:region: us-east-1\n",
         "  aws:region: us-east-1\n  team-app:notReadByAnyone: still fine\n  zones: 3\n")
    code, document, err = plan_json(capsys, team, "dev")
    assert code == 0, err
    types = Counter(resource["type"] for resource in document["resources"])
    assert types["aws:ec2/subnet:Subnet"] == 9  # zones: 3 (a bare key is the project's) x 3 tiers


def test_each_project_gets_its_own_helper_package(team, capsys):
    edit(team / "team_lib" / "tagging.py", '"Team": "data"', '"Team": "search"')
    plans = {folder: planning.plan_project(read_project(folder), "dev", warnings=[]) for folder in (TEAM_APP, team)}
    teams = {folder: next(r for r in plan.resources if r.name == "team-dev-webhook-token").inputs["tags"]["Team"]
             for folder, plan in plans.items()}
    assert teams == {TEAM_APP: "data", team: "search"}


def test_the_platform_keeps_its_tier_and_budget(capsys):
    assert main(["plan", "dev", "--project-dir", str(ROOT), "--tier", "prod"]) == 2
    assert capsys.readouterr().err == ("error: --tier is for another team's project: the platform's stacks take their "
                                       "tier and budget from genai-platform:tier and monthlyBudgetUsd in the stack "
                                       "file.\n")


@pytest.mark.end_to_end
def test_the_console_script_plans_another_project():
    result = subprocess.run([str(Path(sys.executable).parent / "genai-infra"), "plan", "dev", "--project-dir",
                             str(TEAM_APP), "--budget-key", "budgetUsd"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "PASS dev: 0 mandatory, 2 advisory, $40/month of $100"
    assert "team-app / dev: 60 resources" in result.stdout and "team-dev-ingest" in result.stdout
    assert CIPHERTEXT not in result.stdout + result.stderr
    # the SDK modules their program imports first raise DeprecationWarnings a real run does not show
    assert "has been deprecated in favor of" not in result.stderr


def test_the_diagram_draws_their_top_level_components_and_dependencies(tmp_path, capsys):
    target = tmp_path / "team.md"
    assert main(["plan", "dev", "--project-dir", str(TEAM_APP), "--diagram", str(target), "--format", "json"]) == 0
    text = target.read_text()
    assert '  subgraph svc_dev_e1bbf8["team-app / dev"]' in text
    assert '    cmp_team_dev_ingest_ec7734["team-dev-ingest<br/>QueueWithDlq · 8 resources"]' in text
    assert "  cmp_team_dev_incoming_fd8d65 --> cmp_team_dev_ingest_ec7734" in text  # the notification needs the queue


@pytest.mark.parametrize(("document", "error"), [
    ('{"all": "strict"}', "all: 'strict' is not a valid enforcement level: use one of advisory, mandatory, remediate, "
                          "disabled."),
    ('{"s3-bucket-versioning": 3}', "s3-bucket-versioning: 3 is not a valid value; must be a string or object."),
    ('{"s3-bucket-versionning": "disabled"}', "'s3-bucket-versionning' is not a policy of the pack: did you mean "
                                              "'s3-bucket-versioning'?"),
    ('["advisory"]', 'is not a JSON object: write {"<policy>": "advisory", ...}.'),
    ('{"rds-backup-retention": {"minBackupRetentionDays": 0}}',
     "rds-backup-retention: minBackupRetentionDays: 0 is less than the minimum of 1: fix the value (see "
     "docs/policies.md)."),
    ('{"s3-bucket-versioning": {"environment": "qa"}}',
     "s3-bucket-versioning: environment: 'qa' is not one of ['dev', 'staging', 'prod']: fix the value (see "
     "docs/policies.md)."),
])
def test_a_policy_config_is_refused_where_the_engine_refuses_it(tmp_path, capsys, document, error):
    path = tmp_path / "levels.json"
    path.write_text(document)
    code, _, err = plan_json(capsys, TEAM_APP, "dev", "--policy-config", str(path))
    assert code == 2
    assert err == f"error: --policy-config {path}{'' if error.startswith('is ') else ':'} {error}\n"


@pytest.mark.parametrize(("pulumi_yaml", "error"), [
    ("runtime: python\n", "Pulumi.yaml: project is missing a 'name' attribute: add name: <project>."),
    ("name: t\nruntime: python\nname: u\n", "Pulumi.yaml: line 3: name is set twice (lines 1 and 3): keep one; "
                                             "Pulumi refuses duplicate keys."),
    ("name: t\nruntime:\n  name: go\n", "Pulumi.yaml: runtime = 'go': genai-infra plans Pulumi Python programs only "
                                        "(runtime: python); plan this project with pulumi preview."),
    ("name: t\nruntime: python\nmain: src/\n", "Pulumi.yaml: project 'main' could not be read: src/ does not exist: "
                                              "point main at the program's file or folder."),
    ("name: t\nruntime: python\nconfig:\n  t:ids:\n    type: array\n",
     "Pulumi.yaml: config t:ids: The configuration key 't:ids' declares an array but does not specify the underlying "
     "type via the 'items' attribute: add items: {type: string}."),
    ("name: t\nruntime: python\nconfig:\n  zones:\n    type: integer\n    default: two\n",
     "Pulumi.yaml: config zones: The default value specified for configuration key 'zones' is not of the expected "
     "type 'integer': fix the default."),
    ("name: t\nruntime: python\nconfig:\n  aws:region:\n    type: string\n",
     "Pulumi.yaml: config aws:region: Configuration key 'aws:region' is not namespaced by the project and should not "
     "define a type or default: give it a value: instead."),
])
def test_pulumi_yaml_is_refused_where_the_engine_refuses_it(tmp_path, pulumi_yaml, error):
    (tmp_path / "Pulumi.yaml").write_text(pulumi_yaml)
    (tmp_path / "__main__.py").write_text("")
    with pytest.raises(ConfigError) as raised:
        read_project(tmp_path)
    assert str(raised.value) == error


def test_shorthand_config_and_main_file_as_the_engine_reads_them(tmp_path):
    (tmp_path / "app.py").write_text("")
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\nmain: app.py\nconfig:\n  size: small\n"
                                          "  aws:region: us-east-1\n")
    project = read_project(tmp_path)
    assert project.program == tmp_path / "app.py" and project.program_dir == tmp_path
    assert [(d.key, d.default, d.value) for d in project.declared] == [("t:size", "small", None),
                                                                       ("aws:region", None, "us-east-1")]


@pytest.mark.parametrize(("type_name", "items", "value", "valid"), [
    # A stack file's scalar reaches the engine's check as text, a list or mapping as itself.
    ("string", None, "8080", True), ("string", None, ["a"], False),
    ("integer", None, "8080", True), ("integer", None, "+7", True), ("integer", None, "8.5", False),
    ("boolean", None, "true", True), ("boolean", None, "yes", False),
    ("object", None, {"a": "b"}, True), ("object", None, "a", False),
    ("array", {"type": "string"}, ["a", "b"], True), ("array", {"type": "integer"}, ["1", 2], True),
    ("array", {"type": "string"}, "a", False),
])
def test_declared_types_are_checked_as_the_engine_checks_them(type_name, items, value, valid):
    assert matches_type(type_name, items, value) is valid


def test_what_their_program_prints_stays_out_of_the_json_document(team, capsys):
    edit(team / "__main__.py", 'name = f"team-{stack}"\n', 'name = f"team-{stack}"\nprint("planning", name)\n')
    code, document, err = plan_json(capsys, team, "dev")
    assert code == 0 and document["stack"] == "dev"
    assert "planning team-dev\n" in err
