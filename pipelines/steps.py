"""The pipeline's steps, declared once: name, the job that runs it, what it reads and writes.

The CLI's subcommands, the pipeline's order and the Airflow DAG's tasks all come from here. This
module imports nothing heavy (no Spark, MLflow or Great Expectations), so a scheduler can read it
when it parses the DAG; each step's function lives in its job module as ``step(ctx, state)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    name: str
    job: str  # module whose ``step(ctx, state)`` runs it
    reads: tuple[str, ...]  # "inputs" (every contract table), "labels", "features", "champion"
    writes: tuple[str, ...]  # datasets and registry entries it publishes
    help: str
    # What `realname-guard <name>` runs: this step after the ones it needs within one application.
    command: tuple[str, ...] = ()

    @property
    def commands(self) -> tuple[str, ...]:
        return self.command or (self.name,)


STEPS: tuple[Step, ...] = (
    Step(
        "validate", "realname_guard.jobs.validate",
        reads=("inputs",), writes=("quarantine", "data_quality"),
        help="read and validate the inputs; write the quarantine, Data Docs and report",
    ),
    Step(
        "features", "realname_guard.jobs.features",
        reads=("inputs",), writes=("features",),
        help="validate, then compute and publish the feature table as of the run date",
        command=("validate", "features"),
    ),
    Step(
        "backtest", "realname_guard.jobs.backtest",
        reads=("inputs", "labels"), writes=("training_snapshots", "mlflow run"),
        help="out-of-time backtest: train on what was known --horizon days before the run date, score as of "
        "then, measure on the cards confirmed since; every tuning candidate and a naive baseline",
        command=("validate", "backtest"),
    ),
    Step(
        "train", "realname_guard.jobs.train",
        reads=("inputs", "labels", "features"), writes=("training_snapshots", "mlflow run", "champion"),
        help="validate, build point-in-time snapshots, backtest the candidates, train the best on the published "
        "features and the labels; register it as champion in MLflow",
        command=("validate", "train"),
    ),
    Step(
        "score", "realname_guard.jobs.score",
        reads=("labels", "features", "champion"),
        writes=("scores", "flagged_sims", "flagged_accounts", "flagged_persons"),
        help="score the published features with the champion; publish the lists, scores and report",
    ),
)
BY_NAME: dict[str, Step] = {s.name: s for s in STEPS}
NAMES: tuple[str, ...] = tuple(BY_NAME)
# The whole daily job (training runs its own backtest; `backtest` alone is for data scientists).
RUN: tuple[str, ...] = ("validate", "features", "train", "score")
RUN_HELP = "the whole job: validate -> features -> train -> score -> publish"
# The scheduled DAG's tasks, each one application: (task id, CLI command). A failed training
# leaves the day's features in place for a rerun of the rest.
DAG_TASKS: tuple[tuple[str, str], ...] = (
    ("validate_and_features", "features"),
    ("train", "train"),
    ("score_and_publish", "score"),
)


def commands() -> dict[str, tuple[str, ...]]:
    """CLI subcommand -> the steps it runs, in pipeline order."""
    return {**{s.name: s.commands for s in STEPS}, "run": RUN}


def ordered(steps: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The given steps in pipeline order; unknown names fail with the known ones."""
    unknown = sorted(set(steps) - set(NAMES))
    if unknown:
        raise ValueError(f"unknown steps {unknown}; steps: {', '.join(NAMES)}")
    return tuple(n for n in NAMES if n in steps)
