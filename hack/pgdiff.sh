#!/usr/bin/env bash
# Runs the differential SQL oracle (test/pgdiff) against a live PostgreSQL:
# installs PostgreSQL from the distribution's packages when missing, starts
# a private cluster (initdb in a temporary directory, trust authentication,
# 127.0.0.1 on a free port, run as a non-root user) and stops it afterwards.
#   hack/pgdiff.sh          compare, fail on differences not in the allow-list
#   hack/pgdiff.sh record   rewrite test/pgdiff/expected from PostgreSQL first
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [[ -z "$(pgbin)" ]]; then
	sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
	$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >/dev/null
fi
bin=$(pgbin)

tmp=$(mktemp -d)
run=()
if [[ $(id -u) -eq 0 ]]; then
	# PostgreSQL refuses to run as root.
	user=postgres
	id "$user" >/dev/null 2>&1 || user=nobody
	chown "$user" "$tmp"
	run=(runuser -u "$user" --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 30000)))
cleanup() {
	"${run[@]}" "$bin/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
"${run[@]}" "$bin/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${run[@]}" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC" start >/dev/null

export PGDIFF_PG=127.0.0.1:$port
[[ "$mode" == record ]] && export PGDIFF_RECORD=1
go test -count=1 -timeout 20m -run '^(TestLive|TestWhereRandom)$' ./test/pgdiff/ "${@:2}"
