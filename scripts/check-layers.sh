#!/usr/bin/env bash
# Keeps the layering of src/ true (docs/architecture.md): a module may import only from the
# layers below it. Bottom up:
#
#   vocabulary and buffers: buffer, close, entropy, http_token, utf8_bytes
#   frame < message < extensions < handshake < connection < hosts (clock, stream)
#
# Every `crate::` path in a file (outside comments) must start with a module its layer may
# use; root re-exports (`crate::CloseCode`) are refused below the connection, since they hide
# which layer a name comes from, and so are grouped paths (`crate::{..}`), which this check
# cannot read. `super::super` may not climb out of a layer either. Exits non-zero and lists
# every offending line.
set -euo pipefail
cd "$(dirname "$0")/../src"

leaves="buffer close entropy http_token utf8_bytes"
declare -A allowed=(
  [buffer]=""
  [close]="utf8_bytes"
  [entropy]=""
  [http_token]=""
  [utf8_bytes]=""
  [frame]="$leaves"
  [message]="$leaves frame"
  [extensions]="$leaves frame message"
  [handshake]="$leaves frame message extensions"
  [connection]="$leaves frame message extensions handshake"
  # Hosts for std and tokio users sit on the connection; nothing below imports them.
  [clock]="$leaves frame message extensions handshake connection"
  [stream]="$leaves frame message extensions handshake connection clock"
)

status=0
for file in $(find . -name '*.rs' | sort); do
  file=${file#./}
  layer=${file%%/*}
  layer=${layer%.rs}
  case "$layer" in
    lib) continue ;; # the crate root declares and re-exports every layer
  esac
  if [ -z "${allowed[$layer]+set}" ]; then
    echo "check-layers: $file belongs to no known layer; add it to scripts/check-layers.sh" >&2
    status=1
    continue
  fi
  # Code lines only: comments (doc comments and intra-doc links included) are not imports.
  code=$(grep -n '' "$file" | grep -Ev '^[0-9]+:[[:space:]]*//' || true)
  while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    line=${hit%%:*}
    target=${hit#*:}
    ok=0
    for dep in $layer ${allowed[$layer]}; do
      [ "$target" = "$dep" ] && ok=1
    done
    if [ $ok -eq 0 ]; then
      echo "src/$file:$line: the $layer layer may not use crate::$target" >&2
      status=1
    fi
  done < <(printf '%s\n' "$code" | grep -oE '^[0-9]+:|crate::(\{|[A-Za-z_][A-Za-z0-9_]*)' \
    | awk '/^[0-9]+:$/ { n = substr($0, 1, length($0) - 1); next } { sub(/^crate::/, ""); print n ":" $0 }')
  # Climbing out of the layer with super::super: files directly in src/<layer>/ would reach the root.
  depth=$(awk -F/ '{ print NF }' <<<"$file")
  if [ "$depth" -le 2 ] && printf '%s\n' "$code" | grep -q 'super::super'; then
    echo "src/$file: super::super reaches above the $layer layer" >&2
    status=1
  fi
done

if [ $status -eq 0 ]; then
  echo "check-layers: every import points down"
fi
exit $status
