#!/usr/bin/env bash
# Builds the firmware image, runs it under QEMU (MPS2 AN386 board, Cortex-M4) with a timeout,
# and compares what it printed over semihosting with expected-transcript.txt. Lines starting
# with "info:" (sizes, heap and stack high-water marks) are printed, not compared. Exits
# non-zero if the build fails, QEMU fails or times out, the image reports a mismatch (its
# semihosting exit status), or the transcript differs.
#
# Needs qemu-system-arm (Debian: apt-get install qemu-system-arm) and the Rust target
# thumbv7em-none-eabihf; prints the image's size if llvm-size is found (rustup component
# llvm-tools, or LLVM's llvm-size on PATH).
#
# For .ci/run (about 30 s of apt-get on a machine without QEMU, then about 1 min to build from
# clean on the 2-core machine; the QEMU run itself is under a second):
#
#   step "firmware under QEMU (mps2-an386, Cortex-M4): recorded-peer echo with permessage-deflate"
#   if ! command -v qemu-system-arm >/dev/null 2>&1; then
#     export DEBIAN_FRONTEND=noninteractive
#     apt-get update -qq && apt-get install -y -qq --no-install-recommends qemu-system-arm >/dev/null
#   fi
#   rustup target add thumbv7em-none-eabihf
#   rustup component add llvm-tools >/dev/null 2>&1 || true   # only for the size line
#   bash examples/no_std_firmware/run-qemu.sh
set -euo pipefail
cd "$(dirname "$0")"
target=thumbv7em-none-eabihf
image=target/$target/release/firmware
transcript=target/qemu-transcript.txt

cargo build --release --target "$target"

status=0
timeout "${QEMU_TIMEOUT:-60}" qemu-system-arm -machine mps2-an386 -cpu cortex-m4 \
  -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -kernel "$image" >"$transcript" || status=$?
cat "$transcript"
if [ "$status" -ne 0 ]; then
  echo "run-qemu: QEMU exited with status $status (124 means it timed out)" >&2
  exit 1
fi

if ! diff -u expected-transcript.txt <(grep -v '^info:' "$transcript"); then
  echo "run-qemu: the transcript differs from expected-transcript.txt" >&2
  exit 1
fi

size=""
for candidate in "$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-size" \
  llvm-size arm-none-eabi-size; do
  if command -v "$candidate" >/dev/null 2>&1; then
    size=$candidate
    break
  fi
done
if [ -n "$size" ]; then
  # Berkeley format: text (code and read-only data, in flash), data, bss (RAM, incl. the heap).
  "$size" -B "$image" | awk 'NR == 2 { printf "info: image flash %d bytes (text+rodata), RAM %d bytes (data+bss, heap included) + stack\n", $1 + $2, $2 + $3 }'
fi
echo "run-qemu: transcript as expected"
