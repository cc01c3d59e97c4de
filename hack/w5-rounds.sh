#!/usr/bin/env bash
# Clean W5 rounds (docs/benchmarks.md, "Live queries"): peerbench's W5 alone
# (one subscriber, 500 inserts at 100/s), no RSS sampler, each round a fresh
# server, alternating the KalamDB builds given and PostgreSQL (and PocketBase
# with PEERS="postgres pocketbase"), then the median p50/p99 of each.
# Loopback only; every process it starts is stopped by PID.
#
#   hack/w5-rounds.sh OUT_DIR ROUNDS TAG=BIN [TAG=BIN ...]
#
# PEERBENCH_BIN is a built ../shared/peerbench binary (its install-peers.sh
# provides the peers). KALAMDB_SYNC_WRITES etc. pass through to the servers.
set -euo pipefail
OUT=$1 ROUNDS=$2; shift 2
PB="${PEERBENCH_BIN:?set PEERBENCH_BIN}"
PEERS="${PEERS:-postgres}"
mkdir -p "$OUT"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
w5() { python3 -c "import json;r=[x for x in json.load(open('$1'))['results'] if x['workload']=='W5'][0];print(r['p50_ms'], r['p99_ms'])"; }
kalam() { # tag bin round
  local tag=$1 bin=$2 i=$3 dir port pid
  dir="$(mktemp -d)" port=$(free_port)
  KALAMDB_DATA_DIR="$dir" KALAMDB_SERVER_PORT="$port" KALAMDB_ROOT_PASSWORD=bench-root-password \
    KALAMDB_LOG_LEVEL=warn "$bin" server >"$OUT/server-$tag-$i.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  "$PB" --target kalamdb --url "http://127.0.0.1:$port" --user root --password bench-root-password \
    --workloads w5 --out "$OUT/$tag-$i.json" >"$OUT/$tag-$i.txt" 2>&1 || true
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"
}
for i in $(seq "$ROUNDS"); do
  for tb in "$@"; do kalam "${tb%%=*}" "${tb#*=}" "$i"; done
  for p in $PEERS; do "$PB" --target "$p" --workloads w5 --out "$OUT/$p-$i.json" >"$OUT/$p-$i.txt" 2>&1 || true; done
  echo "round $i (load $(cut -d' ' -f1 /proc/loadavg)):" $(for tb in "$@" $PEERS; do t=${tb%%=*}; echo "$t $(w5 "$OUT/$t-$i.json");"; done)
done
for tb in "$@" $PEERS; do
  t=${tb%%=*}
  python3 - "$OUT" "$t" "$ROUNDS" <<'PY'
import json, statistics, sys
out, t, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
p50, p99 = [], []
for i in range(1, n + 1):
    r = [x for x in json.load(open(f"{out}/{t}-{i}.json"))["results"] if x["workload"] == "W5"][0]
    p50.append(r["p50_ms"]); p99.append(r["p99_ms"])
print(f"{t}: p50 median {statistics.median(p50):.3f} {[round(x, 3) for x in p50]}  p99 median {statistics.median(p99):.2f} {[round(x, 2) for x in p99]}")
PY
done
