#!/usr/bin/env bash
# One high-availability benchmark sitting (docs/benchmarks.md, "High
# availability"): ../shared/peerbench W1/W2/W3/W5 against replicas=1 and
# replicas=3 on loopback, interleaved round by round so the shared machine's
# drift hits every configuration alike. Each run starts fresh nodes
# (hack/hacluster) and stops them.
#
#   hack/ha-sitting.sh [OUT_DIR] [ROUNDS] [BASELINE_BIN]
#
# Configurations per round: r1 (bin/kalamdb, no [cluster]), r1-baseline
# (BASELINE_BIN, e.g. main's build, when given), r3-leader (the client on
# the node leading every Raft group), r3-follower (the client on a node
# leading none). W2 uses the multirow-insert mode (1,000-row INSERTs).
# PEERBENCH_FLAGS adds peerbench flags (e.g. "--w1-rows 1000").
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-ha-bench-results}"
ROUNDS="${2:-3}"
BASELINE="${3:-}"
mkdir -p "$OUT"
make build >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd ../shared/peerbench && go build -o "$tmp/peerbench" .)
go build -o "$tmp/hacluster" ./hack/hacluster

run() { # run NAME BIN NODES VIA
  local name=$1 bin=$2 nodes=$3 via=$4 i=$5
  # shellcheck disable=SC2086
  "$tmp/hacluster" --bin "$bin" --nodes "$nodes" --via "$via" -- \
    "$tmp/peerbench" --target kalamdb --url '{URL}' --user root --password '{PASSWORD}' \
    --workloads w1,w2,w3,w5 --w2-modes multirow-insert ${PEERBENCH_FLAGS:-} \
    --out "$OUT/$name-$i.json" >"$OUT/$name-$i.txt" 2>&1 || echo "run $name-$i failed (see $OUT/$name-$i.txt)"
  echo "$name round $i (load $(cut -d' ' -f1-3 /proc/loadavg)):"
  grep -E '^ +W[1235] ' "$OUT/$name-$i.txt" || true
}

for i in $(seq "$ROUNDS"); do
  run r1 bin/kalamdb 1 leader "$i"
  if [[ -n "$BASELINE" ]]; then run r1-baseline "$BASELINE" 1 leader "$i"; fi
  run r3-leader bin/kalamdb 3 leader "$i"
  run r3-follower bin/kalamdb 3 follower "$i"
done
