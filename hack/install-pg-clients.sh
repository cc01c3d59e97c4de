#!/usr/bin/env bash
# Installs the real PostgreSQL clients the wire-protocol tests drive
# (dataplane/pgwire): psql (postgresql-client), psycopg2 (python3-psycopg2),
# the PostgreSQL JDBC driver (libpostgresql-jdbc-java, with a JDK to compile
# and run testdata/jdbc/Suite.java) from Debian, and node-postgres from npm
# at the version package-lock.json pins. Idempotent: anything already
# present is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
/usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || need+=(python3-psycopg2)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -f /usr/share/java/postgresql.jar ] || need+=(libpostgresql-jdbc-java)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
if ((${#need[@]})); then
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO="sudo"
	$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi

dir=dataplane/pgwire/testdata/node
if [ ! -d "$dir/node_modules/pg" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
	(cd "$dir" && npm ci --no-audit --no-fund --silent)
fi
