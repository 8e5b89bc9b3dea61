"""Champion and challenger: when a new model may score, and a person's override (``promote``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from realname_guard.cli import main as cli_main
from realname_guard.core.config import GateConfig
from realname_guard.models.backtest import Ranked, gate_decision

GATE = GateConfig(tolerance=0.0, confidence=0.9, min_listed_share=0.0, max_listed_share=0.1)


def window(bins: list[int], negatives: dict[int, int], bins_total: int = 100) -> Ranked:
    """A backtest window: the score bin of each confirmed card (C0, C1, ...) and negatives per bin."""
    above = [0] * (bins_total + 2)
    for b in range(bins_total, -1, -1):
        above[b] = above[b + 1] + negatives.get(b, 0)
    return Ranked({("SIM", f"C{i}"): b for i, b in enumerate(bins)}, above)


NEGATIVES = {b: 100 for b in range(0, 100, 5)}  # 2,000 unconfirmed cards spread over the scores
GOOD = window([95] * 25 + [60] * 5, NEGATIVES)  # confirmations near the top
RANDOM = window([(i * 37) % 100 for i in range(30)], NEGATIVES)  # a model that learned nothing


def test_a_challenger_clearly_worse_on_the_same_window_is_refused() -> None:
    d = gate_decision((0.15, RANDOM), (0.8, GOOD), True, 0.01, GATE)
    assert not d.promote and d.champion_wins is not None and d.champion_wins >= 0.9
    assert "below the champion's" in d.reason


def test_a_challenger_as_good_or_better_is_promoted() -> None:
    assert gate_decision((0.8, GOOD), (0.15, RANDOM), True, 0.01, GATE).promote
    assert gate_decision((0.8, GOOD), (0.8, GOOD), True, 0.01, GATE).promote  # a tie keeps moving forward


def test_a_small_loss_within_tolerance_or_noise_is_not_refused() -> None:
    slightly = window([95] * 24 + [60] * 6, NEGATIVES)
    assert gate_decision((0.78, slightly), (0.8, GOOD), True, 0.01, GATE).promote  # within noise
    loose = GateConfig(tolerance=0.7)
    assert gate_decision((0.15, RANDOM), (0.8, GOOD), True, 0.01, loose).promote


def test_listing_out_of_bounds_nothing_measured_and_no_champion() -> None:
    d = gate_decision((0.9, GOOD), (0.8, GOOD), True, 0.35, GATE)
    assert not d.promote and "35.00% of open cards" in d.reason
    d = gate_decision(None, (0.8, GOOD), True, 0.01, GATE)
    assert not d.promote and "measured nothing" in d.reason
    assert gate_decision(None, None, False, 0.01, GATE).promote  # the first model, whatever it lists
    first = gate_decision(None, None, False, 0.35, GATE)
    assert first.promote and "although it would list 35.00%" in first.reason
    assert gate_decision((0.1, RANDOM), (0.8, GOOD), True, 0.01, GateConfig(enabled=False)).promote


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, MlflowClient]]:
    """A SQLite registry holding versions 1 and 2 of `realname-guard`, version 1 the champion."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    client.create_registered_model("realname-guard")
    for _ in range(2):
        client.create_model_version("realname-guard", source=str(tmp_path / "model"))
    client.set_registered_model_alias("realname-guard", "champion", "1")
    yield uri, client
    mlflow.set_tracking_uri(None)


def test_promote_moves_the_champion_and_records_who_and_why(
    registry: tuple[str, MlflowClient], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uri, client = registry
    monkeypatch.setenv("REALNAME_GUARD_ANALYST", "risk-desk-7")
    assert cli_main(["promote", "--version", "2", "--reason", "re-verified by the desk: v1 over-lists students",
                     f"run.mlflow.tracking_uri={uri}"]) == 0
    assert "version 2 is now @champion (was version 1)" in capsys.readouterr().out
    assert str(client.get_model_version_by_alias("realname-guard", "champion").version) == "2"
    tags = client.get_model_version("realname-guard", "2").tags
    assert tags["promoted_by"] == "risk-desk-7" and tags["promoted_over"] == "1"
    assert tags["promote_reason"].startswith("re-verified by the desk")


def test_promote_says_what_is_wrong(registry: tuple[str, MlflowClient], capsys: pytest.CaptureFixture[str]) -> None:
    uri, client = registry
    assert cli_main(["promote", "--version", "9", "--reason", "x", f"run.mlflow.tracking_uri={uri}"]) == 1
    assert "version 9" in capsys.readouterr().err
    assert cli_main(["promote", "--version", "2", "--reason", "  ", f"run.mlflow.tracking_uri={uri}"]) == 2
    assert "--reason must say why" in capsys.readouterr().err
    assert str(client.get_model_version_by_alias("realname-guard", "champion").version) == "1"
    with pytest.raises(SystemExit):
        cli_main(["promote", "--help"])
    assert "@challenger" in capsys.readouterr().out
