"""Model quality on scored rows: PR-AUC, ROC-AUC, recall at a precision, thresholds for a precision.

The precision-recall curve comes from a histogram of scores in 1e-3 bins built in Spark, so at
most 1,001 rows reach the driver however many rows are scored. Thresholds are bin edges: a
threshold t selects ``score >= t``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

log = logging.getLogger(__name__)

BINS = 1000  # score resolution of thresholds and of the histogram curve
RECALL_AT_PRECISION = 0.9


@dataclass(frozen=True)
class CurvePoint:
    """Precision and recall of the rule ``score >= threshold``."""

    threshold: float
    true_positives: int
    predicted_positives: int
    precision: float
    recall: float


def _clean(pred_df: DataFrame, label_col: str, score_col: str) -> DataFrame:
    return pred_df.where(F.col(label_col).isNotNull() & F.col(score_col).isNotNull()).select(
        F.col(label_col).cast("double").alias("label"), F.col(score_col).cast("double").alias("score")
    )


def pr_curve(pred_df: DataFrame, label_col: str = "label", score_col: str = "score") -> list[CurvePoint]:
    """Precision/recall at every non-empty 1e-3 score bin edge, from the highest threshold down."""
    clean = _clean(pred_df, label_col, score_col)
    bucket = F.least(F.greatest(F.floor(F.col("score") * BINS), F.lit(0)), F.lit(BINS)).cast("int")
    hist = (
        clean.groupBy(bucket.alias("bucket"))
        .agg(F.sum("label").alias("pos"), F.count(F.lit(1)).alias("n"))
        .collect()  # small: at most BINS + 1 rows, one per score bin
    )
    total_pos = sum(int(r["pos"]) for r in hist)
    points: list[CurvePoint] = []
    tp = pp = 0
    for r in sorted(hist, key=lambda r: r["bucket"], reverse=True):
        tp += int(r["pos"])
        pp += int(r["n"])
        points.append(
            CurvePoint(
                threshold=r["bucket"] / BINS,
                true_positives=tp,
                predicted_positives=pp,
                precision=tp / pp,
                recall=tp / total_pos if total_pos else 0.0,
            )
        )
    return points


def _lowest_point_at(points: list[CurvePoint], precision: float) -> CurvePoint | None:
    """The point with the lowest threshold (hence the highest recall) whose precision is enough."""
    reaching = [p for p in points if p.precision >= precision and p.true_positives > 0]
    return min(reaching, key=lambda p: p.threshold) if reaching else None


def threshold_for_precision(
    pred_df: DataFrame, precision: float, label_col: str = "label", score_col: str = "score"
) -> float | None:
    """The lowest score threshold at which ``score >= threshold`` reaches `precision`, or None."""
    point = _lowest_point_at(pr_curve(pred_df, label_col, score_col), precision)
    return point.threshold if point else None


def thresholds_for_precisions(
    pred_df: DataFrame, precisions: Iterable[float], label_col: str = "label", score_col: str = "score"
) -> dict[float, float | None]:
    """`threshold_for_precision` for several precisions from one pass over the data."""
    points = pr_curve(pred_df, label_col, score_col)
    out: dict[float, float | None] = {}
    for p in precisions:
        point = _lowest_point_at(points, p)
        out[p] = point.threshold if point else None
    return out


def average_precision(points: list[CurvePoint]) -> float:
    """Step-wise area under the PR curve (scikit-learn's average_precision on binned scores)."""
    ap = prev_recall = 0.0
    for p in points:
        ap += (p.recall - prev_recall) * p.precision
        prev_recall = p.recall
    return ap


def evaluate(pred_df: DataFrame, label_col: str = "label", score_col: str = "score") -> dict[str, float]:
    """Metrics of a scored, labelled frame, named for MLflow.

    ``pr_auc`` and ``roc_auc`` are Spark's exact areas (trapezoidal PR); ``average_precision`` and
    ``recall_at_precision_90`` come from the binned curve. A class that is absent gives NaN areas.
    """
    points = pr_curve(pred_df, label_col, score_col)
    positives = points[-1].true_positives if points else 0
    total = points[-1].predicted_positives if points else 0
    negatives = total - positives
    metrics: dict[str, float] = {
        "positives": float(positives),
        "negatives": float(negatives),
        "base_rate": positives / total if total else math.nan,
    }
    if positives == 0 or negatives == 0:
        log.warning("evaluate: %d positives and %d negatives; areas are undefined", positives, negatives)
        metrics.update(pr_auc=math.nan, roc_auc=math.nan, average_precision=math.nan)
        metrics["recall_at_precision_90"] = math.nan
        return metrics
    clean = _clean(pred_df, label_col, score_col)
    evaluator = BinaryClassificationEvaluator(rawPredictionCol="score", labelCol="label", numBins=0)
    metrics["pr_auc"] = float(evaluator.evaluate(clean, {evaluator.metricName: "areaUnderPR"}))
    metrics["roc_auc"] = float(evaluator.evaluate(clean, {evaluator.metricName: "areaUnderROC"}))
    metrics["average_precision"] = average_precision(points)
    at = _lowest_point_at(points, RECALL_AT_PRECISION)
    metrics["recall_at_precision_90"] = at.recall if at else 0.0
    return metrics
