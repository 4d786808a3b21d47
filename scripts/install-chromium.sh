#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the console's browser tests (playwright-core drives
# it through executablePath; Playwright's own browser download is not used). Idempotent: does nothing
# when /usr/bin/chromium is already there. Safe to run from scripts/test.sh before the suite.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
log() { printf '[install-chromium] %s\n' "$*" >&2; }

if [[ -x $CHROMIUM ]]; then
  log "$($CHROMIUM --version 2>/dev/null || echo chromium) is installed"
  exit 0
fi

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root (or sudo) to run: $*"
    exit 1
  fi
}

# Two test runs at once must not both drive apt.
exec 9>/tmp/movebot-install-chromium.lock
flock 9
if [[ -x $CHROMIUM ]]; then exit 0; fi

log 'apt-get install chromium (and fonts so pages render text)'
for attempt in 1 2 3; do
  if as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300 update >/dev/null &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300 \
      install --no-install-recommends chromium fonts-liberation >/dev/null; then
    break
  fi
  if [[ $attempt -eq 3 ]]; then
    log 'apt-get install chromium failed three times'
    exit 1
  fi
  log "apt-get failed (attempt ${attempt}/3), retrying in $((attempt * 5))s"
  sleep $((attempt * 5))
done
[[ -x $CHROMIUM ]] || { log "installed, but $CHROMIUM is missing"; exit 1; }
log "$($CHROMIUM --version 2>/dev/null || echo chromium) installed"
