"""``genai-infra --help`` loads no provider SDK (they take seconds; benchmarks/cli_help.py prints the time)."""

import json
import subprocess
import sys

import pytest

from genai_platform.cli import main
from genai_platform.commands import SUMMARIES

HEAVY = ("pulumi_aws", "pulumi_gcp", "pulumi_kubernetes", "pulumi_policy", "boto3", "stacks", "components")

IMPORTED_AFTER = """
import json, sys
from genai_platform.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def imported_after(argv: list[str]) -> set[str]:
    result = subprocess.run([sys.executable, "-c", IMPORTED_AFTER.format(argv=argv)], capture_output=True,
                            text=True, timeout=60, check=True)
    return {name.split(".")[0] for name in json.loads(result.stderr.splitlines()[-1])}


@pytest.mark.end_to_end
def test_top_level_help_imports_no_provider_sdk_and_no_command():
    imported = imported_after(["--help"])
    assert not imported & set(HEAVY)
    assert "rich" not in imported


@pytest.mark.end_to_end
def test_a_command_is_imported_only_when_chosen():
    imported = imported_after(["bootstrap", "--help"])
    assert "boto3" in imported
    assert not imported & {"pulumi_aws", "pulumi_gcp", "pulumi_kubernetes", "pulumi_policy"}


def test_top_level_help_lists_every_command_with_its_summary(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for name, summary in SUMMARIES.items():
        assert f"{name} {summary}" in out
