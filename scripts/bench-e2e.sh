#!/usr/bin/env bash
# End-to-end echo benchmark over loopback TCP: sansws's example servers against the peers'
# echo servers, driven by one load generator that keeps one message in flight per connection.
#
#   scripts/bench-e2e.sh                     # full run: 4 s per run, 3 runs, medians
#   BENCH_E2E_QUICK=1 scripts/bench-e2e.sh   # smoke: 1 s, 1 run, 500 idle connections
#
# Builds everything in release mode (the sansws servers are the examples of the main crate,
# `cargo build --release --features tokio --example tokio_echo --example mio_echo
# --example tokio_stream_echo`, so this measures whatever
# the tree holds; the peers and the load generator are the separate project benches/e2e), then
# for each round, case and server: starts the server, runs the load generator against it,
# records messages/s, the server's peak RSS (VmHWM from /proc/PID/status), the CPU time
# both sides spent per message and the server's minor page faults per message, and stops the
# server. Within a round every server runs each
# case before the next case starts, in an order rotated from round to round, so that drift on
# this shared machine hits all of them alike. Prints markdown tables of the medians, each
# server's figures as a ratio to the best of the peers (sansws servers are not peers), with
# the machine, the date and the command. Fails (exit 1, the server's log shown) as soon as
# any server does not echo correctly, in every mode.
#
# Cases: 100 x 20 B, 100 x 1 KiB, 10 x 64 KiB, 2 x 1 MiB (binary messages), and 10,000 idle
# connections with 100 active ones echoing 1 KiB. Idle connections connect, complete the
# handshake and stay open. No compression is offered.
#
# Pinning: on a 2-core machine the server runs on one core and the load generator on the other
# (taskset), so that the two never take turns on one core and the load generator's ceiling is
# visible as its CPU share reaching 1.0. BENCH_E2E_PIN=0 leaves placement to the scheduler.
#
# Environment:
#   BENCH_E2E_DURATION  seconds measured per run (4; quick 1)
#   BENCH_E2E_WARMUP    seconds of traffic before measuring (1; quick 0.3)
#   BENCH_E2E_RUNS      runs of each (server, case) (3; quick 1)
#   BENCH_E2E_IDLE      idle connections in the idle case (10000; quick 500)
#   BENCH_E2E_SERVERS   space-separated subset of server names (all)
#   BENCH_E2E_EXTRA     more servers, "name|sansws|binary" separated by spaces (none): e.g. an
#                       earlier build of an example, to compare two builds in one run
#   BENCH_E2E_CASES     space-separated subset of case names (all)
#   BENCH_E2E_PORTS     first and last port to use ("9301 9399")
#   BENCH_E2E_PIN       1 to pin server and load generator to different cores (1)
#   BENCH_E2E_OUT       directory for raw results and server logs (a new temporary one)
#   BENCH_E2E_REPORT_FROM  a results.tsv of an earlier run: print its report, measure nothing
set -euo pipefail
cd "$(dirname "$0")/.."

quick=${BENCH_E2E_QUICK:-0}
if [[ $quick == 1 ]]; then
    duration=${BENCH_E2E_DURATION:-1}
    warmup=${BENCH_E2E_WARMUP:-0.3}
    runs=${BENCH_E2E_RUNS:-1}
    idle=${BENCH_E2E_IDLE:-500}
else
    duration=${BENCH_E2E_DURATION:-4}
    warmup=${BENCH_E2E_WARMUP:-1}
    runs=${BENCH_E2E_RUNS:-3}
    idle=${BENCH_E2E_IDLE:-10000}
fi
read -r port_first port_last <<<"${BENCH_E2E_PORTS:-9301 9399}"
pin=${BENCH_E2E_PIN:-1}
out=${BENCH_E2E_OUT:-$(mktemp -d -t bench-e2e.XXXXXX)}
mkdir -p "$out"
began=$SECONDS

# Every connection is a file descriptor on each side: the idle case needs over 10,000.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < idle + 1000 )); then
    echo "bench-e2e: open-file limit $(ulimit -n) is too low for $idle idle connections" >&2
    exit 1
fi

report_from=${BENCH_E2E_REPORT_FROM:-}
if [[ -z $report_from ]]; then
    echo "building (release)..." >&2
    cargo build --release --quiet --features tokio \
        --example tokio_echo --example mio_echo --example tokio_stream_echo
    cargo build --release --quiet --manifest-path benches/e2e/Cargo.toml
fi
target=$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
e2e_target=$(cargo metadata --format-version 1 --no-deps --manifest-path benches/e2e/Cargo.toml \
    | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
loadgen=$e2e_target/release/loadgen

# name | peer or sansws | binary (given the listening address as its one argument).
# To add a server, add a line.
all_servers=(
    "sansws-tokio|sansws|$target/release/examples/tokio_echo"
    "sansws-stream|sansws|$target/release/examples/tokio_stream_echo"
    "sansws-mio|sansws|$target/release/examples/mio_echo"
    "tokio-tungstenite|peer|$e2e_target/release/tungstenite_echo"
    "tokio-websockets|peer|$e2e_target/release/tokio_websockets_echo"
    "fastwebsockets|peer|$e2e_target/release/fastwebsockets_echo"
)
# shellcheck disable=SC2206 # the entries are words
all_servers+=(${BENCH_E2E_EXTRA:-})
# name | label | load generator arguments
all_cases=(
    "20B|100 × 20 B|--connections 100 --size 20"
    "1KiB|100 × 1 KiB|--connections 100 --size 1024"
    "64KiB|10 × 64 KiB|--connections 10 --size 65536"
    "1MiB|2 × 1 MiB|--connections 2 --size 1048576"
    "idle|$idle idle + 100 × 1 KiB|--connections 100 --size 1024 --idle $idle"
)

selected() { # selected NAME "LIST": whether NAME is in LIST (an empty LIST selects all)
    [[ -z $2 ]] || [[ " $2 " == *" $1 "* ]]
}
servers=()
for s in "${all_servers[@]}"; do
    selected "${s%%|*}" "${BENCH_E2E_SERVERS:-}" && servers+=("$s")
done
cases=()
for c in "${all_cases[@]}"; do
    selected "${c%%|*}" "${BENCH_E2E_CASES:-}" && cases+=("$c")
done
(( ${#servers[@]} > 0 && ${#cases[@]} > 0 )) || { echo "bench-e2e: nothing selected" >&2; exit 1; }

if [[ $pin == 1 ]] && (( $(nproc) >= 2 )); then
    server_cpu=(taskset -c 1)
    loadgen_cpu=(taskset -c 0)
else
    server_cpu=()
    loadgen_cpu=()
fi

port=$port_first
server_pid=
stop_server() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap stop_server EXIT

results=${report_from:-$out/results.tsv}
[[ -n $report_from ]] || printf 'round\tcase\tserver\tmsg_per_s\tbytes_per_s\tpeak_rss_kib\tserver_cpu\tloadgen_cpu\tserver_us_per_msg\tloadgen_us_per_msg\tserver_faults_per_msg\n' >"$results"

# run_one ROUND CASE SERVER: one measurement, appended to $results.
run_one() {
    local round=$1 case=$2 server=$3
    local case_name=${case%%|*} case_args=${case##*|}
    local name=${server%%|*} binary=${server##*|}
    local log=$out/$name.$case_name.$round.log
    # A fresh port for every server start: no listener waits on the previous one's sockets.
    port=$(( port >= port_last ? port_first : port + 1 ))
    "${server_cpu[@]}" "$binary" "127.0.0.1:$port" 2>"$log" &
    server_pid=$!
    local waited=0
    until ss -Hltn "sport = :$port" | grep -q .; do
        if ! kill -0 "$server_pid" 2>/dev/null || (( waited++ > 200 )); then
            echo "bench-e2e: $name did not start listening on port $port:" >&2
            tail -n 20 "$log" >&2
            exit 1
        fi
        sleep 0.05
    done
    local line
    # shellcheck disable=SC2086 # the case's arguments are words
    if ! line=$("${loadgen_cpu[@]}" "$loadgen" --addr "127.0.0.1:$port" $case_args \
        --duration "$duration" --warmup "$warmup" --server-pid "$server_pid" 2>>"$log.loadgen"); then
        echo "bench-e2e: FAILED: $name, case $case_name:" >&2
        cat "$log.loadgen" >&2
        echo "--- server log (last 20 lines):" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "bench-e2e: FAILED: $name exited during case $case_name:" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    local rss
    rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
    stop_server
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$case_name" "$name" \
        "$(field msg_per_s)" "$(field bytes_per_s)" "$rss" "$(field server_cpu)" \
        "$(field loadgen_cpu)" "$(field server_us_per_msg)" "$(field loadgen_us_per_msg)" \
        "$(field server_faults_per_msg)" >>"$results"
    printf '  %-18s %-6s %10s msg/s  peak RSS %8s KiB  server CPU %s (%s µs/msg)  load generator CPU %s\n' \
        "$name" "$case_name" "$(field msg_per_s)" "$rss" "$(field server_cpu)" \
        "$(field server_us_per_msg)" "$(field loadgen_cpu)" >&2
}

measure_runs=$runs
[[ -n $report_from ]] && measure_runs=0
for (( round = 1; round <= measure_runs; round++ )); do
    echo "round $round of $runs" >&2
    for case in "${cases[@]}"; do
        n=${#servers[@]}
        for (( k = 0; k < n; k++ )); do
            run_one "$round" "$case" "${servers[(k + round - 1) % n]}"
        done
    done
done
elapsed=$(( SECONDS - began ))

# The report: medians over rounds, as markdown.
names=()
kinds=()
for s in "${servers[@]}"; do
    names+=("${s%%|*}")
    rest=${s#*|}
    kinds+=("${rest%%|*}")
done
model=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
{
    echo
    echo "$(date -u +%Y-%m-%d), $model, $(nproc) cores, Linux $(uname -r), $(rustc --version)"
    runs=$(awk -F'\t' 'NR > 1 { r[$1] = 1 } END { print length(r) }' "$results")
    [[ -z $report_from ]] || echo "Reprinted from $report_from, measured earlier:"
    echo "Command: \`$(for v in $(compgen -e | grep '^BENCH_E2E_' | grep -v '^BENCH_E2E_\(OUT\|REPORT_FROM\)$' | sort); do printf '%s=%q ' "$v" "${!v}"; done)scripts/bench-e2e.sh\`" \
        "($runs run(s) of $duration s after $warmup s of warm-up per server and case," \
        "pinning $( [[ ${#server_cpu[@]} -gt 0 ]] && echo "server to CPU 1, load generator to CPU 0" || echo off );" \
        "medians${report_from:+)}${report_from:-; total time ${elapsed} s)}"
    awk -F'\t' -v names="${names[*]}" -v kinds="${kinds[*]}" -v labels="$(printf '%s\n' "${cases[@]}")" '
        function median(list,    n, a, i, j, t) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
                t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
            }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function commas(x,    s, r) {
            s = sprintf("%.0f", x); r = ""
            while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
            return s r
        }
        NR > 1 {
            key = $2 SUBSEP $3
            rate[key] = rate[key] " " $4; rss[key] = rss[key] " " $6
            scpu[key] = scpu[key] " " $7; lcpu[key] = lcpu[key] " " $8
            sus[key] = sus[key] " " $9; lus[key] = lus[key] " " $10
            flt[key] = flt[key] " " $11
        }
        END {
            ns = split(names, server, " "); split(kinds, kind, " ")
            nc = split(labels, caseline, "\n")
            header = "| case |"; rule = "|---|"
            for (s = 1; s <= ns; s++) { header = header " " server[s] " |"; rule = rule "---|" }

            print "\nMessages/s (median), and in brackets the ratio to the fastest peer:\n"
            print header; print rule
            for (c = 1; c <= nc; c++) {
                split(caseline[c], f, "|"); best = 0
                for (s = 1; s <= ns; s++) {
                    m[s] = median(rate[f[1], server[s]])
                    if (kind[s] == "peer" && m[s] > best) best = m[s]
                }
                row = "| " f[2] " |"
                for (s = 1; s <= ns; s++)
                    row = row " " commas(m[s]) (best > 0 ? sprintf(" (%.2f×)", m[s] / best) : "") " |"
                print row
            }

            print "\nServer peak RSS in MiB (median of VmHWM), and in brackets the ratio to the leanest peer:\n"
            print header; print rule
            for (c = 1; c <= nc; c++) {
                split(caseline[c], f, "|"); best = 0
                for (s = 1; s <= ns; s++) {
                    m[s] = median(rss[f[1], server[s]]) / 1024
                    if (kind[s] == "peer" && (best == 0 || m[s] < best)) best = m[s]
                }
                row = "| " f[2] " |"
                for (s = 1; s <= ns; s++)
                    row = row " " sprintf("%.1f", m[s]) (best > 0 ? sprintf(" (%.2f×)", m[s] / best) : "") " |"
                print row
            }

            print "\nServer CPU time per message in µs (median; user + system, from /proc/PID/stat), and in brackets"
            print "the ratio to the cheapest peer. Unlike messages/s, this holds up while other processes take turns on the cores:\n"
            print header; print rule
            for (c = 1; c <= nc; c++) {
                split(caseline[c], f, "|"); best = 0
                for (s = 1; s <= ns; s++) {
                    m[s] = median(sus[f[1], server[s]])
                    if (kind[s] == "peer" && (best == 0 || m[s] < best)) best = m[s]
                }
                row = "| " f[2] " |"
                for (s = 1; s <= ns; s++)
                    row = row " " sprintf(m[s] < 100 ? "%.2f" : "%.0f", m[s]) (best > 0 ? sprintf(" (%.2f×)", m[s] / best) : "") " |"
                print row
            }

            print "\nServer minor page faults per message (median; from /proc/PID/stat): memory mapped afresh while"
            print "serving, such as buffers allocated and given back per message:\n"
            print header; print rule
            for (c = 1; c <= nc; c++) {
                split(caseline[c], f, "|")
                row = "| " f[2] " |"
                for (s = 1; s <= ns; s++) {
                    v = flt[f[1], server[s]]
                    row = row " " (v ~ /[0-9]/ ? sprintf("%.2f", median(v)) : "NA") " |"
                }
                print row
            }

            print "\nShare of a core used while measuring, server / load generator (median). Both well below 1.0 means"
            print "other processes had the cores; one of them near 1.0 marks the side that set the pace:\n"
            print header; print rule
            for (c = 1; c <= nc; c++) {
                split(caseline[c], f, "|")
                row = "| " f[2] " |"
                for (s = 1; s <= ns; s++) {
                    k = f[1] SUBSEP server[s]
                    row = row sprintf(" %.2f / %.2f |", median(scpu[k]), median(lcpu[k]))
                }
                print row
            }

            print "\nThe load generator'"'"'s ceiling: its CPU time per message against the fastest server of each case,"
            print "and the rate that would take one full core (an estimate: it assumes the cost per message stays put):\n"
            print "| case | fastest server | its msg/s | load generator µs/msg | load generator CPU share | ceiling msg/s |"
            print "|---|---|---|---|---|---|"
            for (c = 1; c <= nc; c++) {
                split(caseline[c], f, "|"); best = 0; fastest = 0
                for (s = 1; s <= ns; s++) {
                    r = median(rate[f[1], server[s]])
                    if (r > best) { best = r; fastest = s }
                }
                k = f[1] SUBSEP server[fastest]; us = median(lus[k])
                printf "| %s | %s | %s | %.2f | %.2f | %s |\n", f[2], server[fastest], commas(best), us,
                    median(lcpu[k]), (us > 0 ? commas(1e6 / us) : "NA")
            }
        }' "$results"
    echo
    echo "Raw results: $results"
} | tee "$out/report.md"
