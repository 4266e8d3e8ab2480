"""genai-infra diff: the comparison of two plan documents, its data-loss guard and exit codes, the real stacks,
and one run against a git ref planned by that commit's own code."""

import copy
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pulumi
import pytest

from genai_platform import cli, planning
from genai_platform.commands import diff as diff_command
from genai_platform.cost import load_prices
from genai_platform.mockcloud import run_under_mocks
from genai_platform.project import read_project
from genai_platform.plan_diff import DATA_HOLDING, REPLACED_BY, diff
from genai_platform.plan_diff import base as plan_base
from genai_platform.plan_diff.properties import SECRET, changes
from genai_platform.plan_diff.render import markdown, rich_report
from genai_platform.stack_file import SECRET_PLACEHOLDER
from rich.console import Console
from genai_platform.stacks.config import ConfigError

ROOT = planning.project_dir(Path(__file__).parent)
STACK_URN = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"
EXIT_DATA_LOSS = 5
TEAM_APP = ROOT / "tests" / "projects" / "team_app"


def resource(name, type_token, parent=STACK_URN, custom=True, protect=False, **inputs):
    return {"urn": f"urn:pulumi:dev::p::{type_token}::{name}", "type": type_token, "name": name, "parent": parent,
            "custom": custom, "protect": protect, "dependencies": [], "inputs": inputs}


def document(*resources, outputs=None, items=(), budget=550.0):
    root = {"urn": STACK_URN, "type": "pulumi:pulumi:Stack", "name": "p-dev", "parent": None, "custom": False,
            "protect": False, "dependencies": [], "inputs": {}}
    return {"project": "p", "stack": "dev", "resources": [root, *resources], "outputs": outputs or {},
            "cost": {"monthly": round(sum(amount for _, amount in items), 2), "budget": budget,
                     "items": [{"urn": urn, "type": "t", "monthly": amount} for urn, amount in items]}}


def render_all(result) -> str:
    console = Console(record=True, width=200, file=open("/dev/null", "w"))
    console.print(rich_report(result))
    return console.export_text() + markdown(result) + json.dumps(result.to_json())


# --- pure diff logic on hand-made documents -------------------------------------------------------------------

def test_added_removed_changed_and_unchanged_are_counted_by_urn():
    kept = resource("kept", "aws:iam/role:Role", description="r")
    base = document(kept, resource("gone", "aws:sqs/queuePolicy:QueuePolicy"), resource("tuned", "aws:sqs/queue:Queue", delaySeconds=0))
    head = document(kept, resource("tuned", "aws:sqs/queue:Queue", delaySeconds=5), resource("new", "aws:sns/topic:Topic", x=1),
                    resource("new2", "aws:iam/role:Role", description="other"))
    result = diff(base, head, "base")
    assert result.counts() == {"added": 2, "removed": 1, "changed": 1, "replaced": 0, "unchanged": 1}
    assert [r.name for r in result.added] == ["new2", "new"]  # in URN order: type first
    assert [r.name for r in result.removed] == ["gone"]
    changed, found = result.changed[0]
    assert changed.name == "tuned" and [(c.path, c.old, c.new) for c in found] == [("delaySeconds", 0, 5)]


def test_property_paths_are_nested_and_json_documents_in_strings_are_compared_inside():
    old = {"ingress": [{"cidrBlocks": ["10.0.0.0/16"], "fromPort": 443}], "tags": {"Name": "a", "k8s.io/role": "x"},
           "policy": json.dumps({"Statement": [{"Action": ["s3:GetObject"]}]})}
    new = {"ingress": [{"cidrBlocks": ["0.0.0.0/0"], "fromPort": 443}, {"fromPort": 80}],
           "tags": {"Name": "b", "k8s.io/role": "x"},
           "policy": json.dumps({"Statement": [{"Action": ["s3:GetObject", "s3:PutObject"]}]})}
    assert [(c.path, c.old, c.new) for c in changes(old, new)] == [
        ("ingress[0].cidrBlocks[0]", "10.0.0.0/16", "0.0.0.0/0"),
        ("ingress[1]", None, {"fromPort": 80}),
        ("policy.Statement[0].Action[1]", None, "s3:PutObject"),
        ("tags.Name", "a", "b"),
    ]
    assert [c.path for c in changes({"tags": {"k8s.io/role": "x"}}, {"tags": {"k8s.io/role": "y"}})] == \
        ['tags["k8s.io/role"]']


def test_a_urn_that_disappears_while_one_of_its_type_appears_under_the_same_parent_is_a_rename():
    parent = resource("docs", "genai:aws:Bucket", custom=False)
    other = resource("other", "genai:aws:Bucket", custom=False)
    base = document(parent, other, resource("docs-bucket", "aws:s3/bucket:Bucket", parent=parent["urn"], forceDestroy=False))
    renamed = document(parent, other, resource("docs-store", "aws:s3/bucket:Bucket", parent=parent["urn"], forceDestroy=False))
    result = diff(base, renamed, "base")
    assert result.counts() == {"added": 0, "removed": 0, "changed": 0, "replaced": 1, "unchanged": 2}
    replacement = result.replaced[0]
    assert (replacement.base_urn.endswith("::docs-bucket"), replacement.urn.endswith("::docs-store"),
            replacement.reason) == (True, True, "renamed")
    assert [(loss.urn, loss.holds, loss.why) for loss in result.data_loss] == [
        (base["resources"][3]["urn"], "bucket", "renamed to docs-store")]

    moved = document(parent, other, resource("docs-store", "aws:s3/bucket:Bucket", parent=other["urn"]))
    result = diff(base, moved, "base")  # another parent: not the same resource renamed
    assert (len(result.removed), len(result.added), result.replaced) == (1, 1, [])
    assert [loss.why for loss in result.data_loss] == ["removed"]


def test_a_renamed_component_pairs_its_children_under_the_new_parent():
    old_parent = resource("dev-rag-documents", "genai:aws:Bucket", custom=False)
    new_parent = resource("dev-rag-docs", "genai:aws:Bucket", custom=False)
    base = document(old_parent, resource("dev-rag-documents-key", "aws:kms/key:Key", parent=old_parent["urn"]))
    head = document(new_parent, resource("dev-rag-docs-key", "aws:kms/key:Key", parent=new_parent["urn"]))
    result = diff(base, head, "base")
    assert sorted((r.type, r.reason) for r in result.replaced) == [("aws:kms/key:Key", "renamed"),
                                                                   ("genai:aws:Bucket", "renamed")]
    assert [(loss.type, loss.holds) for loss in result.data_loss] == [("aws:kms/key:Key", "KMS key")]


@pytest.mark.parametrize(("type_token", "prop", "old", "new", "holds"), [
    ("aws:s3/bucket:Bucket", "bucket", "dev-docs", "dev-documents", "bucket"),
    ("aws:rds/instance:Instance", "storageEncrypted", False, True, "database"),
    ("aws:rds/instance:Instance", "identifier", "dev-postgres", "dev-pg", "database"),
    ("aws:sqs/queue:Queue", "fifoQueue", False, True, "queue"),
    ("aws:kms/key:Key", "keyUsage", "ENCRYPT_DECRYPT", "SIGN_VERIFY", "KMS key"),
    ("gcp:storage/bucket:Bucket", "location", "EUROPE-WEST4", "US", "bucket"),
])
def test_a_replace_forcing_property_replaces_a_stateful_resource_in_place(type_token, prop, old, new, holds):
    base = document(resource("data", type_token, **{prop: old, "tags": {"a": "1"}}))
    head = document(resource("data", type_token, **{prop: new, "tags": {"a": "2"}}))
    result = diff(base, head, "base")
    assert result.counts()["replaced"] == 1 and result.changed == []
    replacement = result.replaced[0]
    assert (replacement.reason, replacement.base_urn == replacement.urn) == (f"forced by {prop}", True)
    assert [(c.path, c.forces) for c in replacement.changes] == [(prop, prop), ("tags.a", None)]
    assert [(loss.holds, loss.why) for loss in result.data_loss] == [(holds, f"replaced: forced by {prop}")]


def test_a_property_updated_in_place_is_a_change_not_a_replacement():
    base = document(resource("db", "aws:rds/instance:Instance", instanceClass="db.t4g.micro", dbSubnetGroupName="a"))
    head = document(resource("db", "aws:rds/instance:Instance", instanceClass="db.t4g.small", dbSubnetGroupName="b"))
    result = diff(base, head, "base")
    assert (result.counts()["changed"], result.replaced, result.data_loss) == (1, [], [])


def test_removing_a_protected_resource_of_any_type_is_data_loss_and_allow_destroy_names_the_urn():
    base = document(resource("role", "aws:iam/role:Role", protect=True), resource("topic", "aws:sns/topic:Topic"))
    head = document()
    result = diff(base, head, "base")
    assert [(loss.type, loss.holds, loss.allowed) for loss in result.data_loss] == [
        ("aws:iam/role:Role", "protected resource", False)]
    assert result.data_loss[0].message() == (
        "urn:pulumi:dev::p::aws:iam/role:Role::role (aws:iam/role:Role, protected resource) would be destroyed: "
        "removed; pass --allow-destroy 'urn:pulumi:dev::p::aws:iam/role:Role::role' if that is intended")
    allowed = diff(base, head, "base", frozenset({base["resources"][1]["urn"]}))
    assert (allowed.refused, allowed.data_loss[0].allowed) == ([], True)


def test_secrets_are_masked_on_both_sides_in_every_format():
    def program(token: str, exported: str):
        def run():
            from pulumi_aws import elasticache
            elasticache.ReplicationGroup("cache", description="c", auth_token=pulumi.Output.secret(token),
                                         node_type="cache.t4g.micro")
            pulumi.export("token", pulumi.Output.secret(exported))
            pulumi.export("plain", "visible-" + exported[:3])
        return run

    base = run_under_mocks(program("base-token-hunter2", "base-output-hunter2")).to_json()
    head = run_under_mocks(program("head-token-hunter2", "head-output-hunter2")).to_json()
    base["resources"].append(resource("leak", "aws:sns/topic:Topic", displayName=f"uses {SECRET_PLACEHOLDER}"))
    head_only = copy.deepcopy(head)
    head_only["resources"] = [r for r in head["resources"] if r["type"] != "aws:elasticache/replicationGroup:ReplicationGroup"]
    for old, new in ((base, head), (head_only, head), (head, head_only)):
        text = render_all(diff(old, new, "base"))
        assert "hunter2" not in text and SECRET_PLACEHOLDER not in text
    text = render_all(diff(head_only, head, "base"))
    assert f'"authToken": "{SECRET}"' in text  # the added cache's inputs, masked
    text = render_all(diff(base, head, "base"))
    assert 'plain: "visible-bas" → "visible-hea"' in text  # a plain output's change shows; the secret one cannot
    assert '"displayName": "[secret]"' in text  # the removed topic's inputs (JSON), the placeholder masked


def test_the_cost_delta_is_per_service_with_the_total_and_the_budget():
    rag = resource("dev-rag", "genai:stack:RagService", custom=False)
    chat = resource("dev-chat", "genai:stack:ChatService", custom=False)
    db = resource("db", "aws:rds/instance:Instance", parent=rag["urn"])
    cache = resource("cache", "aws:elasticache/replicationGroup:ReplicationGroup", parent=rag["urn"])
    web = resource("web", "gcp:cloudrunv2/service:Service", parent=chat["urn"])
    base = document(rag, chat, db, cache, web, items=[(db["urn"], 11.68), (cache["urn"], 11.68), (web["urn"], 5.0)])
    head = document(rag, chat, db, cache, web, items=[(db["urn"], 23.36), (cache["urn"], 11.68), (web["urn"], 5.0)],
                    budget=600.0)
    cost = diff(base, head, "base").cost
    assert cost.services == {"dev-rag": (23.36, 35.04), "dev-chat": (5.0, 5.0)}
    assert (cost.base_total, cost.head_total, cost.delta, cost.base_budget, cost.head_budget) == \
        (28.36, 40.04, 11.68, 550.0, 600.0)
    assert "| dev-rag | $23.36 | $35.04 | +$11.68 |" in markdown(diff(base, head, "base"))


def test_no_changes_is_one_markdown_line():
    base = document(resource("topic", "aws:sns/topic:Topic"))
    assert markdown(diff(base, copy.deepcopy(base), "main (abc1234)")) == (
        "### Diff of `dev` against `main (abc1234)`\n\nNo changes: 1 resources unchanged; $0.00/month.\n\n")


def test_a_base_without_the_stack_adds_everything():
    result = diff(None, document(resource("topic", "aws:sns/topic:Topic")), "main")
    assert result.counts() == {"added": 1, "removed": 0, "changed": 0, "replaced": 0, "unchanged": 0}


class _Store(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("genai:test:Store", name, None, opts)
        from pulumi_aws import s3
        s3.Bucket(f"{name}-bucket", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def _store_plan(name: str, aliases: list | None = None) -> dict:
    return run_under_mocks(lambda: _Store(name, pulumi.ResourceOptions(aliases=aliases or [])),
                           project="p", stack="dev").to_json()


def test_a_component_renamed_with_an_alias_keeps_its_resources_and_loses_no_data():
    base = _store_plan("docs")
    aliased = _store_plan("documents", [pulumi.Alias(name="docs")])
    by_name = {r["name"]: r for r in aliased["resources"]}
    # the component's own alias; the bucket's: pulumi_aws's own type alias (BucketV2), and the inherited ones
    # (its name follows its parent's), in the URN form the plan's mock monitor gives
    assert by_name["documents"]["aliases"] == ["urn:pulumi:dev::p::pulumi:pulumi:Stack$genai:test:Store::docs"]
    assert by_name["documents-bucket"]["aliases"] == [
        "urn:pulumi:dev::p::genai:test:Store$aws:s3/bucketV2:BucketV2::documents-bucket",
        "urn:pulumi:dev::p::genai:test:Store$aws:s3/bucket:Bucket::docs-bucket",
        "urn:pulumi:dev::p::genai:test:Store$aws:s3/bucketV2:BucketV2::docs-bucket"]
    result = diff(base, aliased, "base")
    assert (result.replaced, result.removed, result.added, result.data_loss) == ([], [], [], [])
    assert sorted((r.name, found[0].path) for r, found in result.changed) == [
        ("documents", "(urn, by alias)"), ("documents-bucket", "(urn, by alias)")]

    without = diff(base, _store_plan("documents"), "base")
    assert sorted(r.reason for r in without.replaced) == ["renamed", "renamed"]
    assert [(loss.type, loss.why) for loss in without.refused] == [("aws:s3/bucket:Bucket", "renamed to documents-bucket")]


# --- the replacement table ------------------------------------------------------------------------------------

_SDK = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "kubernetes": "pulumi_kubernetes"}


def _args_class(type_token: str):
    package, middle, name = type_token.split(":")
    module = importlib.import_module(f"{_SDK[package]}.{middle.split('/')[0] if package != 'kubernetes' else middle.replace('/', '.')}")
    return module, getattr(module, f"{name}Args")


def _nested_args(module, annotation: str):
    """The Args class an input's annotation names: ``'CryptoKeyVersionTemplateArgs'`` in the same module, or
    ``'_meta.v1.ObjectMetaArgs'`` relative to the SDK package."""
    *where, name = re.search(r"'([\w.]+Args)'", annotation).group(1).split(".")
    if where:
        module = importlib.import_module(".".join([module.__name__.split(".")[0], *(p.lstrip("_") for p in where)]))
    return getattr(module, name)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _input_names(args_class) -> dict[str, str]:
    """camelCase input name -> its annotation, from the SDK's ``<Type>Args.__init__``."""
    parameters = inspect.signature(args_class.__init__).parameters
    return {_camel(name): str(p.annotation) for name, p in parameters.items() if name not in ("self", "__self__")}


@pytest.mark.parametrize("type_token", sorted(REPLACED_BY))
def test_every_replace_forcing_property_is_a_real_input_of_its_type(type_token):
    module, args_class = _args_class(type_token)
    for prop in REPLACED_BY[type_token].properties:
        first, _, nested = prop.partition(".")
        names = _input_names(args_class)
        assert first in names, f"{type_token}: {first} is not an input of {args_class.__name__}"
        if nested:
            assert nested in _input_names(_nested_args(module, names[first])), f"{type_token}: {prop}"
    assert REPLACED_BY[type_token].source


def test_every_data_holding_type_has_its_replace_forcing_properties_and_the_stacks_stateful_types_are_covered(
        stack_plans):
    assert set(DATA_HOLDING) <= set(REPLACED_BY)
    planned = {r.type for plan in stack_plans.values() for r in plan.resources}
    stateful = {"aws:rds/instance:Instance", "aws:s3/bucket:Bucket", "aws:sqs/queue:Queue", "aws:kms/key:Key",
                "aws:elasticache/replicationGroup:ReplicationGroup", "gcp:storage/bucket:Bucket",
                "gcp:kms/cryptoKey:CryptoKey", "gcp:kms/keyRing:KeyRing"}
    assert stateful <= planned and stateful <= set(DATA_HOLDING)


# --- the command: exit codes (the head is the suite's shared plan) ---------------------------------------------

@pytest.fixture(scope="module")
def dev_document(stack_plans):
    return diff_command.plan_document(stack_plans["dev"], diff_command.budget(read_project(ROOT), "dev"))


@pytest.fixture
def run_diff(dev_document, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(diff_command, "head_document", lambda stack, root, notes: copy.deepcopy(dev_document))

    def run(base: dict | str, *options: str) -> tuple[int, str, str]:
        path = base
        if not isinstance(base, str):
            path = tmp_path / "base.json"
            path.write_text(json.dumps(base))
        code = cli.main(["diff", "dev", "--base", str(path), "--project-dir", str(ROOT), *options])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def with_extra_bucket(document_: dict) -> tuple[dict, str]:
    base = copy.deepcopy(document_)
    archive = resource("dev-archive-bucket", "aws:s3/bucket:Bucket", bucket="dev-archive")
    base["resources"].append(archive)
    return base, archive["urn"]


def test_the_same_plan_exits_0_with_no_changes(run_diff, dev_document):
    code, out, err = run_diff(dev_document, "--format", "markdown")
    unchanged = sum(1 for r in dev_document["resources"] if r["type"] != "pulumi:pulumi:Stack")
    assert (code, err) == (0, "")
    assert f"No changes: {unchanged} resources unchanged" in out


def test_removing_a_bucket_is_refused_with_the_guards_exit_code_unless_its_urn_is_allowed(run_diff, dev_document):
    base, urn = with_extra_bucket(dev_document)
    code, out, err = run_diff(base)
    assert code == EXIT_DATA_LOSS
    assert err == (f"error: dev: data loss: {urn} (aws:s3/bucket:Bucket, bucket) would be destroyed: removed; "
                   f"pass --allow-destroy '{urn}' if that is intended\n")
    assert "  - dev-archive-bucket  (aws:s3/bucket:Bucket)" in out
    assert run_diff(base, "--allow-destroy", urn)[0] == 0
    assert run_diff(base, "--allow-destroy", urn.replace("archive", "other"))[0] == EXIT_DATA_LOSS


def test_the_all_document_is_accepted_and_the_stack_picked(run_diff, dev_document):
    base, _ = with_extra_bucket(dev_document)
    code, out, _ = run_diff({"stacks": [{**base, "stack": "prod"}, base], "errors": []}, "--format", "json")
    assert (code, json.loads(out)["counts"]["removed"]) == (EXIT_DATA_LOSS, 1)


@pytest.mark.parametrize(("base", "error"), [
    pytest.param("no-such-ref-or-file", "error: dev: --base no-such-ref-or-file: neither a plan JSON file nor a git "
                 "ref in ", marks=pytest.mark.end_to_end),  # asks git
    ({"stacks": [], "errors": []}, "holds no plan of dev (it has: none)."),
    ({"resources": "x"}, "not a plan document (no resources list): write one with genai-infra plan dev --format json."),
    ({"resources": [{"urn": "u", "type": "t"}]}, "not a plan document (resources[0] lacks a string urn, type or name)"),
    ({"resources": [], "cost": {"items": [{"urn": "u"}]}}, "not a plan document (cost.items is not a list of {urn, monthly})"),
    ({"stacks": [], "errors": [{"stack": "dev", "exit_code": 2, "error": "dev: stacks/Pulumi.dev.yaml: bad"}]},
     "dev could not be planned there: dev: stacks/Pulumi.dev.yaml: bad"),
])
def test_a_bad_base_exits_2_with_one_line(run_diff, base, error):
    code, out, err = run_diff(base)
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert error in err and err.startswith("error: dev: --base ")


def test_a_head_that_cannot_be_planned_exits_2_with_the_plans_error_line(dev_document, tmp_path, capsys):
    root = _project_copy(tmp_path / "project")
    stack_file = root / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  genai-platform:azCount: seven\n")
    base_file = tmp_path / "base.json"
    base_file.write_text(json.dumps(dev_document))
    code = cli.main(["diff", "dev", "--base", str(base_file), "--project-dir", str(root)])
    out, err = capsys.readouterr()
    assert (code, out, err) == (2, "", "error: dev: stacks/Pulumi.dev.yaml: genai-platform:azCount = 'seven' is "
                                         "invalid: use a whole number.\n")


# --- the real stacks --------------------------------------------------------------------------------------------

def _project_copy(tmp_path: Path) -> Path:
    tmp_path.mkdir(exist_ok=True)
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_dev_with_a_larger_database_class_changes_the_instance_in_place_and_prices_the_difference(
        dev_document, tmp_path):
    root = _project_copy(tmp_path)
    stack_file = root / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  genai-platform:postgresInstanceClass: db.t4g.small\n")
    head = diff_command.head_document("dev", root, [])
    result = diff(dev_document, head, "main")
    assert (result.added, result.removed, result.replaced, result.data_loss) == ([], [], [], [])
    assert [(r.name, [(c.path, c.old, c.new) for c in found]) for r, found in result.changed] == [
        ("dev-postgres-db", [("instanceClass", "db.t4g.micro", "db.t4g.small")])]
    prices = load_prices()
    hourly = prices["rds"]["instance_hourly"]
    expected = round((hourly["db.t4g.small"] - hourly["db.t4g.micro"]) * prices["hours_per_month"], 2)
    assert result.cost.delta == expected
    assert {name: round(head - base, 2) for name, (base, head) in result.cost.changed().items()} == \
        {"dev-platform": expected}


def _renamed(document_: dict, old: str, new: str) -> dict:
    """``document_`` as if the component ``old`` were created as ``new`` (its children named after it)."""
    text = json.dumps(document_)
    return json.loads(re.sub(rf"::{re.escape(old)}\b", f"::{new}", text).replace(f'"name": "{old}', f'"name": "{new}'))


def test_renaming_devs_documents_bucket_component_replaces_its_bucket_and_key_and_the_guard_names_them(
        dev_document):
    result = diff(dev_document, _renamed(dev_document, "dev-rag-documents", "dev-rag-docs"), "main")
    assert (result.added, result.removed) == ([], [])
    replaced = {(r.type, r.reason) for r in result.replaced}
    assert ("aws:s3/bucket:Bucket", "renamed") in replaced and ("genai:aws:Bucket", "renamed") in replaced
    assert [(loss.type, loss.why) for loss in result.refused] == [
        ("aws:kms/key:Key", "renamed to dev-rag-docs-key"), ("aws:s3/bucket:Bucket", "renamed to dev-rag-docs-bucket")]


def test_the_stacks_secure_values_never_show(dev_document):
    without_cache = copy.deepcopy(dev_document)
    without_cache["resources"] = [r for r in dev_document["resources"] if "elasticache" not in r["type"]]
    text = render_all(diff(without_cache, dev_document, "main")) + render_all(diff(dev_document, without_cache, "main"))
    assert SECRET_PLACEHOLDER not in text and f'"authToken": "{SECRET}"' in text


# --- a git ref as the base: planned with that commit's own code ------------------------------------------------

@pytest.fixture(scope="module")
def git_repo(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A repository of the checkout's committed files with three commits: ``base``, ``broken`` (a stack file the
    plan refuses) and ``head`` (a larger dev database); the working tree is ``head``."""
    repo = tmp_path_factory.mktemp("repo")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD"], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)

    def git(*args):
        return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                              capture_output=True, text=True, check=True).stdout.strip()

    stack_file = repo / "stacks" / "Pulumi.dev.yaml"
    original = stack_file.read_text()
    commits = {}
    git("init", "-q")
    for name, text in (("base", original), ("broken", original + "  genai-platform:azCount: seven\n"),
                       ("head", original + "  genai-platform:postgresInstanceClass: db.t4g.small\n")):
        stack_file.write_text(text)
        git("add", "-A")
        git("commit", "-q", "-m", name)
        commits[name] = git("rev-parse", "HEAD")
    return repo, commits


def test_diff_against_a_git_commit_plans_the_base_with_its_own_code(git_repo):
    repo, commits = git_repo
    script = Path(sys.executable).parent / "genai-infra"
    found = subprocess.run([str(script), "diff", "dev", "--base", commits["base"][:10], "--format", "json"], cwd=repo,
                           capture_output=True, text=True, timeout=600)
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert result["base"] == f"{commits['base'][:10]} ({commits['base'][:7]})"
    assert result["counts"]["changed"] == 1 and result["counts"]["replaced"] == result["counts"]["removed"] == 0
    assert result["changed"][0]["changes"] == [{"path": "instanceClass", "old": "db.t4g.micro", "new": "db.t4g.small",
                                                "forces_replacement": None}]
    assert result["cost"]["delta"] > 0


def test_a_commit_whose_stack_cannot_be_planned_is_one_error_line(git_repo):
    repo, commits = git_repo
    with pytest.raises(ConfigError) as refused:
        plan_base.load(commits["broken"], "dev", repo)
    assert str(refused.value) == (
        f"--base {commits['broken'][:7]}: dev could not be planned there (exit 2): error: dev: stacks/Pulumi.dev.yaml: "
        "genai-platform:azCount = 'seven' is invalid: use a whole number.")


def test_a_commit_without_the_stack_is_an_empty_base(git_repo):
    repo, commits = git_repo
    found = plan_base.load(commits["base"], "qa", repo)
    assert (found.document, found.label) == (None, f"{commits['base']} ({commits['base'][:7]})")


def test_the_head_is_planned_while_the_base_s_own_code_plans_it(git_repo, monkeypatch, capsys):
    repo, commits = git_repo
    base_running, head_running = threading.Event(), threading.Event()
    planned = document(resource("jobs", "aws:sqs/queue:Queue", delaySeconds=0))

    def plan_base_commit(commit, stack, root, run):
        base_running.set()
        assert head_running.wait(timeout=60), "the head was not planned while the base was"
        return planned

    def plan_head(stack, root, notes):
        head_running.set()
        assert base_running.wait(timeout=60), "the base was not planned while the head was"
        return planned

    monkeypatch.setattr(plan_base, "plan_commit", plan_base_commit)
    monkeypatch.setattr(diff_command, "head_document", plan_head)
    code = cli.main(["diff", "dev", "--base", commits["base"], "--project-dir", str(repo), "--format", "json"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert json.loads(out)["counts"] == {"added": 0, "removed": 0, "changed": 0, "replaced": 0, "unchanged": 1}


def test_a_head_that_cannot_be_planned_stops_the_base_s_processes(git_repo, monkeypatch, tmp_path, capsys):
    repo, commits = git_repo
    started = tmp_path / "base-planner.pid"

    def plan_base_commit(commit, stack, root, run):
        run("--base x: its plan of dev", [sys.executable, "-c", f"import os, time; "
                                          f"open({str(started)!r}, 'w').write(str(os.getpid())); time.sleep(600)"])

    def plan_head(stack, root, notes):
        for _ in range(600):
            if started.is_file() and started.read_text():
                raise ConfigError("stacks/Pulumi.dev.yaml: genai-platform:azCount = 'seven' is invalid.")
            time.sleep(0.1)
        raise AssertionError("the base's planner never started")

    monkeypatch.setattr(plan_base, "plan_commit", plan_base_commit)
    monkeypatch.setattr(diff_command, "head_document", plan_head)
    code = cli.main(["diff", "dev", "--base", commits["base"], "--project-dir", str(repo)])
    assert (code, capsys.readouterr().err) == (
        2, "error: dev: stacks/Pulumi.dev.yaml: genai-platform:azCount = 'seven' is invalid.\n")
    with pytest.raises(ProcessLookupError):  # terminated, and reaped before diff returned
        os.kill(int(started.read_text()), 0)


@pytest.mark.end_to_end
def test_a_base_process_that_runs_over_the_timeout_is_one_line(monkeypatch):
    monkeypatch.setattr(plan_base, "TIMEOUT_SECONDS", 0.2)
    with pytest.raises(ConfigError) as refused:
        plan_base.Children().run("--base 1a2b3c4: its install", [sys.executable, "-c", "import time; time.sleep(60)"])
    assert str(refused.value) == ("--base 1a2b3c4: its install ran for over 0.2 s and was stopped: pass --base a plan "
                                  "file (genai-infra plan <env> --format json) instead.")


def test_no_base_process_starts_after_the_base_was_stopped():
    children = plan_base.Children()
    children.stop()
    with pytest.raises(plan_base.Cancelled):
        children.run("--base x: its install", [sys.executable, "-c", "raise SystemExit(3)"])


@pytest.mark.parametrize(("pyproject", "flags"), [
    (None, ["--no-build-isolation"]),  # setup.py only: setuptools, which pulumi-policy brings
    ("[project]\nname = 'app'\n", ["--no-build-isolation"]),  # no [build-system]: setuptools too
    ("[build-system]\nrequires = ['setuptools>=61', 'wheel']\n", ["--no-build-isolation"]),
    ("[build-system]\nrequires = ['setuptools>=61', \"tomli; python_version < '3.0'\"]\n", ["--no-build-isolation"]),
    ("[build-system]\nrequires = ['hatchling-not-installed-here>=1.24']\n", []),  # pip fetches it, isolated
    ("[build-system]\nrequires = ['setuptools>=9999']\n", []),
    ("[build-system]\nrequires = ['not a requirement !']\n", []),
    ("[build-system\n", []),  # pip refuses it in its own words
])
def test_the_base_is_built_with_this_environment_s_tools_only_when_they_satisfy_its_build_system(tmp_path, pyproject,
                                                                                                flags):
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    assert plan_base.build_isolation(tmp_path) == flags


@pytest.mark.end_to_end
def test_a_base_whose_code_does_not_install_is_one_line_saying_why(tmp_path):
    repo = tmp_path / "app"
    shutil.copytree(TEAM_APP, repo, ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "setup.py").write_text("raise RuntimeError('the team_lib version file is missing')\n")
    for args in (("init", "-q"), ("add", "-A"), ("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q",
                                                   "-m", "app")):
        subprocess.run(["git", "-C", str(repo), *args], check=True)
    with pytest.raises(ConfigError) as refused:
        plan_base.load("HEAD", "dev", repo)
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short=7", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert str(refused.value) == (f"--base {commit}: its code does not install: RuntimeError: the team_lib version "
                                  "file is missing")


def test_another_teams_project_diffs_against_its_saved_plan(tmp_path, capsys):
    base = planning.plan_project(read_project(TEAM_APP), "dev").to_json()
    gone = next(r for r in base["resources"] if r["type"] == "aws:sqs/queue:Queue")
    base_file = tmp_path / "base.json"
    base_file.write_text(json.dumps({**base, "resources": [*base["resources"],
                                                            {**gone, "urn": gone["urn"] + "-old", "name": "old"}]}))
    code = cli.main(["diff", "dev", "--base", str(base_file), "--project-dir", str(TEAM_APP), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == EXIT_DATA_LOSS, err
    result = json.loads(out)
    assert (result["counts"]["removed"], result["counts"]["added"], [loss["holds"] for loss in result["data_loss"]]) \
        == (1, 0, ["queue"])


def test_another_teams_project_in_a_folder_of_the_repository_is_planned_by_the_bases_own_planner(git_repo):
    repo, commits = git_repo
    found = plan_base.load(commits["base"], "dev", repo / "tests" / "projects" / "team_app")
    expected = planning.plan_project(read_project(TEAM_APP), "dev")
    assert sorted(r["urn"] for r in found.document["resources"]) == sorted(r.urn for r in expected.resources)


@pytest.mark.end_to_end
def test_a_repository_without_its_own_planner_is_planned_by_the_running_one(tmp_path):
    shutil.copytree(TEAM_APP, tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["git", "-C", str(tmp_path / "app"), "init", "-q"], check=True)
    subprocess.run(["git", "-C", str(tmp_path / "app"), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(tmp_path / "app"), "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "commit", "-q", "-m", "app"], check=True)
    found = plan_base.load("HEAD", "dev", tmp_path / "app")
    expected = planning.plan_project(read_project(TEAM_APP), "dev")
    assert sorted(r["urn"] for r in found.document["resources"]) == sorted(r.urn for r in expected.resources)
