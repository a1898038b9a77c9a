#!/usr/bin/env bash
# The LangGraph Agent Server's Python client (langgraph-sdk), for
# tests/it/langgraph_sdk_client.rs (runwright-server's acceptance test with
# the real SDK).
#
#   scripts/langgraph-sdk/setup.sh    makes the venv if missing or stale, then
#                                     prints RUNWRIGHT_LANGGRAPH_SDK_PYTHON=<python>
#                                     as its last line, for `export "$(... | tail -n 1)"`
#
# The venv is made from PyPI with the exact versions of requirements.txt, in
# $RUNWRIGHT_LANGGRAPH_SDK_VENV (default: ~/.cache/runwright/langgraph-sdk-venv).
# Nothing here needs a network but PyPI; no model is called.
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=scripts/langgraph-sdk
VENV=${RUNWRIGHT_LANGGRAPH_SDK_VENV:-$HOME/.cache/runwright/langgraph-sdk-venv}
# shellcheck source=../lib/pinned-venv.sh
. scripts/lib/pinned-venv.sh
pinned_venv "$VENV" "$DIR/requirements.txt"
"$VENV/bin/python" -c 'from langgraph_sdk import get_client' >&2
echo "RUNWRIGHT_LANGGRAPH_SDK_PYTHON=$VENV/bin/python"
