"""The error contract of ``genai-infra plan`` for broken stack files: exit 2, one line on stderr naming the file,
key, value (elided) and fix, no traceback, in bounded time and memory; by examples and property-based."""

import json
import re
import shutil
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genai_platform.cli import main
from genai_platform.stacks import config

ROOT = Path(__file__).resolve().parents[2]
FILE = "stacks/Pulumi.dev.yaml"
DEV = (ROOT / FILE).read_text()
CIPHERTEXT = "v1:c2VjcmV0LWNpcGhlcnRleHQtdGhhdC1tdXN0LW5vdC1sZWFr"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", root / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def plan_with(project, capsys, text: str | bytes, *extra: str) -> tuple[int, str, list[str]]:
    target = project / FILE
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    code = main(["plan", "dev", "--project-dir", str(project), "--format", "json", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


def added(*lines: str) -> str:
    return DEV + "".join(f"  {line}\n" for line in lines)


@pytest.mark.parametrize(("text", "message"), [
    (added("aws:regoin: us-east-1"),
     "aws:regoin = 'us-east-1' is invalid: unknown key; remove it or fix the name (did you mean aws:region?)."),
    (added("genai-platfrom:azCount: 3"),
     "genai-platfrom:azCount = '3' is invalid: unknown namespace 'genai-platfrom'; remove it or fix the name "
     "(did you mean genai-platform:azCount?)."),
    (added("genai-platform:tier: prod"),
     "line 9: genai-platform:tier is set twice (lines 7 and 9): keep one; Pulumi refuses duplicate keys."),
    (added("tier: prod"), "line 9: genai-platform:tier is set twice (lines 7 and 9, with and without the "
                          "genai-platform: prefix): keep one."),
    (added("genai-platform:redisAuthToken:", "  secure: hunter2!"),
     "line 9: genai-platform:redisAuthToken has a secure: value that is not Pulumi ciphertext: set it with "
     "pulumi config set --secret genai-platform:redisAuthToken <value>."),
    (added("genai-platform:redisAuthToken: a-long-enough-token"),
     "line 9: genai-platform:redisAuthToken is declared secret in Pulumi.yaml but set in plain text: remove the "
     "line and run pulumi config set --secret genai-platform:redisAuthToken <value>."),
    (DEV.replace("gcp:project: genai-platform-dev", "gcp:project: null"),
     "line 5: gcp:project has no value: set one or remove the line."),
    (DEV.replace("aws:region: us-east-1", "aws:region:"), "line 4: aws:region has no value: set one or remove the line."),
    (DEV.replace("aws:region: us-east-1", "aws:region: us-esat-1"),
     "aws:region = 'us-esat-1' is invalid: use an AWS region such as us-west-1, us-east-1, us-west-2."),
    (DEV.replace("gcp:project: genai-platform-dev", "gcp:project: 12"),
     "line 5: gcp:project = 12 is read as a number by YAML 1.2 (as Pulumi reads it): quote it, gcp:project: \"12\"."),
    # YAML 1.2, as Pulumi reads it: `yes` is a string, so it is no boolean; 1.10 is the number 1.1.
    (added("genai-platform:postgresMultiAz: yes"), "genai-platform:postgresMultiAz = 'yes' is invalid: use true or false."),
    (added("genai-platform:releaseTag: 1.10"),
     "line 9: genai-platform:releaseTag = 1.10 is read as a number by YAML 1.2 (as Pulumi reads it): quote it, "
     "genai-platform:releaseTag: \"1.10\"."),
    (added("genai-platform:interfaceEndpoints: [sts, sts]"),
     "genai-platform:interfaceEndpoints = [\"sts\", \"sts\"] is invalid: list each item once ('sts' appears twice)."),
    (added("genai-platform:systemNodeInstanceTypes: [zz9.large]"),
     "genai-platform:systemNodeInstanceTypes = [\"zz9.large\"] is invalid: item 'zz9.large' is not an EC2 instance "
     "type the AWS provider or genai_platform/cost/prices.json knows: use one of the nearest, z1d.large, m9g.large, "
     "c9g.large."),
    (added("genai-platform:postgresInstanceClass: db.t9.nano"),
     "genai-platform:postgresInstanceClass = 'db.t9.nano' is invalid: it is not an RDS instance class the AWS "
     "provider or genai_platform/cost/prices.json knows: use one of the nearest, db.t3.small, db.t3.micro, db.t3.large."),
    (added("genai-platform:redisNodeType: cache.t9.micro"),
     "genai-platform:redisNodeType = 'cache.t9.micro' is invalid: it is not an ElastiCache node type "
     "genai_platform/cost/prices.json knows: use one of the nearest, cache.t3.micro, cache.t4g.micro, cache.t3.medium."),
    (added("genai-platform:certificateArn: arn:aws:acm:eu-west-1:123456789012:certificate/0f6d3c5e"),
     "genai-platform:certificateArn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f6d3c5e' is invalid: the "
     "certificate is in eu-west-1 but the load balancers are in aws:region = us-east-1 (ACM certificates serve only "
     "their own region): request or import it in us-east-1."),
    (DEV.replace("aws:region: us-east-1", "aws:region: eu-west-1"),
     "aws:region = 'eu-west-1' is invalid: genai_platform/cost/prices.json prices us-east-1 only, so the estimate and "
     "the budget gate would be wrong: use aws:region: us-east-1, or add the region's prices to "
     "genai_platform/cost/prices.json."),
    (added("5: x"), "line 9: the key 5 is not a string: write keys as names, e.g. \"5\": ...."),
    (added("genai-platform:interfaceEndpoints: " + "[" * 500 + "]" * 500),
     "line 9: nests values more than 20 levels deep: flatten it."),
    (added("genai-platform:releaseTag: " + "a" * 70_000), "is 70400 bytes, more than a stack file needs (65536): "
                                                        "keep only config: key: value lines in it."),
    (added("genai-platform:releaseTag: " + "a" * 20_000), "line 9 is 20029 characters long, more than a stack "
                                                        "file needs (16384): split the value over several lines or "
                                                        "shorten it."),
    (added("genai-platform:releaseTag: \"" + "ab" * 300 + "\""),
     "genai-platform:releaseTag = '" + "ab" * 49 + "a... (602 characters) is invalid: use a pinned image tag such as "
     "1.4.2 or a git SHA (not 'latest')."),
    (added("genai-platform:releaseTag: !Ref release"), "line 9: uses the YAML tag !Ref: a stack file holds plain "
                                                       "values (strings, numbers, booleans, lists, mappings); remove "
                                                       "the tag."),
    (added("genai-platform:interfaceEndpoints: !!set {sts}"), "line 9: uses the YAML tag !!set: a stack file holds "),
    (added("genai-platform:releaseTag: 2026-13-45"), "line 9: '2026-13-45' looks like a date but is not one: quote it."),
    (added("? [a]", ": 1"), "line 9: a key is a list or mapping: write keys as names."),
    (DEV.encode("utf-16"), "is not UTF-8 text: save it as UTF-8 (PowerShell: Set-Content -Encoding utf8)."),
    ("config:\n  aws:region: [unclosed\n", "line 3 is not valid YAML"),
])
def test_each_broken_file_gives_one_exact_line(project, capsys, text, message):
    code, out, err = plan_with(project, capsys, text)
    assert (code, out) == (2, "")
    assert len(err) == 1
    assert err[0].startswith(f"error: dev: {FILE}"), err[0]
    assert message in err[0]


def test_a_billion_laughs_file_is_refused_in_bounded_memory(project, capsys):
    laughs = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}' if i else 'x'] * 10)}]\n" for i in range(9))
    tracemalloc.start()
    code, out, err = plan_with(project, capsys, laughs + added("genai-platform:interfaceEndpoints: *l8"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (code, out) == (2, "")
    assert err == [f"error: dev: {FILE}: line 1: holds more than 10000 values once its aliases are expanded: write "
                   "the values out, without nested aliases."]
    assert peak < 50 * 1024 * 1024


def test_valid_ciphertext_and_yaml_1_2_values_are_accepted(project, capsys):
    code, out, err = plan_with(project, capsys, added(
        "genai-platform:redisAuthToken:", f"  secure: {CIPHERTEXT}", 'genai-platform:releaseTag: "1.10"',
        "genai-platform:postgresMultiAz: true"))
    assert code == 0, err
    document = json.loads(out)
    ours = [c["image"] for r in document["resources"] if r["type"] == "kubernetes:apps/v1:Deployment"
            for c in r["inputs"]["spec"]["template"]["spec"]["containers"] if ".dkr.ecr." in c["image"]]
    assert ours and {image.rsplit(":", 1)[-1] for image in ours} == {"1.10"}
    assert all(line.startswith("warning: dev: ") for line in err)


def test_a_component_error_names_the_key_that_fed_it_and_warnings_follow(project, capsys):
    # The config layer checks that this is a CIDR outside the VPC; EKS also wants a private /12 to /24.
    code, out, err = plan_with(project, capsys, added("genai-platform:eksServiceCidr: 172.20.0.0/25"))
    assert (code, out) == (2, "")
    assert err[0] == (f"error: dev: {FILE}: genai-platform:eksServiceCidr = '172.20.0.0/25' was refused by a "
                      "component: service_ipv4_cidr='172.20.0.0/25' is not a range EKS accepts: use a /12 to /24 "
                      "inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 that does not overlap the VPC, e.g. "
                      "'172.20.0.0/16'.")
    assert all(line.startswith("warning: dev: ") for line in err[1:])


def test_diagram_into_a_missing_folder_is_refused_before_planning(project, capsys, tmp_path):
    code, out, err = plan_with(project, capsys, DEV, "--diagram", str(tmp_path / "missing" / "dev.md"))
    assert (code, out) == (2, "")
    assert err == [f"error: --diagram {tmp_path}/missing/dev.md: the folder {tmp_path}/missing does not exist: "
                   "create it or write elsewhere."]


# --- property-based: every value the schema refuses gives exit 2 and one bounded line ---------------------------

_WORD = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), max_size=300)


def _not_a_json_list(text: str) -> bool:
    # The engine passes a list as JSON text, so a string holding a JSON list is a list (pulumi config set's way).
    try:
        return not isinstance(json.loads(text), list)
    except ValueError:
        return True
_BOUND = 500


def _wrong_values(setting: config.Setting) -> st.SearchStrategy[str]:
    """YAML values (as flow text) that ``setting`` must refuse."""
    def refused(value) -> bool:
        return setting.check is not None and setting.check(value) is not None

    if setting.kind == "integer":
        wrong = st.one_of(st.integers(min_value=10**8, max_value=10**30), st.integers(max_value=-1),
                          _WORD.filter(lambda t: not re.fullmatch(r"\s*[-+]?\d+\s*", t)),
                          st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()))
        return wrong.map(json.dumps)
    if setting.kind == "boolean":
        return st.one_of(_WORD.filter(lambda t: t not in ("true", "false")), st.integers()).map(json.dumps)
    if setting.kind == "array":
        return st.one_of(
            _WORD.filter(_not_a_json_list).map(json.dumps),
            st.lists(_WORD, min_size=1, max_size=4).map(lambda items: json.dumps(items + items[:1])),
            st.lists(st.integers(), min_size=1, max_size=3).map(json.dumps),
            st.lists(_WORD, min_size=1, max_size=3).filter(refused).map(json.dumps),
        )
    unquoted = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans()).map(json.dumps)
    return st.one_of(unquoted, _WORD.filter(refused).map(json.dumps)) if setting.check else unquoted


_SETTINGS = [s for s in config.SETTINGS if s.key != "tier" and not s.secret]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_any_value_the_schema_refuses_gives_exit_2_and_one_bounded_line(project, capsys, data):
    setting = data.draw(st.sampled_from(_SETTINGS), label="setting")
    value = data.draw(_wrong_values(setting), label="value")
    code, out, err = plan_with(project, capsys, added(f"genai-platform:{setting.key}: {value}"))
    assert (code, out) == (2, "")
    assert len(err) == 1 and err[0].startswith(f"error: dev: {FILE}"), err
    assert f"genai-platform:{setting.key}" in err[0] and len(err[0]) < _BOUND + 2 * config.MAX_SHOWN


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.from_regex(r"[a-z][a-zA-Z0-9-]{0,30}:[a-zA-Z][a-zA-Z0-9]{0,30}", fullmatch=True), value=_WORD)
def test_any_key_no_provider_reads_is_refused(project, capsys, key, value):
    namespace, name = key.split(":")
    if namespace == "pulumi" or name in ({s.key for s in config.SETTINGS} if namespace == "genai-platform" else
                                         config.provider_keys.provider_keys(namespace) if namespace in ("aws", "gcp")
                                         else ()):
        return
    code, out, err = plan_with(project, capsys, added(f"{key}: {json.dumps(value)}"))
    assert (code, out) == (2, "")
    assert len(err) == 1 and err[0].startswith(f"error: dev: {FILE}: {key} = ") and "unknown" in err[0]
    assert len(err[0]) < _BOUND + 2 * config.MAX_SHOWN


def _not_just_comments(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in text.splitlines())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.filter_too_much])
@given(tail=st.one_of(st.text(st.characters(max_codepoint=0x2FF), min_size=1, max_size=200),
                     st.text(":[]{}-?&*!|>'\"%@`, \n\t#~.0aA1zZ\\", min_size=1, max_size=200)).filter(_not_just_comments))
def test_any_garbage_in_the_file_is_one_line_and_never_a_traceback(project, capsys, tail):
    code, out, err = plan_with(project, capsys, DEV + "  " + tail)
    if code == 0:  # the tail happened to be valid YAML the schema accepts
        return
    assert (code, out) == (2, "")
    assert len(err) == 1 and err[0].startswith(f"error: dev: {FILE}"), err
    assert len(err[0]) < _BOUND + 2 * config.MAX_SHOWN
