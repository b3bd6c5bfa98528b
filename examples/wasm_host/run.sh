#!/usr/bin/env bash
# Builds the sansws wasm module and starts the Node.js echo server that drives it.
#   bash examples/wasm_host/run.sh [HOST:PORT]     (default 127.0.0.1:9501)
# Needs rustup (it adds the wasm32-unknown-unknown target) and Node.js 18 or newer.
set -euo pipefail
cd "$(dirname "$0")"
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
cargo build --release --locked --target wasm32-unknown-unknown >&2
exec node host.mjs "${1:-127.0.0.1:9501}"
