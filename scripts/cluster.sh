#!/usr/bin/env bash
# A real Spark standalone cluster on loopback, from the installed pyspark: a master and two
# workers of one core each. `make cluster-demo` and tests/pipelines/test_cluster.py use it.
#
#   scripts/cluster.sh start             start the master and the workers; wait until both joined
#   scripts/cluster.sh submit ARGS...    build the wheel, spark-submit jobs/submit.py ARGS (client mode)
#   scripts/cluster.sh stop              stop the workers and the master
#
# State (pids, logs, worker dirs) lives under $CLUSTER_DIR (default .cluster/). The hash key reaches
# the executors the way the README says: spark.executorEnv.REALNAME_GUARD_HASH_KEY.
# `make cluster-demo` (scripts/cluster_demo.sh) runs the whole job this way on a 5,000-person world.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
CLUSTER_DIR=${CLUSTER_DIR:-.cluster}
PORT=${CLUSTER_PORT:-7077}
WORKERS=${CLUSTER_WORKERS:-2}
WORKER_MEMORY=${CLUSTER_WORKER_MEMORY:-4g}
MASTER="spark://127.0.0.1:${PORT}"
SPARK_HOME=$("$PY" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
export SPARK_HOME SPARK_LOCAL_IP=127.0.0.1 SPARK_NO_DAEMONIZE=1
export PYSPARK_PYTHON="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"

workers_alive() {  # how many workers the master's JSON page lists as ALIVE
  "$PY" - "$1" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/json/", timeout=2) as r:
        print(sum(1 for w in json.load(r)["workers"] if w["state"] == "ALIVE"))
except OSError:
    print(0)
PY
}

start() {
  mkdir -p "$CLUSTER_DIR"
  if [ -f "$CLUSTER_DIR/master.pid" ] && kill -0 "$(cat "$CLUSTER_DIR/master.pid")" 2>/dev/null; then
    echo "cluster: already running at $MASTER"; return 0
  fi
  local ui=$(( PORT + 1003 ))  # master web UI: 8080 for the default port
  "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$PORT" \
    --webui-port "$ui" >"$CLUSTER_DIR/master.log" 2>&1 &
  echo $! >"$CLUSTER_DIR/master.pid"
  for i in $(seq 1 "$WORKERS"); do
    mkdir -p "$CLUSTER_DIR/worker$i"
    "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 \
      --memory "$WORKER_MEMORY" --work-dir "$CLUSTER_DIR/worker$i" --webui-port $(( ui + i )) "$MASTER" \
      >"$CLUSTER_DIR/worker$i.log" 2>&1 &
    echo $! >"$CLUSTER_DIR/worker$i.pid"
  done
  for _ in $(seq 1 120); do
    if [ "$(workers_alive "$ui")" -ge "$WORKERS" ]; then
      echo "cluster: master $MASTER with $WORKERS workers of 1 core (UI http://127.0.0.1:$ui)"; return 0
    fi
    sleep 1
  done
  echo "cluster: the workers did not join within 120 s; see $CLUSTER_DIR/*.log" >&2
  stop; return 1
}

stop() {
  for f in "$CLUSTER_DIR"/worker*.pid "$CLUSTER_DIR"/master.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
  echo "cluster: stopped"
}

submit() {
  : "${REALNAME_GUARD_HASH_KEY:?set REALNAME_GUARD_HASH_KEY (the executors get it via spark.executorEnv)}"
  rm -rf "$CLUSTER_DIR/dist"
  "$PY" -m pip wheel --quiet --no-deps --no-build-isolation -w "$CLUSTER_DIR/dist" . >/dev/null
  local wheel
  wheel=$(ls "$CLUSTER_DIR"/dist/realname_guard-*.whl)
  "$SPARK_HOME/bin/spark-submit" --master "$MASTER" --deploy-mode client \
    --py-files "$wheel" \
    --conf spark.executorEnv.REALNAME_GUARD_HASH_KEY="$REALNAME_GUARD_HASH_KEY" \
    --conf spark.pyspark.python="$PYSPARK_PYTHON" \
    --conf spark.executor.memory="${CLUSTER_EXECUTOR_MEMORY:-3g}" \
    --conf spark.driver.memory="${CLUSTER_DRIVER_MEMORY:-4g}" \
    --conf spark.scheduler.minRegisteredResourcesRatio=1.0 \
    --conf spark.scheduler.maxRegisteredResourcesWaitingTime=120s \
    jobs/submit.py "$@"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  submit) shift; submit "$@" ;;
  *) echo "usage: $0 start | submit ARGS... | stop" >&2; exit 2 ;;
esac
