"""Airflow DAG: the daily realname-guard run through spark-submit (copy into the DAGs folder).

Airflow 3 (``airflow.sdk``, the standard provider's BashOperator). Airflow is not a dependency of
the package; ``make airflow-check`` installs it into an environment of its own (pinned by
``conf/airflow-constraints.txt``), imports this file and runs ``airflow dags test`` for one date.
The scheduler needs realname-guard installed (the wheel with --no-deps is enough: this file reads
only the light ``pipelines.steps``, no Spark or MLflow). It runs the same CLI as everything else,
once per logical date (``{{ ds }}`` is the run date), in the tasks ``DAG_TASKS`` names, so that a
failed training leaves the day's features in place for a rerun of the rest. The train task
registers its model as @challenger and the gate (``model.gate``) promotes it to @champion only
when its backtest is no worse than the champion's on the same window; the score task always scores
with @champion, so a refused model never lists anyone (the run report says why).

Airflow Variables (``AIRFLOW_VAR_<NAME>`` environment variables work too):

- ``realname_guard_input``: the extracts' root; the day's extract is ``<input>/<ds>``
- ``realname_guard_output``: the output root
- ``realname_guard_wheel``: the package wheel, shipped to the executors with --py-files
- ``realname_guard_submit_args``: the cluster options (default ``--master yarn --deploy-mode cluster``)
- ``realname_guard_spark_submit``: the spark-submit command (default ``spark-submit``)
- ``realname_guard_overrides``: KEY=VALUE config overrides for every task (default none)

``REALNAME_GUARD_HASH_KEY`` comes from the worker's environment and reaches the executors through
``spark.executorEnv`` (and YARN's application master), never through the DAG's text or logs.
"""

from __future__ import annotations

import datetime as dt
import os
from importlib.util import find_spec

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

from realname_guard.pipelines.steps import DAG_TASKS

# The entry point ships inside the package: the wheel's realname_guard/jobs/submit.py.
_ENTRY = (find_spec("realname_guard.jobs.submit") or find_spec("realname_guard")).origin  # type: ignore[union-attr]

SUBMIT = (
    "{{ var.value.get('realname_guard_spark_submit', 'spark-submit') }} "
    "{{ var.value.get('realname_guard_submit_args', '--master yarn --deploy-mode cluster') }} "
    "--py-files {{ var.value.realname_guard_wheel }} "
    '--conf spark.executorEnv.REALNAME_GUARD_HASH_KEY="$REALNAME_GUARD_HASH_KEY" '
    '--conf spark.yarn.appMasterEnv.REALNAME_GUARD_HASH_KEY="$REALNAME_GUARD_HASH_KEY" '
    f"{_ENTRY} STEP --input {{{{ var.value.realname_guard_input }}}}/{{{{ ds }}}} "
    "--output {{ var.value.realname_guard_output }} --run-date {{ ds }} "
    "{{ var.value.get('realname_guard_overrides', '') }}"
)

with DAG(
    dag_id="realname_guard_daily",
    schedule="0 4 * * *",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    # A failed task is retried once after 15 minutes (REALNAME_GUARD_DAG_RETRIES=0 for checks).
    default_args={"retries": int(os.environ.get("REALNAME_GUARD_DAG_RETRIES", "1")),
                  "retry_delay": dt.timedelta(minutes=15)},
    tags=["anti-fraud", "realname-guard"],
    doc_md=__doc__,
) as dag:
    tasks = [BashOperator(task_id=task, bash_command=SUBMIT.replace("STEP", command)) for task, command in DAG_TASKS]
    for upstream, downstream in zip(tasks, tasks[1:], strict=False):
        upstream >> downstream
