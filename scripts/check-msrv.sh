#!/usr/bin/env bash
# The workspace's `rust-version` must be true: no lower than the highest
# `rust-version` a locked dependency declares (any platform, any feature),
# or the crates would claim to build on a toolchain that cannot build their
# dependencies. Fails naming the dependency that needs more.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo metadata --format-version 1 --all-features --locked | python3 -c '
import json, sys

def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))

meta = json.load(sys.stdin)
members = set(meta["workspace_members"])
deps = [(version(p["rust_version"]), p["name"], p["version"], p["rust_version"])
        for p in meta["packages"] if p["id"] not in members and p.get("rust_version")]
need, name, dep_version, declared = max(deps)
failed = False
for p in meta["packages"]:
    if p["id"] not in members or p.get("publish") == []:
        continue
    crate, ours = p["name"], p.get("rust_version")
    if ours is None:
        print(f"error: {crate} declares no rust-version", file=sys.stderr)
        failed = True
    elif version(ours) < need:
        print(f"error: {crate} says rust-version {ours}, but {name} {dep_version} needs {declared}",
              file=sys.stderr)
        failed = True
if failed:
    sys.exit(1)
print(f"rust-version ok: the highest a dependency declares is {declared} ({name} {dep_version})")
'
