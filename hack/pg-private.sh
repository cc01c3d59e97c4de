#!/usr/bin/env bash
# Runs a command next to a private PostgreSQL: installs PostgreSQL from the
# distribution's packages when missing, starts a throw-away cluster (initdb
# in a temporary directory, trust authentication, UTF8 and C.UTF-8, listening
# on 127.0.0.1 only at a free port, run as the postgres user when started as
# root, since PostgreSQL refuses root), exports its address and stops it when
# the command ends. The one PostgreSQL starter of hack/pgdiff.sh and
# hack/pgwirebench (make bench-pgwire).
#   PG_PRIVATE_OPTS="-c fsync=off"  hack/pg-private.sh COMMAND [ARGS...]
# The command sees PG_PRIVATE_ADDR=127.0.0.1:PORT and
# PG_PRIVATE_DSN=postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable.
# PG_PRIVATE_OPTS holds extra server options (-c name=value ...).
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

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
"${run[@]}" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 ${PG_PRIVATE_OPTS:-}" start >/dev/null || {
	cat "$tmp/log" >&2
	exit 1
}

export PG_PRIVATE_ADDR=127.0.0.1:$port
export PG_PRIVATE_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
# Not exec: the trap stops the cluster when the command ends.
"$@"
