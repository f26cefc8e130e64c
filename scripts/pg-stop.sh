#!/bin/sh
# pg-stop.sh DIR — stops the cluster that scripts/pg-start.sh DIR started.
# The files stay in DIR (remove DIR yourself when done); pg-start.sh DIR
# replaces them with a fresh cluster.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
DIR=$1
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ ! -f "$DIR/data/PG_VERSION" ]; then
    echo "pg-stop: no cluster in $DIR/data" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
else
    "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
fi
