#!/usr/bin/env bash
# One benchmark sitting: our server and the peers, back to back, on this
# machine (loopback only). Needs ../shared/peerbench (see its README) for the
# peer side; without it only our own load tool runs.
#
#   hack/bench-sitting.sh [OUT_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-bench-results}"
RUNS="${2:-3}"
PEERBENCH_SRC="../shared/peerbench"
mkdir -p "$OUT"
make build >/dev/null

pb=""
if [[ -d "$PEERBENCH_SRC" ]]; then
  pb="$(mktemp -d)/peerbench"
  (cd "$PEERBENCH_SRC" && ./install-peers.sh >/dev/null && go build -o "$pb" .)
fi

start_server() {
  local dir port
  dir="$(mktemp -d)"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  KALAMDB_DATA_DIR="$dir" KALAMDB_SERVER_PORT="$port" KALAMDB_ROOT_PASSWORD=bench-root-password \
    KALAMDB_RATE_LIMIT_QUERIES_PER_SEC=0 KALAMDB_LOG_LEVEL=warn ./bin/kalamdb server >"$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  SERVER_DIR="$dir"
  SERVER_URL="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -sf "$SERVER_URL/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "server did not start" >&2; return 1
}
stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$SERVER_DIR"; }

for i in $(seq "$RUNS"); do
  echo "== run $i (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  go run ./hack/loadbench --bin bin/kalamdb | tee "$OUT/loadbench-$i.txt"
  if [[ -n "$pb" ]]; then
    for target in postgres pocketbase; do
      "$pb" --target "$target" --workloads w1,w2,w3,w4 --out "$OUT/$target-$i.json" >"$OUT/$target-$i.txt" 2>&1
    done
    start_server
    "$pb" --target kalamdb --url "$SERVER_URL" --user root --password bench-root-password \
      --workloads w1,w2,w3,w4 --out "$OUT/kalamdb-$i.json" >"$OUT/kalamdb-$i.txt" 2>&1 || true
    stop_server
    grep -h -A7 "workload " "$OUT"/{postgres,pocketbase,kalamdb}-"$i".txt
  fi
done
