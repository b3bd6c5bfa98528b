#!/usr/bin/env bash
# The test command: sets up the test peers that nobody here wrote (once), then runs every
# test with every feature. Works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-peers.sh
cargo test --all-features "$@"
