#!/bin/sh
# pg-start.sh DIR PORT — a throwaway PostgreSQL cluster for development and tests.
#
# Creates a fresh cluster in DIR/data (an existing one there is stopped and
# replaced), starts it listening on 127.0.0.1:PORT only, with its unix socket
# and log inside DIR, and creates:
#   role bizosaas_app  LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB (password bizosaas_app)
#   databases bizosaas and bizosaas_test, owned by bizosaas_app
# Prints two lines on stdout and nothing else:
#   postgres://bizosaas_app:bizosaas_app@127.0.0.1:PORT/bizosaas   (the app URL)
#   postgres://postgres:SECRET@127.0.0.1:PORT/bizosaas_test         (superuser, for test fixtures)
# The superuser password is random and kept in DIR/superuser.pw (mode 0600).
# Runs the server as the "postgres" OS user when started as root.
# Stop it with scripts/pg-stop.sh DIR.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 DIR PORT" >&2
    exit 2
fi
DIR=$1
PORT=$2
case $PORT in ''|*[!0-9]*) echo "pg-start: PORT must be a number" >&2; exit 2 ;; esac

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
    echo "pg-start: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin" >&2
    exit 1
fi

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$DIR"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi
chmod 0700 "$DIR"

# A fresh cluster every time: stop and remove a previous one in DIR/data.
if [ -f "$DIR/data/PG_VERSION" ]; then
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$DIR/data"
fi

SUPERPW=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
umask 077
printf '%s\n' "$SUPERPW" >"$DIR/superuser.pw"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR/superuser.pw"

as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --pwfile="$DIR/superuser.pw" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || {
    echo "pg-start: initdb failed, see $DIR/initdb.log" >&2
    exit 1
}

as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" start >/dev/null || {
    echo "pg-start: the server did not start, see $DIR/server.log" >&2
    exit 1
}

PGPASSWORD=$SUPERPW "$BIN/psql" -X -q -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE ROLE bizosaas_app LOGIN PASSWORD 'bizosaas_app' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
CREATE DATABASE bizosaas OWNER bizosaas_app;
CREATE DATABASE bizosaas_test OWNER bizosaas_app;
SQL

echo "postgres://bizosaas_app:bizosaas_app@127.0.0.1:$PORT/bizosaas"
echo "postgres://postgres:$SUPERPW@127.0.0.1:$PORT/bizosaas_test"
