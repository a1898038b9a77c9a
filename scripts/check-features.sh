#!/usr/bin/env bash
# Builds (`cargo check`, all targets) the publishable library crates with no
# default features and with each feature alone, so a feature never relies on
# another one being on, and checks that what a feature leaves out stays out
# of the dependency tree.
set -euo pipefail
cd "$(dirname "$0")/.."

check() {
    echo "-- cargo check -p $*"
    cargo check -q --all-targets -p "$@"
}

# The absent crates, by name, in `cargo tree -e normal` of a feature set.
assert_absent() {
    local pattern=$1
    shift
    if cargo tree -e normal --prefix none "$@" | grep -E "^($pattern) v"; then
        echo "error: \`cargo tree $*\` has the crates above" >&2
        exit 1
    fi
}

check runwright --no-default-features
check runwright --no-default-features --features openai
check runwright --no-default-features --features anthropic
check runwright --no-default-features --features tracing
check runwright --no-default-features --features sqlite
check runwright --no-default-features --features postgres
assert_absent 'reqwest|rustls|ring|hyper|sqlx|libsqlite3-sys' -p runwright --no-default-features
assert_absent 'sqlx|libsqlite3-sys' -p runwright

check runwright-recorder --no-default-features
check runwright-recorder --no-default-features --features snapshot
check runwright-recorder --no-default-features --features cli
assert_absent 'clap|insta|reqwest|rustls|ring' -p runwright-recorder --no-default-features
assert_absent 'clap|reqwest|rustls|ring' -p runwright-recorder

echo "features ok"
