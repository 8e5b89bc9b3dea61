#!/usr/bin/env bash
# `make airflow-check`: the Airflow DAG (pipelines/airflow_dag.py) under a real Airflow 3.
#
#   1. Airflow 3.3.2 and the standard provider go into an environment of their own ($AF_VENV,
#      default .airflow-venv), pinned by conf/airflow-constraints.txt; realname-guard's wheel is
#      installed there with --no-deps (the DAG reads only the light pipelines.steps).
#   2. A throwaway AIRFLOW_HOME (SQLite metadata database) whose DAGs folder holds the DAG file;
#      the check fails on any import error and when the DAG is not listed.
#   3. `airflow dags test realname_guard_daily DATE` runs the three tasks (features, train, score)
#      for one logical date, each a spark-submit in local mode from the project's .venv, on a
#      2,500-person generated world; then the day's lists must be there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
AF_VENV=${AF_VENV:-.airflow-venv}
RUN_DATE=${RUN_DATE:-2026-06-30}
WORK=${AIRFLOW_CHECK_DIR:-airflow-check}
start=$(date +%s)

if [ ! -x "$AF_VENV/bin/airflow" ]; then
  echo "airflow-check: installing Airflow 3 into $AF_VENV (conf/airflow-constraints.txt)"
  "$PYTHON" -m venv "$AF_VENV"
  "$AF_VENV/bin/pip" install --quiet --upgrade pip
  "$AF_VENV/bin/pip" install --quiet -c conf/airflow-constraints.txt apache-airflow apache-airflow-providers-standard
fi
rm -rf "$WORK"; mkdir -p "$WORK/dist" "$WORK/home/dags" "$WORK/extracts"
WORK=$(cd "$WORK" && pwd)
.venv/bin/python -m pip wheel --quiet --no-deps --no-build-isolation -w "$WORK/dist" . >/dev/null
wheel=$(ls "$WORK"/dist/realname_guard-*.whl)
"$AF_VENV/bin/pip" install --quiet --no-deps --force-reinstall "$wheel"
cp pipelines/airflow_dag.py "$WORK/home/dags/realname_guard_dag.py"

export REALNAME_GUARD_DAG_RETRIES=0 AIRFLOW_HOME="$WORK/home" AIRFLOW__CORE__LOAD_EXAMPLES=False \
  AIRFLOW__CORE__DAGS_FOLDER="$WORK/home/dags" AIRFLOW__LOGGING__BASE_LOG_FOLDER="$WORK/home/logs"
AF="$AF_VENV/bin/airflow"
"$AF" db migrate >"$WORK/db-migrate.log" 2>&1 || { tail -20 "$WORK/db-migrate.log"; exit 1; }
# Parse the DAGs folder as the DAG processor does and write what it found (DAGs, import errors).
"$AF" dags reserialize >"$WORK/reserialize.log" 2>&1 || { tail -20 "$WORK/reserialize.log"; exit 1; }
errors=$("$AF" dags list-import-errors -o plain 2>"$WORK/import-errors.log" || true)
if ! echo "$errors" | grep -q "No data found"; then
  echo "airflow-check: the DAG does not import:"; echo "$errors"; exit 1
fi
"$AF" dags list -o plain 2>"$WORK/dags-list.log" | tee "$WORK/dags-list.txt" | grep -q realname_guard_daily \
  || { echo "airflow-check: realname_guard_daily is not among the DAGs:"; cat "$WORK/dags-list.txt" "$WORK/dags-list.log"; exit 1; }
echo "airflow-check: the DAG imports under $("$AF" version) with no errors"

if [ -z "${REALNAME_GUARD_HASH_KEY:-}" ]; then
  REALNAME_GUARD_HASH_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')
fi
export REALNAME_GUARD_HASH_KEY
.venv/bin/realname-guard generate --output "$WORK/world" --persons 2500 --seed 12 --run-date "$RUN_DATE" \
  generator.card_farmer_share=0.008 generator.misuse_recent_days=60 >"$WORK/generate.log" 2>&1
ln -s "$WORK/world/input" "$WORK/extracts/$RUN_DATE"
export AIRFLOW_VAR_REALNAME_GUARD_INPUT="$WORK/extracts" AIRFLOW_VAR_REALNAME_GUARD_OUTPUT="$WORK/out" \
  AIRFLOW_VAR_REALNAME_GUARD_WHEEL="$wheel" AIRFLOW_VAR_REALNAME_GUARD_SPARK_SUBMIT="$PWD/.venv/bin/spark-submit" \
  AIRFLOW_VAR_REALNAME_GUARD_SUBMIT_ARGS="--master local[2] --conf spark.pyspark.python=$PWD/.venv/bin/python" \
  PYSPARK_PYTHON="$PWD/.venv/bin/python" PYSPARK_DRIVER_PYTHON="$PWD/.venv/bin/python"
# Small-world settings (tests/pipelines/test_daily.py says why); the tasks are the shipped ones.
export AIRFLOW_VAR_REALNAME_GUARD_OVERRIDES="spark.shuffle_partitions=2 model.xgb.n_estimators=80 \
model.min_positives=10 model.tuning.enabled=false model.backtest.baseline_features=[] \
model.point_in_time.snapshot_days_back=[14] policy.tiers.medium=0.5 policy.tiers.high=0.8"
echo "airflow-check: airflow dags test realname_guard_daily $RUN_DATE (three spark-submits; log $WORK/dags-test.log)"
if ! "$AF" dags test realname_guard_daily "$RUN_DATE" >"$WORK/dags-test.log" 2>&1; then
  tail -40 "$WORK/dags-test.log"; echo "airflow-check: dags test failed"; exit 1
fi
# The run and each of its three tasks ended in success (the metadata database and the task log).
"$AF" dags list-runs realname_guard_daily -o plain >"$WORK/runs.txt" 2>/dev/null || true
grep -q success "$WORK/runs.txt" || { echo "airflow-check: the DAG run did not succeed:"; cat "$WORK/runs.txt"; exit 1; }
succeeded=$(grep -c "new_state=success" "$WORK/dags-test.log" || true)
[ "$succeeded" -ge 3 ] || { echo "airflow-check: $succeeded of 3 tasks succeeded (see $WORK/dags-test.log)"; exit 1; }
for list in flagged_sims flagged_accounts reports; do
  [ -d "$WORK/out/$list/run_date=$RUN_DATE" ] || { echo "airflow-check: no $list for $RUN_DATE"; exit 1; }
done
echo "airflow-check: passed in $(( $(date +%s) - start )) s; lists and report under $WORK/out"
