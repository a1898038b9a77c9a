#!/usr/bin/env bash
# Headless Chromium for the trace viewer's browser test
# (recorder/tests/view_browser.rs): Debian's `chromium` package, installed with
# apt-get when /usr/bin/chromium is missing. Nothing else is downloaded.
#
# Usage: setup.sh [install|check]        (default: install)
#   install  installs chromium if missing (needs root, or sudo), then checks it
#   check    prints the browser's version; exit status 1 when it is missing
#
# Then: RUNWRIGHT_REQUIRE_CHROMIUM=1 cargo test -p runwright-recorder --all-features --test view_browser
# (without the variable the test passes with a note when the browser is missing).
# Env: CHROMIUM (default /usr/bin/chromium)   the browser the check runs
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

log() { printf '[chromium] %s\n' "$*" >&2; }

check() {
  if [[ ! -x $CHROMIUM ]]; then
    log "$CHROMIUM is missing: bash scripts/chromium/setup.sh install"
    return 1
  fi
  # --version needs no display and no profile.
  "$CHROMIUM" --version
}

install() {
  if [[ -x $CHROMIUM ]]; then
    log "already installed: $("$CHROMIUM" --version)"
    return
  fi
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { log "not root and no sudo: install Debian's chromium package by hand"; exit 1; }
    sudo=(sudo)
  fi
  local start=$SECONDS
  log "installing Debian's chromium (apt-get)"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  log "installed in $((SECONDS - start)) s"
  check
}

case "${1:-install}" in
  install) install ;;
  check) check ;;
  *) echo "usage: $0 [install|check]" >&2; exit 2 ;;
esac
