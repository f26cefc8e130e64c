#!/usr/bin/env bash
# redis-start.sh — start a throwaway redis-server for tests on 127.0.0.1:PORT.
# It keeps its pidfile, log and socket state under DIR, persists nothing, and
# is stopped with scripts/redis-stop.sh DIR (by pidfile, never by name).
#
# Usage: scripts/redis-start.sh DIR PORT   (prints redis://127.0.0.1:PORT)
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 DIR PORT" >&2
    exit 2
fi
dir="$1"
port="$2"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --save '' --appendonly no --protected-mode yes >/dev/null

for _ in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        echo "redis://127.0.0.1:$port"
        exit 0
    fi
    sleep 0.1
done
echo "redis-start.sh: redis did not answer on port $port; log:" >&2
cat "$dir/redis.log" >&2 || true
exit 1
