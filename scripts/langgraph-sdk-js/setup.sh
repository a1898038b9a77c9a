#!/usr/bin/env bash
# The LangGraph Agent Server's JavaScript client (@langchain/langgraph-sdk,
# pinned by package-lock.json), for tests/it/langgraph_sdk_client.rs
# (runwright-server's acceptance test with the real JS SDK), run with the
# machine's Node.
#
#   scripts/langgraph-sdk-js/setup.sh    installs node_modules here from the
#                                        npm registry when missing or stale,
#                                        then prints RUNWRIGHT_LANGGRAPH_SDK_NODE=<node>
#                                        as its last line, for `export "$(... | tail -n 1)"`
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    # The machine's kind has them; a bare Debian gets its own.
    apt-get install -y -q nodejs npm >/dev/null
fi
NODE=${NODE:-$(command -v node)}
stamp=node_modules/.package-lock.json.installed
if ! cmp -s package-lock.json "$stamp"; then
    rm -rf node_modules
    npm ci --no-audit --no-fund --loglevel=error >&2
    cp package-lock.json "$stamp"
fi
"$NODE" --input-type=module -e 'await import("@langchain/langgraph-sdk")' >&2
echo "RUNWRIGHT_LANGGRAPH_SDK_NODE=$NODE"
