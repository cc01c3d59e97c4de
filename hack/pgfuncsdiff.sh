#!/usr/bin/env bash
# Runs test/pgdiff/queries/funcs-*.sql against the in-process SQL engine and a
# private, throwaway PostgreSQL (initdb into a temp dir, loopback, ephemeral
# port, stopped on exit) and prints the answers that differ.
#   hack/pgfuncsdiff.sh [-v] [-strict] [files...]
# Needs the distribution's PostgreSQL server (apt-get install postgresql).
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL server not found (apt-get install postgresql)" >&2; exit 1; }
dir=$(mktemp -d /tmp/pgfuncsdiff.XXXXXX)
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() { run "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
run "$PGBIN/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run "$PGBIN/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
flags=()
while [ $# -gt 0 ] && [[ $1 == -* ]]; do flags+=("$1"); shift; done
[ $# -gt 0 ] || set -- test/pgdiff/queries/funcs-*.sql
go run ./hack/pgfuncsdiff "${flags[@]}" -psql "psql -h 127.0.0.1 -p $port -U postgres" "$@"
