#!/usr/bin/env bash
# Line coverage of src/, merged from the test suite (every feature) and every fuzz target's
# corpus replayed once. Prints the per-file table, the lines left unreached and the total;
# exits non-zero when the total is below COVERAGE_MIN percent of lines (default 95).
#
# Corpora replayed: the committed seeds in fuzz/corpus/<target>, and the grown copies that
# fuzz/ci.sh leaves in fuzz/target/corpus-run/<target> when it has run before. Doctests are
# not measured (that needs a nightly toolchain).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
min=${COVERAGE_MIN:-95}

command -v cargo-llvm-cov >/dev/null 2>&1 || cargo install cargo-llvm-cov --locked
rustup component add llvm-tools-preview >/dev/null 2>&1 || true
bash scripts/setup-test-peers.sh

# Fresh profiles and fresh builds of this crate's targets each run (dependencies are kept, in
# target/llvm-cov-target): a test binary left from an older build would add functions of an
# older source to the report.
cargo llvm-cov clean --workspace
cargo llvm-cov --all-features --no-report

# The fuzz targets, built with the same instrumentation on the stable toolchain (libFuzzer's
# driver runs each file given on its command line once; no fuzzing happens). `--target` keeps
# the instrumentation off build scripts.
cov=$root/target/llvm-cov-target
host=$(rustc -vV | sed -n 's/^host: //p')
(cd fuzz && RUSTFLAGS="-Cinstrument-coverage --cfg=coverage --cfg=fuzzing" \
  CARGO_TARGET_DIR="$cov/fuzz" cargo build --quiet --target "$host" --bins)
# `cargo llvm-cov report` reads the objects under its target directory whose names are the
# workspace's targets, so each fuzz binary is linked there under such a name.
replay=$cov/debug/fuzz-replay
rm -rf "$replay"
mkdir -p "$replay"
n=0
for corpus in fuzz/corpus/*/; do
  target=$(basename "$corpus")
  n=$((n + 1))
  bin="$cov/fuzz/$host/debug/$target"
  ln -f "$bin" "$replay/sansws-f$n"
  dirs=("fuzz/corpus/$target")
  [ -d "fuzz/target/corpus-run/$target" ] && dirs+=("fuzz/target/corpus-run/$target")
  echo "coverage: replaying $(find "${dirs[@]}" -type f | wc -l) inputs of $target"
  find "${dirs[@]}" -type f -print0 \
    | LLVM_PROFILE_FILE="$cov/sansws-fuzz-$target-%p-%m.profraw" xargs -0 -r -n 500 "$bin" \
      >/dev/null 2>&1
done

# Only src/: the fuzz targets' own files are left out (tests/ and examples/ are by default).
ignore="^$(printf '%s' "$root" | sed 's/[][\.*^$+?(){}|]/\\&/g')/fuzz/"
if ! cargo llvm-cov report --ignore-filename-regex "$ignore" --show-missing-lines \
  --fail-under-lines "$min"; then
  echo "coverage: line coverage of src/ is below ${min}% (or the report failed)" >&2
  exit 1
fi
echo "coverage: line coverage of src/ is at least ${min}%"
