#!/usr/bin/env bash
# Runs the json_stream unit tests of the runtime crate (runwright) under
# valgrind's memcheck. The streaming JSON parser keeps its strings in shared
# blocks that it writes in place while values handed out earlier read them
# (runtime/src/parsers/json_stream/text.rs, its only unsafe code): memcheck
# reports any read or write of freed, uninitialized or out-of-bounds memory,
# and any definite leak, that the tests make it do.
#
# Time, measured on the 2-core CI machine with the test binary already built
# and PROPTEST_CASES=16: 2 min 20 s (137 s of CPU) at a load average of 3.7;
# 6 min 10 s while four other builds saturated the machine (load average 10).
# The test that shares one long string across block growth takes about half
# of the CPU time under memcheck, so it runs in a valgrind process of its own,
# beside the one for all the other tests.
#
# Env:
#   PROPTEST_CASES  cases per property test (default 16; the tests ask for 256,
#                   and proptest lets this variable override that).
#
# Exits non-zero, saying why, on any memcheck error, any failed test, or when
# a part ran no test at all.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
export PROPTEST_CASES="${PROPTEST_CASES:-16}"
filter="parsers::json_stream::"
slow="parsers::json_stream::tests::behaviour::long_strings_share_storage_across_block_growth"

fail() {
    echo "valgrind-json-stream: FAILED: $*" >&2
    exit 1
}

# Both come with the machine; a machine without them gets Debian's packages.
if ! command -v valgrind >/dev/null || ! command -v jq >/dev/null; then
    echo "valgrind-json-stream: installing valgrind and jq (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind jq >/dev/null ||
        fail "valgrind or jq is missing and could not be installed"
fi

# The unit-test binary of the runtime crate: the one artifact with an executable.
bins=$(cargo test -p runwright --lib --no-run --message-format=json |
    jq -r 'select(.reason == "compiler-artifact" and .executable != null) | .executable')
[ "$(printf '%s\n' "$bins" | grep -c .)" -eq 1 ] || fail "expected one test binary, got: $bins"
bin=$bins

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# memcheck PART ARGS...: the test binary with ARGS under memcheck; its output
# goes to $logs/PART. Exits 1 on a memcheck error, 101 on a failed test.
memcheck() {
    local part=$1
    shift
    valgrind --tool=memcheck --error-exitcode=1 \
        --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
        "$bin" "$@" >"$logs/$part" 2>&1
}

echo "valgrind-json-stream: $bin $filter (PROPTEST_CASES=$PROPTEST_CASES)"
memcheck slow --exact "$slow" &
slow_pid=$!
memcheck rest "$filter" --skip "$slow" &
rest_pid=$!
slow_status=0
wait "$slow_pid" || slow_status=$?
rest_status=0
wait "$rest_pid" || rest_status=$?

total=0
for part in slow rest; do
    status_var="${part}_status"
    status=${!status_var}
    log="$logs/$part"
    echo "---- $part"
    cat "$log"
    [ "$status" -ne 1 ] || fail "memcheck reported errors ($part, see the report above)"
    [ "$status" -eq 0 ] || fail "the tests failed under valgrind ($part, exit status $status)"
    grep -q "ERROR SUMMARY: 0 errors" "$log" || fail "memcheck's summary is not clean ($part)"
    passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$log")
    [ "${passed:-0}" -gt 0 ] || fail "no test ran ($part)"
    total=$((total + passed))
done
echo "valgrind-json-stream: ok, $total tests clean under memcheck"
