#!/usr/bin/env bash
# The release check (.ci/run runs it): what `cargo publish` would ship builds and passes its
# tests on its own, the public API matches the committed listing, and the MSRV builds.
#
#   1. `cargo package`: the crate as published (files per `include` in Cargo.toml) builds.
#   2. The packaged crate's tests pass from target/package/sansws-<version>, with its own
#      copy of the test peers (scripts/setup-test-peers.sh inside it): nothing the crate needs
#      lives outside it.
#   3. docs/public-api.txt is what cargo-public-api lists now (nightly rustdoc JSON); a
#      difference fails, so every API change shows in review. After an intended change:
#      UPDATE_PUBLIC_API=1 bash scripts/release-check.sh
#   4. The MSRV (rust-version in Cargo.toml) builds the library, with every feature and with
#      none, and a dependent crate's tests drive it (see below for why not the crate's own).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -1)
step() { printf '\n--- release check: %s\n' "$1"; }

step "cargo package (builds the packaged crate)"
cargo package --locked
packaged="$root/target/package/sansws-$version"

step "the packaged crate's tests, from $packaged"
(
  cd "$packaged"
  bash scripts/setup-test-peers.sh
  # The repository's target directory, so dependencies built for its tests are reused; the
  # crate itself is built from the packaged sources (another path, so other artifacts).
  CARGO_TARGET_DIR="$root/target" cargo test --all-features --locked
)

step "public API listing (docs/public-api.txt)"
# cargo-public-api reads nightly rustdoc's JSON; a nightly already installed is kept as it is
# (a newer one may change the JSON format), one is installed only when missing.
rustup run nightly rustc --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
command -v cargo-public-api >/dev/null 2>&1 || cargo install --locked cargo-public-api@0.52.0
listing=$(mktemp)
# -ss: without blanket and auto-trait impls, which follow from the rest and change with the
# compiler rather than with this crate.
cargo public-api --all-features -ss >"$listing"
if [ "${UPDATE_PUBLIC_API:-0}" = 1 ]; then
  cp "$listing" docs/public-api.txt
  echo "docs/public-api.txt updated"
elif ! diff -u docs/public-api.txt "$listing"; then
  echo "release check: the public API differs from docs/public-api.txt (diff above)." >&2
  echo "If the change is intended: UPDATE_PUBLIC_API=1 bash scripts/release-check.sh" >&2
  rm -f "$listing"
  exit 1
fi
rm -f "$listing"

step "MSRV $msrv: the library builds (every feature, and no_std) and is tested"
rustup toolchain install "$msrv" --profile minimal >/dev/null
cargo "+$msrv" build --locked --lib --all-features
cargo "+$msrv" build --locked --lib --no-default-features
# The crate's own tests cannot run at the MSRV: cargo builds every dev-dependency for any test
# target, and two need newer Rust (criterion 0.8: 1.86, tokio-websockets 0.13: 1.89). The
# firmware example is a dependent crate whose host test drives the library (handshake-free
# echo of text and binary, permessage-deflate built in), so it runs at the MSRV instead.
(cd examples/no_std_firmware && cargo "+$msrv" test --locked)
step "release check passed"
