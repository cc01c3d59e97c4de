#!/usr/bin/env bash
# A/B benchmark sitting: PostgreSQL (peerbench starts its own) and two or more
# builds of our server, back to back, W2 (load), W3 (PK lookups) and W4
# (GROUP BY over one user's rows through the index on user_id), on this
# machine (loopback only). Then the server CPU each build spends per W4 query:
# (utime+stime after 450 W4 runs - after 50 runs) / 400, which noisy shared
# cores distort far less than wall-clock latencies.
#
#   hack/bench-ab.sh OUT_DIR BIN_A BIN_B...      (env: RUNS=3, W4RUNS=50)
#
# Build a base binary from another checkout, e.g.
#   (cd ../main && go build -o /tmp/kalamdb-base ./cmd/kalamdb)
# Needs ../shared/peerbench (see its README).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="$1"; shift
mkdir -p "$OUT"
PB="$(mktemp -d)/peerbench"
if [[ ! -x /usr/lib/postgresql/15/bin/postgres ]] && ! command -v postgres >/dev/null; then
  (cd ../shared/peerbench && ./install-peers.sh >/dev/null) # PostgreSQL (and PocketBase)
fi
(cd ../shared/peerbench && go build -o "$PB" .)

# start BIN: sets PID, DIR, URL.
start() {
  DIR=$(mktemp -d)
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  KALAMDB_DATA_DIR="$DIR" KALAMDB_SERVER_PORT="$port" KALAMDB_ROOT_PASSWORD=bench-root-password \
    KALAMDB_RATE_LIMIT_QUERIES_PER_SEC=0 KALAMDB_LOG_LEVEL=warn "$1" server >/dev/null 2>&1 &
  PID=$!
  URL="http://127.0.0.1:$port"
  for _ in $(seq 600); do curl -sf "$URL/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "server $1 did not start" >&2; return 1
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$DIR"; }
kalam() { # BIN OUT RUNS
  start "$1" || return 1
  "$PB" --target kalamdb --url "$URL" --user root --password bench-root-password \
    --workloads w2,w3,w4 --w2-modes multirow-insert --w4-runs "$3" --out "$2.json" >"$2.txt" 2>&1
  CPU=$(awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/t}' "/proc/$PID/stat")
  stop
}

for r in $(seq "${RUNS:-3}"); do
  echo "== round $r (load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$PB" --target postgres --workloads w2,w3,w4 --w2-modes copy --w4-runs "${W4RUNS:-50}" \
    --out "$OUT/pg-$r.json" >"$OUT/pg-$r.txt" 2>&1
  echo "postgres"; grep -E "^ +W[34] " "$OUT/pg-$r.txt"
  n=0
  for b in "$@"; do
    n=$((n+1)); kalam "$b" "$OUT/k$n-$r" "${W4RUNS:-50}"
    echo "$b"; grep -E "^ +W[34] " "$OUT/k$n-$r.txt"
  done
done
echo "== server CPU per W4 query"
for b in "$@"; do
  kalam "$b" "$OUT/cpu50" 50; c50=$CPU
  kalam "$b" "$OUT/cpu450" 450; c450=$CPU
  echo "$b: $(python3 -c "print(round(($c450-$c50)/400*1000, 2))") ms"
done
