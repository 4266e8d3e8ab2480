"""The console script settles the collector once its command is imported, and before the command runs."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from genai_platform import cli, heap

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.end_to_end
def test_settling_freezes_what_is_alive_and_raises_the_youngest_threshold():
    # In a process of its own: nothing frozen is ever freed, and this one belongs to the test run.
    code = ("import gc; from genai_platform import heap; before = gc.get_threshold(); heap.settle_imports(); "
            "print(gc.get_freeze_count() > 0, gc.get_threshold()[0], gc.get_threshold()[1:] == before[1:])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == ["True", str(heap.YOUNGEST_GENERATION_THRESHOLD), "True"]


def test_the_console_script_settles_after_parsing_and_before_the_command(monkeypatch, capsys):
    from genai_platform.commands import plan

    events = []
    real_command = plan.run
    monkeypatch.setattr(heap, "settle_imports", lambda: events.append(("settled", plan.__name__ in sys.modules)))
    monkeypatch.setattr(plan, "run", lambda args: events.append("command") or real_command(args))
    monkeypatch.setattr(sys, "argv", ["genai-infra", "plan", "qa", "--project-dir", str(ROOT)])
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == 2 and events == [("settled", True), "command"]
    assert capsys.readouterr().err.startswith("error: qa: stacks/Pulumi.qa.yaml does not exist")


def test_the_installed_entry_point_is_run_not_main():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["genai-infra"] == "genai_platform.cli:run"
