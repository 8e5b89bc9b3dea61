#!/usr/bin/env bash
# `make demo`: generate a world, run the whole job on it, say where everything is.
set -euo pipefail
dir=${1:-demo}; persons=${2:-20000}; run_date=${3:-2026-06-30}
bin=.venv/bin
start=$(date +%s)
if [ -z "${REALNAME_GUARD_HASH_KEY:-}" ]; then
  REALNAME_GUARD_HASH_KEY=$($bin/python -c 'import secrets; print(secrets.token_hex(32))')
  export REALNAME_GUARD_HASH_KEY
  echo "demo: REALNAME_GUARD_HASH_KEY was not set; using a throwaway key for this demo only."
  echo "      (ID hashes from this run cannot be matched with any other run's.)"
fi
rm -rf "$dir"
echo "demo: generating a ${persons}-person world as of ${run_date} ..."
$bin/realname-guard generate --output "$dir/world" --persons "$persons" --run-date "$run_date"
echo "demo: running the whole job (validate -> features -> train -> score -> publish) ..."
mkdir -p "$dir"
$bin/realname-guard run --input "$dir/world/input" --output "$dir/out" --run-date "$run_date" --log-file "$dir/run.log"
echo "demo: checking the lists against the world's ground truth ..."
$bin/realname-guard evaluate --output "$dir/out" --truth "$dir/world/truth" --run-date "$run_date"
out=$(cd "$dir/out" && pwd)
# Screenshots of the report and the Data Docs as a browser on a closed network shows them.
shots=""
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$browser" ]; then
  mkdir -p "$dir/screenshots"
  for page in "reports/run_date=$run_date/report.html" "data_quality/run_date=$run_date/data_docs/index.html"; do
    png="$dir/screenshots/$(basename "$(dirname "$page")")-$(basename "$page" .html).png"
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --proxy-server=http://127.0.0.1:9 \
      --proxy-bypass-list='<-loopback>' --window-size=1200,4000 --screenshot="$png" "file://$out/$page" \
      >/dev/null 2>&1 && shots="$shots    $(cd "$(dirname "$png")" && pwd)/$(basename "$png")"$'\n'
  done
fi
cat <<MSG

demo finished in $(( $(date +%s) - start )) s. Everything is under $out:
  lists, one folder per operator / bank:
    $out/flagged_sims/run_date=$run_date/operator=*/
    $out/flagged_accounts/run_date=$run_date/bank_code=*/
    $out/flagged_persons/run_date=$run_date/
  proposals for the 失信惩戒 list (confirmed outcomes only):
    $out/disciplinary_candidates/run_date=$run_date/
    $out/scores/run_date=$run_date/recipient=*/
  exports (CSV per operator / bank, for Excel):
    $out/exports/run_date=$run_date/
  report:      $out/reports/run_date=$run_date/report.html  (also report.md; machine-readable: summary.json)
  data docs:   $out/data_quality/run_date=$run_date/data_docs/index.html
  quarantine:  $out/quarantine/run_date=$run_date/table=*/
  log:         $(cd "$dir" && pwd)/run.log  (debug level: every stage, every training round)
  MLflow:      $out/mlflow/mlflow.db  (artifacts in $out/mlflow/artifacts)
  open the MLflow UI:
    $bin/mlflow ui --backend-store-uri sqlite:///$out/mlflow/mlflow.db --port 5000
MSG
if [ -n "$shots" ]; then printf '  screenshots (headless Chromium, network off):\n%s' "$shots"; fi
