#!/usr/bin/env bash
# The differential scenarios on real LangChain / LangGraph
# (tests/conformance/differential/, README.md there).
#
#   scripts/differential.sh record   re-records reference/ from real LangChain
#   scripts/differential.sh check    records into a temporary folder and fails
#                                    if any file differs from the committed one
#   scripts/differential.sh venv     only makes the venv
#
# The venv is made from PyPI with the exact versions of requirements.txt, in
# $RUNWRIGHT_LC_VENV (default: ~/.cache/runwright/langchain-venv). Nothing here
# needs a network but PyPI, and no real model is called.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=tests/conformance/differential
VENV=${RUNWRIGHT_LC_VENV:-$HOME/.cache/runwright/langchain-venv}
PYTHON=${PYTHON:-python3}

# shellcheck source=lib/pinned-venv.sh
. scripts/lib/pinned-venv.sh
venv() {
    pinned_venv "$VENV" "$DIR/requirements.txt"
}

record() {
    # Scenarios must give the same records every time: record twice, compare.
    local a b
    a=$(mktemp -d) b=$(mktemp -d)
    trap 'rm -rf "$a" "$b"' RETURN
    (cd "$DIR" && "$VENV/bin/python" scenarios.py "$a" && "$VENV/bin/python" scenarios.py "$b")
    if ! diff -r "$a" "$b" >/dev/null; then
        echo "differential: LangChain gave different records on two runs:" >&2
        diff -r "$a" "$b" | head -40 >&2
        return 1
    fi
    if [ "$1" = write ]; then
        rm -f "$DIR"/reference/d*.jsonl
        cp "$a"/*.jsonl "$DIR/reference/"
        echo "differential: recorded $(ls "$a" | wc -l) files into $DIR/reference"
    else
        if ! diff -r "$DIR/reference" "$a"; then
            echo "differential: real LangChain no longer gives the committed records (above:" >&2
            echo "  < committed, > recorded now). Re-record with 'scripts/differential.sh record'" >&2
            echo "  after checking why." >&2
            return 1
        fi
        echo "differential: the $(ls "$a" | wc -l) committed files equal real LangChain's output"
    fi
}

case "${1:-check}" in
venv) venv ;;
record) venv && record write ;;
check) venv && record check ;;
*)
    echo "usage: scripts/differential.sh [check|record|venv]" >&2
    exit 2
    ;;
esac
