#!/usr/bin/env bash
# LangServe's Python client, for tests/it/langserve_client.rs (the
# runwright-server acceptance test with the real RemoteRunnable).
#
#   scripts/langserve/setup.sh    makes the venv if missing or stale, then
#                                 prints RUNWRIGHT_LANGSERVE_PYTHON=<python>
#                                 as its last line, for `export "$(... | tail -n 1)"`
#
# The venv is made from PyPI with the exact versions of requirements.txt, in
# $RUNWRIGHT_LANGSERVE_VENV (default: ~/.cache/runwright/langserve-venv).
# Nothing here needs a network but PyPI; no model is called.
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=scripts/langserve
VENV=${RUNWRIGHT_LANGSERVE_VENV:-$HOME/.cache/runwright/langserve-venv}
# shellcheck source=../lib/pinned-venv.sh
. scripts/lib/pinned-venv.sh
pinned_venv "$VENV" "$DIR/requirements.txt"
"$VENV/bin/python" -c 'from langserve import RemoteRunnable' >&2
echo "RUNWRIGHT_LANGSERVE_PYTHON=$VENV/bin/python"
