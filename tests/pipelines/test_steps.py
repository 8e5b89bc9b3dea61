"""The steps are declared once: the CLI, the pipeline and the DAG all read pipelines.steps."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from realname_guard.cli import HELP, STEP_COMMANDS, build_parser
from realname_guard.pipelines import steps


def test_every_step_has_a_job_and_every_command_runs_steps_in_order() -> None:
    for step in steps.STEPS:
        assert callable(importlib.import_module(step.job).step), step.name
        assert HELP[step.name] == step.help
    assert STEP_COMMANDS == steps.commands()
    assert STEP_COMMANDS["run"] == steps.RUN == ("validate", "features", "train", "score")
    assert STEP_COMMANDS["train"] == ("validate", "train") and STEP_COMMANDS["score"] == ("score",)
    for command, run in STEP_COMMANDS.items():
        assert steps.ordered(run) == run, command
        assert build_parser().parse_args([command]).command == command


def test_unknown_steps_name_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown steps \\['scroe'\\]; steps: validate, features"):
        steps.ordered(["validate", "scroe"])


def test_the_dag_takes_its_tasks_from_the_steps() -> None:
    for _, command in steps.DAG_TASKS:
        assert command in STEP_COMMANDS
    runs = [s for _, c in steps.DAG_TASKS for s in STEP_COMMANDS[c] if s != "validate"]
    assert runs == ["features", "train", "score"]  # the daily run, one application per task
    dag = Path(steps.__file__).with_name("airflow_dag.py").read_text(encoding="utf-8")
    imported = {n.module for n in ast.walk(ast.parse(dag)) if isinstance(n, ast.ImportFrom)}
    assert "realname_guard.pipelines.steps" in imported
    assert not any(m and m.startswith(("pyspark", "realname_guard.jobs")) for m in imported)
