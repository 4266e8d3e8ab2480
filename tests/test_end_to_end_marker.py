"""``-m 'not end_to_end'`` is the in-process suite: a test that starts a process without the marker fails."""

import subprocess

import pytest


def test_a_test_without_the_marker_cannot_start_a_process(request):
    with pytest.raises(AssertionError) as refused:
        subprocess.run(["true"], check=False)
    assert str(refused.value) == f"{request.node.nodeid} starts ['true']: mark it @pytest.mark.end_to_end"


@pytest.mark.end_to_end
def test_a_marked_test_starts_processes():
    assert subprocess.run(["true"], check=False).returncode == 0
