"""Airflow DAG: the daily realname-guard run on a cluster (copy into the DAGs folder).

Airflow is not a dependency of the package: this file is imported only by an Airflow scheduler.
It runs the same CLI as everything else, through spark-submit, once per logical date, in two
tasks so that a failed training leaves the day's features in place for a rerun of the rest.
Set the Airflow Variables `realname_guard_input`, `realname_guard_output`, `realname_guard_wheel`
and the connection's environment `REALNAME_GUARD_HASH_KEY`.
"""

from __future__ import annotations

import datetime as dt

from airflow import DAG
from airflow.operators.bash import BashOperator

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
    features = BashOperator(task_id="validate_and_features", bash_command=SUBMIT.replace("STEP", "features"))
    train = BashOperator(task_id="train", bash_command=SUBMIT.replace("STEP", "train"))
    score = BashOperator(task_id="score_and_publish", bash_command=SUBMIT.replace("STEP", "score"))
    features >> train >> score
