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
PYTHON=${PYTHON:-python3}

stamp="$VENV/.requirements"
if ! { [ -x "$VENV/bin/python" ] && cmp -s "$DIR/requirements.txt" "$stamp"; }; then
    if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
        apt-get install -y -q python3-venv >/dev/null
    fi
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$DIR/requirements.txt"
    cp "$DIR/requirements.txt" "$stamp"
fi
"$VENV/bin/python" -c 'from langserve import RemoteRunnable' >&2
echo "RUNWRIGHT_LANGSERVE_PYTHON=$VENV/bin/python"
