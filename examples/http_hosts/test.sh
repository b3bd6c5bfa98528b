#!/usr/bin/env bash
# Every check of this package, from a fresh machine: installs the test peers (Python
# `websockets` in the repository's .venv, Chromium) with the repository's script, then
# formatting, lint and all tests (axum + Chromium + websockets, wss:// through rustls, HTTP/2
# extended CONNECT through h2). Run from anywhere: bash examples/http_hosts/test.sh
set -euo pipefail
cd "$(dirname "$0")"
bash ../../scripts/setup-test-peers.sh
cargo fmt -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
