"""What a data scientist finds in MLflow beside each model version: the backtest's PR curves, a SHAP
summary, the feature importance and a model card (what it is for, data, figures, known limits).

Everything here reads small things: the boosters, a bounded sample of cards (``shap_means``) and the
backtest's binned curves; the figures are PNGs drawn with matplotlib.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from realname_guard.models.evaluate import CurvePoint  # noqa: E402
from realname_guard.models.train import Model, boosters  # noqa: E402

ARTIFACTS = ("backtest_pr_curve.png", "shap_summary.png", "feature_importance.png", "feature_importance.json",
             "model_card.md")
TOP = 20  # features drawn in the bar charts


def feature_importance(model: Model) -> dict[str, float]:
    """Total gain per input, summed over the views that read it, largest first."""
    import xgboost as xgb

    total: dict[str, float] = {}
    for _, raw, cols, _ in boosters(model):
        b = xgb.Booster()
        b.load_model(bytearray(raw))
        for key, gain in b.get_score(importance_type="total_gain").items():
            name = cols[int(key[1:])] if key.startswith("f") and key[1:].isdigit() else key
            total[name] = total.get(name, 0.0) + float(np.sum(gain))  # a list only for vector leaves
    return dict(sorted(total.items(), key=lambda kv: -kv[1]))


def shap_means(model: Model, sample: pd.DataFrame) -> dict[str, float]:
    """Mean absolute SHAP contribution (log-odds) per input over `sample` (a bounded pandas sample of
    today's cards), summed over the views that read it, largest first."""
    import xgboost as xgb

    total: dict[str, float] = {}
    for _, raw, cols, iterations in boosters(model):
        b = xgb.Booster()
        b.load_model(bytearray(raw))
        x = sample.reindex(columns=cols).to_numpy(dtype=np.float32)
        contrib = b.predict(xgb.DMatrix(x, missing=np.nan), pred_contribs=True, iteration_range=iterations,
                            validate_features=False)
        for name, value in zip(cols, np.abs(contrib[:, : len(cols)]).mean(axis=0), strict=True):
            total[name] = total.get(name, 0.0) + float(value)
    return dict(sorted(total.items(), key=lambda kv: -kv[1]))


def bar_figure(values: Mapping[str, float], title: str, xlabel: str) -> Figure:
    """The `TOP` largest of `values` as horizontal bars, largest on top."""
    top = list(values.items())[:TOP]
    fig, ax = plt.subplots(figsize=(7, 0.28 * max(len(top), 4) + 1.2))
    ax.barh([k for k, _ in top][::-1], [v for _, v in top][::-1], color="#4c78a8")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    return fig


def pr_figure(curves: Mapping[str, Sequence[CurvePoint]], title: str) -> Figure:
    """Precision against recall of each named curve (the chosen setting, the naive baseline)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, points in curves.items():
        if points:
            ax.step([p.recall for p in points], [p.precision for p in points], where="post", label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall (cards confirmed in the window)")
    ax.set_ylabel("precision (measured: a lower bound)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def model_card(info: Mapping[str, Any]) -> str:
    """The model card in Markdown, from what the training run knows (``jobs.train``)."""
    metrics = info.get("metrics") or {}
    baseline = info.get("baseline_metrics") or {}

    def fig(d: Mapping[str, Any], key: str) -> str:
        v = d.get(key)
        return "n/a" if v is None or v != v else f"{float(v):.4f}"

    rows = "\n".join(f"| {k} | {fig(metrics, k)} | {fig(baseline, k)} |"
                     for k in ("positives", "average_precision", "pr_auc", "roc_auc", "recall_at_precision_90"))
    counts = "\n".join(f"| {k} | {v} |" for k, v in sorted((info.get("training_rows") or {}).items()))
    gate = info.get("gate") or {}
    top = ", ".join(list(info.get("importance") or {})[:10])
    return f"""# Model card: {info['name']} v{info['version']}

## What it is for
Ranks SIM cards and bank accounts by how likely they are registered under a real ID but used by
someone else (实名不实人: sold, rented, lent, or opened with a stolen identity), so that operators and
banks re-verify the holder first (反电信网络诈骗法 Art. 11, 18). A listing that rests on this model
alone waits for a person before any measure beyond re-verification (PIPL Art. 24). It is not a
verdict on a person and never puts anyone on the 失信惩戒 list.

## Data
- Run date {info['run_date']}; features of the run date and of the point-in-time snapshots
  {', '.join(info.get('snapshots') or [])} (each label trains on the snapshot before it).
- {info.get('n_features')} inputs{f" in the views {', '.join(info['views'])}" if info.get('views') else ""};
  monotone (non-decreasing) in {info.get('monotone', 0)} of them.
- Setting chosen by the backtest: {', '.join(f"{k}={v}" for k, v in (info.get('setting') or {}).items())}.

| training rows | count |
|---|---|
{counts}

## Figures (out of time: the backtest)
Trained on what was known {info.get('backtest_start')} and measured on the cards first confirmed
from then to the run date, which no model saw. Precision counts unconfirmed misuse as a miss: a
lower bound.

| metric | this setting | naive baseline |
|---|---|---|
{rows}

Gate: {"promoted" if gate.get("promote") else "refused" if gate else "not run"}{f": {gate['reason']}" if gate else ""}.

Inputs that carry the most (total gain): {top or "n/a"}.

## Known limits
- Labels are partial and biased towards the typologies confirmed most; misuse nobody confirmed
  counts as a negative in training and in the backtest. Schemes never labelled are left to the
  anomaly score (policy.anomaly).
- The backtest window holds few confirmations: its figures are noisy (see the bootstrap win shares
  in backtest.json) and describe the typologies confirmed in those days.
- Scores are not calibrated probabilities; the tiers are fixed thresholds (policy.tiers).
- Inputs drift; the run report names inputs whose PSI against this model's training day passes
  model.drift_psi_threshold.
"""
