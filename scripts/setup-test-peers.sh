#!/usr/bin/env bash
# Installs the interoperability test peers into the project (idempotent):
#   - a Python virtualenv in .venv with `websockets` and `wsproto` (tests find .venv/bin/python);
#   - Node's `ws` in tests/peers/node/node_modules, from the committed package.json and
#     package-lock.json (tests/interop_node.rs; needs node and npm);
#   - Chromium from Debian's packages when /usr/bin/chromium is missing
#     (tests/interop_chromium.rs; needs root, or sudo, and apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import websockets, wsproto' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check 'websockets>=12' 'wsproto>=1.2'
fi

# Node's ws: `npm ci` installs exactly what package-lock.json says, again whenever the lock
# file is newer than the installed tree.
node_peer=tests/peers/node
if ! (cd "$node_peer" && node -e 'require("ws")') 2>/dev/null \
  || [ "$node_peer/package-lock.json" -nt "$node_peer/node_modules/.package-lock.json" ]; then
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "setup-test-peers: node and npm are needed for tests/interop_node.rs" >&2
    exit 1
  fi
  (cd "$node_peer" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# Chromium, headless, for tests/interop_chromium.rs.
if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
