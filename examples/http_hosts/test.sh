#!/usr/bin/env bash
# Every check of this package, from a fresh machine: installs the test peers (Python
# `websockets` in the repository's .venv, Chromium) with the repository's script, then
# formatting, lint and all tests (axum + Chromium + websockets, wss:// through rustls, HTTP/2
# extended CONNECT through h2, HTTP/3 extended CONNECT through quiche). Run from anywhere:
#   bash examples/http_hosts/test.sh
set -euo pipefail
cd "$(dirname "$0")"
bash ../../scripts/setup-test-peers.sh
# quiche (the HTTP/3 test) builds its vendored BoringSSL with cmake, from Debian's packages.
if ! command -v cmake >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends cmake >/dev/null
fi
cargo fmt -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
