#!/usr/bin/env bash
# Server-side CPU cost of live-query fan-out (docs/benchmarks.md, "Live
# queries", sitting E): runs the peerbench W6 saturation workload (1,000
# subscribers, 1,000 inserts at 300/s) against a fresh server started with
# KALAMDB_PPROF_ADDR, and reports the server's CPU time (utime+stime from
# /proc) from "subscribers ready" to the end of the run divided by the
# deliveries, plus a CPU profile and an allocs profile of that window.
# Loopback only; every process it starts is stopped by PID.
#
#   hack/live-profile.sh BIN OUT_DIR TAG [peerbench flags...]
#
# PEERBENCH_BIN is a built ../shared/peerbench binary.
set -euo pipefail
BIN=$1 OUT=$2 TAG=$3; shift 3
PB="${PEERBENCH_BIN:?set PEERBENCH_BIN}"
mkdir -p "$OUT"
[[ $# -gt 0 ]] || set -- --workloads w6 --w6-subs 1000 --w6-rate 300 --w6-inserts 1000
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port) pport=$(free_port)
dir="$(mktemp -d)"
KALAMDB_DATA_DIR="$dir" KALAMDB_SERVER_PORT="$port" KALAMDB_ROOT_PASSWORD=bench-root-password \
  KALAMDB_LOG_LEVEL=warn KALAMDB_PPROF_ADDR="127.0.0.1:$pport" "$BIN" server >"$OUT/server-$TAG.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
cpu() { awk '{print $14+$15}' "/proc/$pid/stat"; } # clock ticks (1/100 s)
"$PB" --target kalamdb --url "http://127.0.0.1:$port" --user root --password bench-root-password \
  --out "$OUT/pb-$TAG.json" "$@" >"$OUT/pb-$TAG.txt" 2>&1 &
bp=$!
for _ in $(seq 1800); do grep -q "ready in" "$OUT/pb-$TAG.txt" && break; sleep 0.1; done
pc0=$(awk '{print $14+$15}' "/proc/$bp/stat"); c0=$(cpu); t0=$(date +%s.%N); load0=$(cut -d' ' -f1-3 /proc/loadavg)
curl -s -o "$OUT/cpu-$TAG.pprof" "http://127.0.0.1:$pport/debug/pprof/profile?seconds=${PROFILE_SECONDS:-8}" &
cp=$!
curl -s -o "$OUT/allocs0-$TAG.pprof" "http://127.0.0.1:$pport/debug/pprof/allocs"
pc1=$pc0
while kill -0 "$bp" 2>/dev/null; do pc1=$(awk '{print $14+$15}' "/proc/$bp/stat" 2>/dev/null || echo "$pc1"); sleep 0.2; done
wait "$bp" || true
c1=$(cpu); t1=$(date +%s.%N)
frames=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^kalamdb_live_messages_sent_total/{print $2}')
curl -s -o "$OUT/allocs1-$TAG.pprof" "http://127.0.0.1:$pport/debug/pprof/allocs"
wait "$cp" || true
del=$(python3 -c "import json;r=[x for x in json.load(open('$OUT/pb-$TAG.json'))['results'] if x['workload']=='W6'][0];print(int(r['extra']['deliveries']), r['throughput'], r['extra'].get('missing_deliveries'))")
set -- $del
echo "$TAG: load $load0 | deliveries $1 missing $3 | $(printf '%.0f' "$2") deliveries/s | server CPU $(( (c1-c0)*10 )) ms over $(python3 -c "print(round($t1-$t0,1))") s = $(python3 -c "print(round(($c1-$c0)*10000/$1,2))") us/delivery | client CPU $(( (pc1-pc0)*10 )) ms = $(python3 -c "print(round(($pc1-$pc0)*10000/$1,2))") us/delivery | $frames frames ($(python3 -c "print(round($1/max(1,float('$frames' or 0)),2))") deliveries/frame)"
