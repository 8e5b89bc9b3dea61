"""Airflow DAG: the daily realname-guard run on a cluster (copy into the DAGs folder).

Airflow is not a dependency of the package. The scheduler needs realname-guard installed (the wheel
with --no-deps is enough: this file reads only the light ``pipelines.steps``, no Spark or MLflow).
It runs the same CLI as everything else, through spark-submit, once per logical date, in the tasks
``realname_guard.pipelines.steps.DAG_TASKS`` names (a light module: no Spark is imported), so
that a failed training leaves the day's features in place for a rerun of the rest. The train task
registers its model as @challenger and the gate (``model.gate``) promotes it to @champion only when
its backtest is no worse than the champion's on the same window; the score task always scores with
@champion, so a refused model never lists anyone (the run report says why).
Set the Airflow Variables `realname_guard_input`, `realname_guard_output`, `realname_guard_wheel`
and the connection's environment `REALNAME_GUARD_HASH_KEY`.
"""

from __future__ import annotations

import datetime as dt

from airflow import DAG
from airflow.operators.bash import BashOperator

from realname_guard.pipelines.steps import DAG_TASKS

SUBMIT = (
    "spark-submit --master yarn --deploy-mode cluster "
    "--py-files {{ var.value.realname_guard_wheel }} "
    "--conf spark.executorEnv.REALNAME_GUARD_HASH_KEY=$REALNAME_GUARD_HASH_KEY "
    "--conf spark.yarn.appMasterEnv.REALNAME_GUARD_HASH_KEY=$REALNAME_GUARD_HASH_KEY "
    "jobs/submit.py STEP --input {{ var.value.realname_guard_input }}/{{ ds }} "
    "--output {{ var.value.realname_guard_output }} --run-date {{ ds }}"
)

with DAG(
    dag_id="realname_guard_daily",
    schedule="0 4 * * *",
    start_date=dt.datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": dt.timedelta(minutes=15)},
    tags=["anti-fraud", "realname-guard"],
) as dag:
    tasks = [BashOperator(task_id=task, bash_command=SUBMIT.replace("STEP", command)) for task, command in DAG_TASKS]
    for upstream, downstream in zip(tasks, tasks[1:], strict=False):
        upstream >> downstream
