#!/usr/bin/env bash
# One live-query benchmark sitting (docs/benchmarks.md, "Live queries"):
# ../shared/peerbench W5/W6 against a fresh bin/kalamdb, PocketBase and
# PostgreSQL, RUNS rounds back to back, then the saturation runs, sampling
# each server's RSS (VmRSS every 0.2 s; for PostgreSQL the sum over the
# postmaster and its children, which double-counts shared memory).
# Loopback only; every process it starts is stopped by PID.
#
#   hack/live-sitting.sh [OUT_DIR] [RUNS]
#
# PEERBENCH_SRC overrides the peerbench checkout (default ../shared/peerbench).
# BASE_BIN=path/to/older/kalamdb adds that build to every round ("base"), so a
# change can be measured before/after in the same sitting.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-bench-results/live}"
RUNS="${2:-3}"
PEERBENCH_SRC="${PEERBENCH_SRC:-../shared/peerbench}"
BASE_BIN="${BASE_BIN:-}"
mkdir -p "$OUT"
make build >/dev/null
pb="$(mktemp -d)/peerbench"
(cd "$PEERBENCH_SRC" && ./install-peers.sh >/dev/null && go build -o "$pb" .)

# sample PID FILE STOPFILE: VmRSS (kB) of PID and its children until STOPFILE exists (bounded).
sample() {
  local pid=$1 file=$2 stop=$3
  : >"$file"
  for _ in $(seq 1 9000); do
    [[ -e "$stop" ]] && return 0
    local v
    v=$(for p in $pid $(pgrep -P "$pid" | tr '\n' ' '); do awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null; done | awk '{s+=$1} END{print s+0}')
    [[ "$v" != 0 ]] && echo "$v" >>"$file"
    sleep 0.2
  done
}
summary() { sort -n "$1" | tail -1 | awk '{printf "max RSS %d MB", $1/1024}'; }

kalamdb() { # tag, peerbench flags...
  KBIN=./bin/kalamdb kalamdb_bin "$@"
}
base() { # tag, peerbench flags...: the same with BASE_BIN, output tagged base-
  [[ -n "$BASE_BIN" ]] || return 0
  local tag=$1; shift
  KBIN="$BASE_BIN" kalamdb_bin "base-$tag" "$@"
}
kalamdb_bin() { # tag, peerbench flags... (binary in KBIN)
  local tag=$1; shift
  local dir port pid
  dir="$(mktemp -d)"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  KALAMDB_DATA_DIR="$dir" KALAMDB_SERVER_PORT="$port" KALAMDB_ROOT_PASSWORD=bench-root-password \
    KALAMDB_RATE_LIMIT_QUERIES_PER_SEC=0 KALAMDB_LOG_LEVEL=warn "$KBIN" server >"$OUT/server-$tag.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  rm -f "$OUT/stop"; sample "$pid" "$OUT/rss-kalamdb-$tag.txt" "$OUT/stop" &
  local sp=$!
  "$pb" --target kalamdb --url "http://127.0.0.1:$port" --user root --password bench-root-password \
    --out "$OUT/kalamdb-$tag.json" "$@" >"$OUT/kalamdb-$tag.txt" 2>&1 || true
  touch "$OUT/stop"; wait "$sp"
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"
  echo "kalamdb $tag: $(grep -E '^ +W[56]' "$OUT/kalamdb-$tag.txt" | tr -s ' ' | tr '\n' ';') $(summary "$OUT/rss-kalamdb-$tag.txt")"
}

peer() { # target, tag, peerbench flags...
  local target=$1 tag=$2; shift 2
  rm -f "$OUT/stop"
  "$pb" --target "$target" --out "$OUT/$target-$tag.json" "$@" >"$OUT/$target-$tag.txt" 2>&1 &
  local bp=$! pid=""
  for _ in $(seq 1 600); do
    pid=$(grep -oE 'started (pocketbase|postgres) pid [0-9]+' "$OUT/$target-$tag.txt" | head -1 | awk '{print $4}' || true)
    [[ -n "$pid" ]] && break
    sleep 0.1
  done
  [[ -n "$pid" ]] && { sample "$pid" "$OUT/rss-$target-$tag.txt" "$OUT/stop" & }
  wait "$bp" || true
  touch "$OUT/stop"; wait
  echo "$target $tag: $(grep -E '^ +W[56]' "$OUT/$target-$tag.txt" | tr -s ' ' | tr '\n' ';') $( [[ -s "$OUT/rss-$target-$tag.txt" ]] && summary "$OUT/rss-$target-$tag.txt")"
}

for i in $(seq "$RUNS"); do
  echo "== round $i (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  kalamdb "w56-$i" --workloads w5,w6
  base "w56-$i" --workloads w5,w6
  peer pocketbase "w56-$i" --workloads w5,w6
  peer postgres "w56-$i" --workloads w5,w6
done
for i in 1 2; do
  echo "== saturation $i (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  kalamdb "sat-$i" --workloads w6 --w6-subs 1000 --w6-rate 300 --w6-inserts 1000
  base "sat-$i" --workloads w6 --w6-subs 1000 --w6-rate 300 --w6-inserts 1000
  peer pocketbase "sat-$i" --workloads w6 --w6-subs 1000 --w6-rate 300 --w6-inserts 1000
done
echo "== livebench (load: $(cut -d' ' -f1-3 /proc/loadavg))"
go run ./hack/livebench --bin bin/kalamdb | tee "$OUT/livebench.txt"
