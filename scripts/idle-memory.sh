#!/usr/bin/env bash
# Idle memory per WebSocket connection, measured as a server operator would: starts each echo
# server (sansws's tokio_echo and mio_echo, Python websockets, Node ws), connects real clients
# (Python websockets, asyncio, in another process), exchanges messages, lets them go quiet, and
# prints a markdown table of the server's VmRSS growth per open connection. Details and options:
# scripts/idle_memory.py (--help).
#
#   scripts/idle-memory.sh                       2,000 connections, deflate offered and not
#   scripts/idle-memory.sh --mode seed           20 connections echoing 8 MiB messages
#   scripts/idle-memory.sh --quick               200 connections: fails only on a wrong echo
#                                                or a dead server (for CI)
#
# Installs the test peers (scripts/setup-test-peers.sh) and builds the two examples in release
# mode first. Ports from 9401 up, one per server start.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-peers.sh
cargo build --release --quiet --example tokio_echo --example mio_echo
export IDLE_MEMORY_COMMAND="scripts/idle-memory.sh${*:+ $*}"
exec .venv/bin/python scripts/idle_memory.py "$@"
