"""The warnings a plan shows: the program's and the components', not an installed SDK's import-time deprecations."""

import sysconfig
import warnings
from pathlib import Path

from genai_platform import planning

SDK_FILE = str(Path(sysconfig.get_paths()["purelib"]) / "pulumi_aws" / "s3" / "bucket_v2.py")
PROGRAM_FILE = str(Path(__file__).resolve().parents[1] / "projects" / "team_app" / "__main__.py")


def test_an_installed_packages_deprecation_is_left_out_and_everything_else_kept_once_on_one_line():
    notes = ["from the engine's log"]
    with planning.program_warnings(notes):
        warnings.warn_explicit("s3.BucketV2 has been deprecated in favor of s3.Bucket", DeprecationWarning,
                               SDK_FILE, 935)
        warnings.warn_explicit("make_queue is deprecated: use QueueWithDlq", DeprecationWarning, PROGRAM_FILE, 3)
        for _ in range(2):
            warnings.warn_explicit("a library's\n   user warning", UserWarning, SDK_FILE, 10)
    assert notes == ["from the engine's log", "a library's user warning", "make_queue is deprecated: use QueueWithDlq"]


def test_warnings_raised_while_the_plan_fails_are_kept():
    notes: list[str] = []
    try:
        with planning.program_warnings(notes):
            warnings.warn_explicit("before the error", UserWarning, PROGRAM_FILE, 4)
            raise ValueError("refused")
    except ValueError:
        pass
    assert notes == ["before the error"]
