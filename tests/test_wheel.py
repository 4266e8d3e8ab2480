"""Other teams install the wheel into their own project and compose their stacks from our components.

Everything installs under ``genai_platform``, so a project with its own ``components``, ``stacks`` and
``policies`` packages keeps them. The installed tree is also where the import layers are checked: the
repository maps its top-level folders into the namespace (setup.py), which import analysers cannot follow.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pulumi
import pytest

ROOT = Path(__file__).resolve().parents[1]
# A consumer has no checkout on its path: drop a PYTHONPATH pointing at one (the suite run from a worktree).
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}

OWN_PACKAGES = ("components", "stacks", "policies")
NOT_SOURCES = (".git", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".ruff_cache")
STALE_BUILD = Path("build/lib/components/__init__.py")

CONSUMER = textwrap.dedent("""
    import os
    import components, policies, stacks
    import genai_platform.components
    from genai_platform.components.aws import QueueWithDlq, QueueWithDlqArgs, Vpc, VpcArgs
    from genai_platform.mockcloud import run_under_mocks

    print(*(os.path.relpath(package.__file__) for package in (components, stacks, policies)))
    assert "site-packages" in genai_platform.components.__file__, genai_platform.components.__file__

    def program():
        Vpc("team-net", VpcArgs(zone_count=2, nat_strategy="none"))
        QueueWithDlq("team-jobs", QueueWithDlqArgs())

    plan = run_under_mocks(program)
    print(len(plan.of_type("aws:ec2/subnet:Subnet")), len(plan.of_type("aws:ec2/natGateway:NatGateway")),
          len(plan.of_type("aws:sqs/queue:Queue")), plan.of_type("genai:aws:Vpc")[0].urn)
""")

LAYERS = textwrap.dedent("""
    import json, grimp
    graph = grimp.build_graph("genai_platform", cache_dir=None)
    edges = sorted([module, imported] for module in graph.modules
                   for imported in graph.find_modules_directly_imported_by(module))
    print(json.dumps({"modules": sorted(graph.modules), "edges": edges}))
""")


def _not_sources(folder: str, names: list[str]) -> set[str]:
    """What the wheel's copy of the checkout leaves out: build output, caches and any virtualenv (.venv, and the
    lowest-versions job's .venv-lowest), which would be a gigabyte to copy."""
    return (set(shutil.ignore_patterns(*NOT_SOURCES)(folder, names))
            | {name for name in names if (Path(folder) / name / "pyvenv.cfg").is_file()})


@pytest.fixture(scope="module")
def consumer(tmp_path_factory) -> Path:
    """The python of a fresh venv with the built wheel installed, inside a project with packages of its own."""
    tmp = tmp_path_factory.mktemp("wheel")
    # Built from a copy, so the checkout gets no build/ or egg-info; the copy is given what a build from before the
    # namespace move left in build/lib, which setuptools would ship (pypa/setuptools#1871).
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_not_sources)
    (source / STALE_BUILD).parent.mkdir(parents=True)
    (source / STALE_BUILD).write_text("raise ImportError('left by an old build')\n")
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(source)], check=True, capture_output=True, timeout=300, env=ENV)
    wheel = next(dist.glob("genai_platform-*.whl"))
    (tmp / "files.txt").write_text("\n".join(zipfile.ZipFile(wheel).namelist()))

    env_dir = tmp / "consumer-env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True, env=ENV).strip())
    # Reuse the installed dependencies (pulumi, providers, grimp) instead of downloading 1 GB again; a plain
    # path entry does not run the editable-install hook of this checkout that lives there too.
    (site / "deps.pth").write_text(str(Path(pulumi.__file__).resolve().parents[1]) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300, env=ENV)

    # The other team of the tests (tests/projects/team_app), with its helpers in a package named components
    # and packages named stacks and policies of its own.
    project = tmp / "team-project"
    shutil.copytree(ROOT / "tests" / "projects" / "team_app", project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "team_lib").rename(project / "components")
    for module in (project / "__main__.py", *(project / "components").glob("*.py")):
        module.write_text(module.read_text().replace("team_lib", "components"))
    for package in OWN_PACKAGES:
        (project / package).mkdir(exist_ok=True)
        (project / package / "__init__.py").touch()
    return python


def _run(python: Path, code: str) -> str:
    result = subprocess.run([str(python), "-c", code], cwd=python.parents[2] / "team-project", capture_output=True,
                            text=True, timeout=300, env=ENV)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_wheel_serves_components_next_to_a_project_s_own_components_stacks_and_policies(consumer):
    own, counts = _run(consumer, CONSUMER).splitlines()
    assert own.split() == ["components/__init__.py", "stacks/__init__.py", "policies/__init__.py"]
    subnets, nat_gateways, queues, vpc_urn = counts.split()
    assert (subnets, nat_gateways, queues) == ("6", "0", "2")
    # Type tokens are the released ones: the namespace moved modules, not URNs.
    assert vpc_urn == "urn:pulumi:test::genai-platform::pulumi:pulumi:Stack$genai:aws:Vpc::team-net"


def test_the_installed_genai_infra_plans_that_project_with_its_own_components_package(consumer):
    project = consumer.parents[2] / "team-project"
    result = subprocess.run([str(consumer.parent / "genai-infra"), "plan", "dev", "--project-dir", str(project)],
                            cwd=project, capture_output=True, text=True, timeout=300, env=ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("PASS dev: 0 mandatory, ")
    assert "team-dev-net  genai:aws:Vpc" in result.stdout


def test_the_wheel_installs_every_module_under_one_namespace_even_over_an_old_build(consumer):
    top_level = (consumer.parents[2] / "consumer-env").glob("lib/python*/site-packages/genai_platform-*.dist-info")
    assert (next(top_level) / "top_level.txt").read_text().split() == ["genai_platform"]
    shipped = (consumer.parents[2] / "files.txt").read_text().split()
    assert {name.split("/")[0] for name in shipped if ".dist-info/" not in name} == {"genai_platform"}


@pytest.fixture(scope="module")
def import_graph(consumer) -> dict:
    return json.loads(_run(consumer, LAYERS))


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in OWN_PACKAGES else "tool"


LAYER_ORDER = ("tool", "stacks", "policies", "components")
"""Top to bottom: the command-line tool uses the program, the pack and the library; the program uses the
library; the pack reads the library's conventions (tags); the library imports none of them."""


def test_imports_go_down_the_layers_only(import_graph):
    upward = [(module, imported) for module, imported in import_graph["edges"]
              if LAYER_ORDER.index(_layer(imported)) < LAYER_ORDER.index(_layer(module))]
    assert upward == []


def test_no_module_imports_itself_through_others(import_graph):
    imports: dict[str, set[str]] = {}
    for module, imported in import_graph["edges"]:
        imports.setdefault(module, set()).add(imported)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in imports.get(todo.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    circles = sorted((module, imported) for module, imported in import_graph["edges"] if reaches(imported, module))
    assert circles == []


AWS_DOMAIN_LAYERS = (
    {"capacity", "data", "fargate", "observability", "ops"},
    {"eks", "network"},
    {"account", "data_helpers", "limits", "iam_policies"},
)
"""``components.aws`` by domain, top to bottom: a domain imports domains of lower layers only (capacity and
data need the cluster's pod identities), never one beside it; the shared helpers sit below them all."""


def test_aws_domains_import_downwards_and_never_beside_themselves(import_graph):
    def domain(module: str) -> str | None:
        parts = module.split(".")
        return parts[3] if parts[1:3] == ["components", "aws"] and len(parts) > 3 else None

    def layer(name: str) -> int:
        return next(index for index, names in enumerate(AWS_DOMAIN_LAYERS) if name in names)

    wrong = [(module, imported) for module, imported in import_graph["edges"]
             if domain(module) and domain(imported) and domain(module) != domain(imported)
             and layer(domain(imported)) <= layer(domain(module))]
    assert wrong == []
    found = {domain(module) for module in import_graph["modules"]} - {None}
    assert found == set().union(*AWS_DOMAIN_LAYERS)
