#!/usr/bin/env bash
# One command on a fresh machine: create .venv, install the project with everything the tests
# need, then run the main job (the offline plan of the dev stack).
#   ./setup.sh            set up, then plan dev
#   ./setup.sh --no-plan  set up only
# pip keeps its download cache in ~/.cache/pip, so a second run installs the ~1 GB of provider
# SDKs from disk; an up-to-date .venv is left alone.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "error: genai-platform needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2; exit 2; }

# The editable install maps the folders (setup.py) when it runs, so a new package or mapping means a reinstall.
stamp=.venv/.installed-$(cat pyproject.toml setup.py */__init__.py 2>/dev/null | sha256sum | cut -c1-16)
started=$SECONDS
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || { echo "setup: creating .venv with $("$PYTHON" --version)"; "$PYTHON" -m venv .venv; }
  echo "setup: installing genai-platform with its test tools into .venv: Pulumi, the AWS, GCP and Kubernetes" \
       "provider SDKs (~1 GB; minutes on a fresh machine, seconds from pip's cache), boto3, pytest, moto"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-* && touch "$stamp"
  echo "setup: installed $(.venv/bin/python -m pip list --format=freeze 2>/dev/null | wc -l) packages in" \
       "$((SECONDS - started)) s"
else
  echo "setup: .venv is up to date with pyproject.toml (nothing installed)"
fi

if [ "${1:-}" != "--no-plan" ]; then
  echo "setup: planning the dev stack offline (.venv/bin/genai-infra plan dev)"
  .venv/bin/genai-infra plan dev
fi
