#!/usr/bin/env bash
# `make cluster-demo`: the whole job through spark-submit on a real standalone cluster (a master and
# two one-core workers on loopback, scripts/cluster.sh), then the cluster is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-cluster-demo}; persons=${2:-5000}; run_date=${3:-2026-06-30}
if [ -z "${REALNAME_GUARD_HASH_KEY:-}" ]; then
  REALNAME_GUARD_HASH_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')
  export REALNAME_GUARD_HASH_KEY
  echo "cluster-demo: REALNAME_GUARD_HASH_KEY was not set; using a throwaway key for this demo only."
fi
start=$(date +%s)
rm -rf "$dir"; mkdir -p "$dir"
out=$(cd "$dir" && pwd)/out
.venv/bin/realname-guard generate --output "$dir/world" --persons "$persons" --run-date "$run_date"
trap 'bash scripts/cluster.sh stop' EXIT
bash scripts/cluster.sh start
bash scripts/cluster.sh submit run --input "$(cd "$dir/world/input" && pwd)" --output "$out" \
  --run-date "$run_date" --log-file "$(cd "$dir" && pwd)/run.log"
cat <<MSG

cluster-demo finished in $(( $(date +%s) - start )) s (spark://127.0.0.1:7077, 2 workers of 1 core).
  lists:   $out/flagged_sims/run_date=$run_date/  $out/flagged_accounts/run_date=$run_date/
  report:  $out/reports/run_date=$run_date/report.html
  log:     $(cd "$dir" && pwd)/run.log
MSG
