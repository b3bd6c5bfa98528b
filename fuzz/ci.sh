#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time from its seed corpus, failing on
# any crash, timeout or out-of-memory. FUZZ_SECONDS sets the time per target (default 30).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-30}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
python3 make_corpus.py >/dev/null
cargo +nightly fuzz build -O
for target in $(cargo +nightly fuzz list); do
  dict=()
  case "$target" in handshake_*|h2_handshake|server_upgrade|extension_header) dict=(-dict=dict_http.dict) ;; esac
  # Run from a copy, so the committed seeds stay as they are.
  work="target/corpus-run/$target"
  rm -rf "$work"; mkdir -p "$work"; cp -r "corpus/$target/." "$work/" 2>/dev/null || true
  echo "fuzz: $target for ${seconds}s"
  cargo +nightly fuzz run -O "$target" "$work" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 "${dict[@]}" 2>&1 \
    | grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|INFO: Done|==.*ERROR|SUMMARY)' || true
  # cargo fuzz exits non-zero on a finding; pipefail would hide it behind grep, so check artifacts.
  if ls "artifacts/$target"/* >/dev/null 2>&1; then
    echo "fuzz: $target found a failing input:"; ls "artifacts/$target"; exit 1
  fi
done
echo "fuzz: all targets ran clean"
