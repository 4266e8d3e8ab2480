"""Other teams install the wheel and compose their own stacks from ``components``."""

import os
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONSUMER = textwrap.dedent("""
    import genai_platform.components
    from genai_platform.components.aws import Vpc, VpcArgs
    from genai_platform.mockcloud import run_under_mocks

    assert "site-packages" in genai_platform.components.__file__, genai_platform.components.__file__
    plan = run_under_mocks(lambda: Vpc("team-net", VpcArgs(zone_count=2, nat_strategy="none")))
    print(len(plan.of_type("aws:ec2/subnet:Subnet")), len(plan.of_type("aws:ec2/natGateway:NatGateway")))
""")


def test_built_wheel_installs_and_serves_components_outside_the_checkout(tmp_path):
    # A consumer has no checkout on its path: drop a PYTHONPATH pointing at one (the suite run from a worktree).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True, timeout=300, env=env)
    wheel = next(dist.glob("genai_platform-*.whl"))

    env_dir = tmp_path / "consumer-env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True, env=env).strip())
    # Reuse the already installed dependencies (pulumi, providers) instead of downloading 1 GB again;
    # a plain path entry does not run the editable-install hook of this checkout.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300, env=env)

    result = subprocess.run([str(python), "-c", CONSUMER], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["6", "0"]
