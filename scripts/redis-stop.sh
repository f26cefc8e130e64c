#!/usr/bin/env bash
# redis-stop.sh — stop the redis-server that redis-start.sh started in DIR,
# by its pidfile only.
#
# Usage: scripts/redis-stop.sh DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
pidfile="$1/redis.pid"
[[ -f "$pidfile" ]] || exit 0
pid="$(cat "$pidfile")"
if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
fi
rm -f "$pidfile"
