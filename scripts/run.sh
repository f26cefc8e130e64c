#!/usr/bin/env bash
# run.sh — THE first README command: installs what is missing, builds, and
# runs bizosaas on the embedded default (SQLite under ./data, in-process
# events), with the demo tenant seeded on the first start.
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
cat <<MSG

  BizOSaaS is starting on ${base}
    sign in          ${base}/login    (client portal ${base}/portal, admin ${base}/admin)
    API gateway      ${base}/api/brain/
    health           ${base}/health
    version          ${base}/version
    metrics          ${base}/metrics
  Data lives in ./data (SQLite). The demo logins, when the demo tenant is
  seeded, are printed once in the log below. Stop with Ctrl-C.

MSG
exec build/bizosaas serve
