#!/usr/bin/env bash
# Runs the differential SQL oracle (test/pgdiff) against a live PostgreSQL
# started by hack/pg-private.sh (installed from the distribution's packages
# when missing; a private cluster on 127.0.0.1, stopped afterwards).
#   hack/pgdiff.sh          compare, fail on differences not in the allow-list
#   hack/pgdiff.sh record   rewrite test/pgdiff/expected from PostgreSQL first
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
[[ "$mode" == record ]] && export PGDIFF_RECORD=1
export PG_PRIVATE_OPTS="-c fsync=off -c TimeZone=UTC"
bash hack/pg-private.sh bash -c 'PGDIFF_PG=$PG_PRIVATE_ADDR exec go test -count=1 -timeout 20m -run "^(TestLive|TestWhereRandom)$" ./test/pgdiff/ "$@"' _ "${@:2}"
