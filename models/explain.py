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

from realname_guard.models.train import Model, ViewEnsemble, boosters, evidence, model_columns

REASON_TYPE = "array<struct<code:string,description:string,description_zh:string,contribution:double>>"
_TOP_TYPE = "array<struct<k:int,contribution:double>>"


def top_contributions(model: Model, keep: list[int], top_k: int) -> Column:
    """Per row, up to `top_k` (k, contribution) with the largest positive contributions, largest first.

    `keep` lists the model-order feature indices (``models.train.model_columns``) that may be
    reasons; ``k`` is a position in `keep`. Ties order by the larger ``k`` first. Ranked in numpy
    next to the booster, so only `top_k` pairs per row come back to Spark instead of every feature's
    contribution. The boosters travel with the function as bytes and are loaded once per task, on
    one thread (a task owns one core). For a ``ViewEnsemble`` the reasons are those of the view that
    adds most to the base rate for the row (``models.train.evidence``): the evidence that listed it.
    """
    columns = model_columns(model)
    members = boosters(model)
    where = {c: i for i, c in enumerate(columns)}
    positions = [np.asarray([where[c] for c in cols], dtype=np.int64) for _, _, cols, _ in members]
    base, shared = (model.base, set(model.shared)) if isinstance(model, ViewEnsemble) else (0.0, set())
    own = [np.asarray([where[c] for c in cols if c not in shared], dtype=np.int64) for _, _, cols, _ in members]
    kept = np.asarray(keep, dtype=np.int64)
    order_k = -np.arange(len(keep), dtype=np.float64)

    @F.pandas_udf(_TOP_TYPE)  # type: ignore[call-overload]  # the stubs lack iterator UDFs
    def top(batches: Iterator[pd.DataFrame]) -> Iterator[pd.Series]:
        import xgboost as xgb

        local = []
        for _, raw, cols, iterations in members:
            b = xgb.Booster(params={"nthread": 1})
            b.load_model(bytearray(raw))
            local.append((b, cols, iterations))
        for features in batches:
            x = features[columns].to_numpy(dtype=np.float64)
            full = np.zeros((len(features), len(columns)), dtype=np.float64)
            surest = np.full(len(features), -np.inf)
            for (b, _, iterations), pos, mine in zip(local, positions, own, strict=True):
                matrix = xgb.DMatrix(x[:, pos], missing=np.nan, nthread=1)
                raw_contribs = b.predict(matrix, pred_contribs=True, iteration_range=iterations,
                                         validate_features=False)
                margin = raw_contribs.sum(axis=1)  # the view's log-odds: its contributions and bias
                contribs = raw_contribs[:, :-1]  # the last column is the bias
                # The view adding most to the base rate (models.train.evidence), the surer one on a
                # tie; never a view that saw none of its own inputs for the row.
                p = 1.0 / (1.0 + np.exp(-margin))
                seen = ~np.isnan(x[:, mine]).all(axis=1) if len(mine) else np.ones(len(x), dtype=bool)
                key = np.where(seen, evidence(p, base, seen) + 1e-6 * p, -np.inf)
                better = key > surest if len(local) > 1 else np.ones(len(x), dtype=bool)
                surest = np.where(better, key, surest)
                full[better] = 0.0
                full[np.ix_(better, pos)] = contribs[better]
            chosen = full[:, kept]
            # Contribution descending, then k descending (the order Spark's sort_array gave).
            ranked = np.lexsort((np.broadcast_to(order_k, chosen.shape), -chosen), axis=1)[:, :top_k]
            best_c = np.take_along_axis(chosen, ranked, axis=1)
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
    model: Model,
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
    model_cols = model_columns(model)
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


def anomaly_reasons(df: DataFrame, descriptions: Mapping[str, str], descriptions_zh: Mapping[str, str]) -> Column:
    """The reasons of a card listed on the anomaly score (``models.anomaly``): its farthest-out
    inputs, farthest first, each as "<description>: <value> (top <tail>% of <kind>s)" in English and
    Chinese, contribution -ln(tail), from ``anomaly_features`` and ``anomaly_tails``."""
    names = sorted({c for c in descriptions if c in df.columns} | {c for c in descriptions_zh if c in df.columns})
    if not names:
        return F.array().cast(REASON_TYPE)
    values = F.create_map(*[x for n in names for x in (F.lit(n), _value_text(df, n))])
    en = F.create_map(*[x for n in names for x in (F.lit(n), F.lit(descriptions.get(n, n)))])
    zh = F.create_map(*[x for n in names for x in (F.lit(n), F.lit(descriptions_zh.get(n) or descriptions.get(n, n)))])
    kind = F.lower(F.col("entity_type"))

    def reason(pair: Column) -> Column:
        name, tail = pair["anomaly_features"], pair["anomaly_tails"]
        pct = F.regexp_replace(F.format_string("%.3f", tail * 100), r"\.?0+$", "")
        return F.struct(
            F.upper(name).alias("code"),
            F.concat(F.coalesce(en[name], name), F.lit(": "), F.coalesce(values[name], F.lit("missing")),
                     F.lit(" (top "), pct, F.lit("% of "), kind, F.lit("s)")).alias("description"),
            F.concat(F.coalesce(zh[name], name), F.lit("："), F.coalesce(values[name], F.lit("缺失")),
                     F.lit("（同类前"), pct, F.lit("%）")).alias("description_zh"),
            (-F.log(tail)).alias("contribution"),
        )

    return F.transform(F.arrays_zip("anomaly_features", "anomaly_tails"), reason).cast(REASON_TYPE)
