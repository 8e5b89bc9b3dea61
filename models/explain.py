"""Reasons behind a score: the features pushing it up most, in words an analyst reads.

Contributions are XGBoost's exact tree SHAP values in log-odds (margin) space, computed by the
booster itself (``pred_contribs``), the same values xgboost.spark's ``pred_contrib_col`` gives.
They cost several times a plain prediction (STACK-NOTES #9): pass only the rows that need
explaining (the flagged ones).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import IntegralType, NumericType
from xgboost.spark import SparkXGBClassifierModel

REASON_TYPE = "array<struct<code:string,description:string,description_zh:string,contribution:double>>"
_TOP_TYPE = "array<struct<k:int,contribution:double>>"


def top_contributions(model: SparkXGBClassifierModel, keep: list[int], top_k: int) -> Column:
    """Per row, up to `top_k` (k, contribution) with the largest positive contributions, largest first.

    `keep` lists the model-order feature indices that may be reasons; ``k`` is a position in
    `keep`. Ties order by the larger ``k`` first. Ranked in numpy next to the booster, so only
    `top_k` pairs per row come back to Spark instead of every feature's contribution. The
    booster travels with the function as bytes and is loaded once per task, on one thread (a
    task owns one core).
    """
    booster = model.get_booster()
    best = booster.attr("best_iteration")  # as xgboost.spark predicts: up to the best iteration, else all
    iterations = (0, int(best) + 1) if best is not None else (0, 0)
    raw = bytes(booster.save_raw("ubj"))
    columns = list(model.getOrDefault("features_cols"))
    kept = np.asarray(keep, dtype=np.int64)
    order_k = -np.arange(len(keep), dtype=np.float64)

    @F.pandas_udf(_TOP_TYPE)  # type: ignore[call-overload]  # the stubs lack iterator UDFs
    def top(batches: Iterator[pd.DataFrame]) -> Iterator[pd.Series]:
        import xgboost as xgb

        local = xgb.Booster(params={"nthread": 1})
        local.load_model(bytearray(raw))
        for features in batches:
            x = features[columns].to_numpy(dtype=np.float64)
            contribs = local.predict(
                xgb.DMatrix(x, missing=np.nan, nthread=1),
                pred_contribs=True,
                iteration_range=iterations,
                validate_features=False,
            )[:, kept]
            # Contribution descending, then k descending (the order Spark's sort_array gave).
            ranked = np.lexsort((np.broadcast_to(order_k, contribs.shape), -contribs), axis=1)[:, :top_k]
            best_c = np.take_along_axis(contribs, ranked, axis=1)
            yield pd.Series(
                [
                    [{"k": int(k), "contribution": float(c)} for k, c in zip(ks, cs, strict=True) if c > 0]
                    for ks, cs in zip(ranked, best_c, strict=True)
                ]
            )

    return top(F.struct(*[F.col(c).cast("double").alias(c) for c in columns]))


def _value_text(df: DataFrame, name: str, missing: str = "missing") -> Column:
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
    return F.coalesce(text, F.lit(missing))


def add_reasons(
    model: SparkXGBClassifierModel,
    df: DataFrame,
    feature_cols: list[str],
    descriptions: Mapping[str, str],
    top_k: int,
    exclude: Iterable[str] = (),
    descriptions_zh: Mapping[str, str] | None = None,
) -> DataFrame:
    """`df` plus ``reasons``: up to `top_k` features with the largest positive contributions.

    Each reason is (code = feature name upper-cased, description = "<description>: <value>",
    description_zh = "<Chinese description>：<value>", contribution), ordered by contribution,
    largest first. Features in `exclude` (for example ``is_account``) are never given as a
    reason. A feature without a description uses its name; one without a Chinese description,
    its English one.
    """
    # Contributions come in the model's feature order, whatever order the caller lists them in.
    model_cols = list(model.getOrDefault("features_cols"))
    if sorted(model_cols) != sorted(feature_cols):
        raise ValueError(f"feature_cols {feature_cols} differ from the model's features {model_cols}")
    skip = set(exclude)
    # Candidates are numbered by code (k), so ties between equal contributions order by code.
    kept = sorted((name.upper(), i, name) for i, name in enumerate(model_cols) if name not in skip)
    top = top_contributions(model, [i for _, i, _ in kept], top_k)

    # Only the top_k picked are put in words: formatting every feature's value for every row cost
    # more than the contributions themselves.
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
    zh = descriptions_zh or {}
    words_zh = [
        F.concat(F.lit(f"{zh.get(name) or descriptions.get(name, name)}："), _value_text(df, name, "缺失"))
        for _, _, name in kept
    ]
    reasons = F.transform(
        top,
        lambda r: F.struct(
            pick(r["k"], codes).alias("code"),
            pick(r["k"], words).alias("description"),
            pick(r["k"], words_zh).alias("description_zh"),
            r["contribution"].alias("contribution"),
        ),
    ).cast(REASON_TYPE)
    return df.withColumn("reasons", reasons)
