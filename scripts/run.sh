#!/usr/bin/env bash
# run.sh — THE first README command: installs what is missing, builds, and
# runs bizosaas on the embedded default (SQLite under ./data, in-process
# events), with the demo tenant seeded on the first start. Once the server
# answers /readyz it prints the URLs and the demo logins (kept in
# data/demo-logins.txt, mode 0600 — passwords never go to the log).
#
# Usage: scripts/run.sh            (Ctrl-C stops it gracefully)
# Any BIZOSAAS_* variable set in the environment is honoured; see
# `build/bizosaas --help`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh

listen="${BIZOSAAS_LISTEN:-127.0.0.1:8001}"
base="http://${listen}"
data="${BIZOSAAS_DATA_DIR:-data}"

build/bizosaas serve &
pid=$!
# Ctrl-C / kill: pass the signal on so the server drains and exits 0.
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM

for _ in $(seq 1 200); do
    if curl -fsS -o /dev/null "${base}/readyz" 2>/dev/null; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; exit $?; fi
    sleep 0.05
done

cat <<MSG

  BizOSaaS is running on ${base}
    marketing site   ${base}/
    client portal    ${base}/portal
    admin dashboard  ${base}/admin
    API gateway      ${base}/api/brain/
    OpenAPI          ${base}/openapi.json
    health           ${base}/health
    metrics          ${base}/metrics
  Data lives in ${data} (SQLite). Stop with Ctrl-C.

MSG
if [[ -r "${data}/demo-logins.txt" ]]; then
    echo "  Demo logins (from ${data}/demo-logins.txt):"
    grep -v '^#' "${data}/demo-logins.txt" | sed 's/^/    /'
    echo
else
    echo "  No demo logins file; create them with: build/bizosaas admin seed-demo"
    echo
fi

# wait returns early when a trapped signal arrives; wait again for the exit.
set +e
wait "$pid"
rc=$?
if kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    rc=$?
fi
exit "$rc"
