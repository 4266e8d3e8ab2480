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

# The editable install maps top-level packages when it runs, so a new package means a reinstall.
stamp=.venv/.installed-$(cat pyproject.toml */__init__.py 2>/dev/null | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-* && touch "$stamp"
fi

if [ "${1:-}" != "--no-plan" ]; then
  .venv/bin/genai-infra plan dev
fi
