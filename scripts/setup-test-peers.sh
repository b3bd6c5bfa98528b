#!/usr/bin/env bash
# Installs the interoperability test peers into the project (idempotent): a Python virtualenv
# in .venv with `websockets` and `wsproto`. Tests find it at .venv/bin/python.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import websockets, wsproto' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check 'websockets>=12' 'wsproto>=1.2'
fi
