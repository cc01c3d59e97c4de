#!/usr/bin/env bash
# Tools of the TypeScript client's tests (clients/typescript): Node.js >= 20 with npm, and
# Chromium from the distribution for the browser test. Installed with apt when missing (CI runs
# on a fresh Debian machine); the npm packages themselves come from package-lock.json (npm ci).
#
# Usage: hack/ts-client.sh [node|all]   (default all: node and chromium)
# Idempotent: exits at once when everything is there.
set -euo pipefail
what="${1:-all}"
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
apt_install() {
  echo "hack/ts-client.sh: installing $* with apt" >&2
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >&2
}
node_ok() {
  command -v node >/dev/null && command -v npm >/dev/null &&
    [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]
}
if ! node_ok; then
  apt_install nodejs npm || apt_install nodejs
  if ! node_ok; then
    echo "hack/ts-client.sh: Node.js >= 20 with npm is required (the distribution's is $(node --version 2>/dev/null || echo missing)); install it, e.g. from the NodeSource apt repository" >&2
    exit 1
  fi
fi
if [ "$what" = all ] && ! command -v chromium >/dev/null; then
  apt_install chromium
fi
