"""Reasons behind a score: the features pushing it up most, in words an analyst reads.

Contributions are XGBoost's exact tree SHAP values in log-odds (margin) space, from
``pred_contrib_col``. They cost several times a plain prediction (STACK-NOTES #9): pass only the
rows that need explaining (the flagged ones).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import IntegralType, NumericType
from xgboost.spark import SparkXGBClassifierModel

from models.train import _TMP_PRED, _TMP_PROB, _TMP_RAW, scoring_model

REASON_TYPE = "array<struct<code:string,description:string,contribution:double>>"
_CONTRIB = "_rg_contrib"


def _value_text(df: DataFrame, name: str) -> Column:
    """The row's value as short text: integers as they are, fractions to at most 4 decimals."""
    dtype = df.schema[name].dataType
    col = F.col(name)
    if isinstance(dtype, IntegralType):
        text = col.cast("string")
    elif isinstance(dtype, NumericType):
        # "%.4f" then strip trailing zeros (and a bare point): 7.0 -> "7", 0.1250 -> "0.125".
        text = F.regexp_replace(F.format_string("%.4f", col.cast("double")), r"\.?0+$", "")
        text = F.when(text == "-0", F.lit("0")).otherwise(text)
    else:
        text = col.cast("string")
    return F.coalesce(text, F.lit("missing"))


def add_reasons(
    model: SparkXGBClassifierModel,
    df: DataFrame,
    feature_cols: list[str],
    descriptions: Mapping[str, str],
    top_k: int,
    exclude: Iterable[str] = (),
) -> DataFrame:
    """`df` plus ``reasons``: up to `top_k` features with the largest positive contributions.

    Each reason is (code = feature name upper-cased, description = "<description>: <value>",
    contribution), ordered by contribution, largest first. Features in `exclude` (for example
    ``is_account``) are never given as a reason. A feature without a description uses its name.
    """
    # Contributions come in the model's feature order, whatever order the caller lists them in.
    model_cols = list(model.getOrDefault("features_cols"))
    if sorted(model_cols) != sorted(feature_cols):
        raise ValueError(f"feature_cols {feature_cols} differ from the model's features {model_cols}")
    skip = set(exclude)
    contrib = F.col(_CONTRIB)[0]  # binary classifier: one output group of len(feature_cols) + 1 (bias)
    # Candidates carry (contribution, k), k the feature's rank by code: sorting them descending
    # orders by contribution, then by code. Only the top_k picked are put in words: formatting
    # every feature's value for every row cost more than the contributions themselves.
    kept = sorted((name.upper(), i, name) for i, name in enumerate(model_cols) if name not in skip)
    candidates = F.array(
        *[F.struct(contrib[i].alias("contribution"), F.lit(k).alias("k")) for k, (_, i, _) in enumerate(kept)]
    )
    positive = F.filter(candidates, lambda r: r["contribution"] > 0)
    top = F.slice(F.sort_array(positive, asc=False), 1, top_k)

    def pick(k: Column, texts: list[Column]) -> Column:
        """The k-th of `texts`, evaluating only that one."""
        out = F.when(k == 0, texts[0])
        for j, text in enumerate(texts[1:], start=1):
            out = out.when(k == j, text)
        return out

    codes = [F.lit(code) for code, _, _ in kept]
    words = [
        F.concat(F.lit(f"{descriptions.get(name, name)}: "), _value_text(df, name)) for _, _, name in kept
    ]
    reasons = F.transform(
        top,
        lambda r: F.struct(
            pick(r["k"], codes).alias("code"),
            pick(r["k"], words).alias("description"),
            r["contribution"].alias("contribution"),
        ),
    ).cast(REASON_TYPE)
    explained = scoring_model(model, pred_contrib_col=_CONTRIB).transform(df)
    return explained.withColumn("reasons", reasons).drop(_CONTRIB, _TMP_PROB, _TMP_RAW, _TMP_PRED)
