"""A naive baseline on a blind world, and a side-by-side with a job's scores.

    python -m benchmarks.blind_world.naive --world /tmp/blind/default --run-date 2026-06-30 \
        [--scores OUT/scores] [--json PATH] [--seed 7]

About a dozen obvious per-card features from DuckDB, one row per card (SIM and account, with `is_account`), a
single-machine XGBClassifier trained on the labelled cards only (own SIM/ACCOUNT label, else the holder's PERSON
label; latest label wins), scoring every card. Evaluated on "new finds": cards with neither an own nor a PERSON
label. Per kind: average precision (PR-AUC) against the truth, and per misuse typology the average precision of
that typology's cards against all honest cards of the kind. With --scores, the same for the job's scores, plus
precision/recall of its list (risk_tier != NONE) and the listed share per typology.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score
from xgboost import XGBClassifier

KINDS = (("SIM", "sim_registrations", "msisdn"), ("ACCOUNT", "bank_accounts", "account_id"))
FEATURES = ("is_account", "sims_per_id", "accounts_per_id", "holders_per_imei", "sims_per_imei", "callees_per_day",
            "calls_out_per_day", "calls_in_per_out", "days_abroad", "face_missing", "pass_through",
            "counterparties", "txn_count", "abroad_txn_share")
NORM_ID = "upper(translate({c}, '０１２３４５６７８９ｘＸ 　', '0123456789XX'))"  # drops spaces

FEATURE_SQL = f"""
WITH sims AS (
  SELECT msisdn, {NORM_ID.format(c="id_number")} AS nid, face_verified FROM sim_registrations
  WHERE reg_time < $asof
), accts AS (
  SELECT account_id, {NORM_ID.format(c="id_number")} AS nid FROM bank_accounts WHERE open_time < $asof
), per_id AS (
  SELECT nid, count(*) AS sims_per_id FROM sims GROUP BY nid
), per_id_acc AS (
  SELECT nid, count(*) AS accounts_per_id FROM accts GROUP BY nid
), act AS (
  SELECT a.*, s.nid FROM sim_activity a JOIN sims s USING (msisdn) WHERE a.day < CAST($asof AS DATE)
), imei_stats AS (
  SELECT imei, count(DISTINCT nid) AS holders, count(DISTINCT msisdn) AS n_sims FROM act
  WHERE imei IS NOT NULL GROUP BY imei
), sim_imei AS (
  SELECT d.msisdn, max(i.holders) AS holders_per_imei, max(i.n_sims) AS sims_per_imei
  FROM (SELECT DISTINCT msisdn, imei FROM act WHERE imei IS NOT NULL) d JOIN imei_stats i USING (imei)
  GROUP BY d.msisdn
), usage AS (
  SELECT msisdn, count(DISTINCT day) AS days, sum(calls_out) AS co, sum(calls_in) AS ci,
         sum(distinct_callees) AS callees, count(DISTINCT day) FILTER (WHERE cell_region = 'ABROAD') AS days_abroad
  FROM act GROUP BY msisdn
), tx AS (
  SELECT account_id, count(*) AS txn_count,
         coalesce(sum(amount) FILTER (WHERE direction = 'IN'), 0) AS amt_in,
         coalesce(sum(amount) FILTER (WHERE direction = 'OUT'), 0) AS amt_out,
         count(DISTINCT counterparty_account) AS counterparties,
         avg(CASE WHEN ip_region = 'ABROAD' THEN 1.0 ELSE 0.0 END) AS abroad_txn_share
  FROM bank_transactions WHERE ts < $asof GROUP BY account_id
)
SELECT 'SIM' AS kind, s.msisdn AS entity_id, s.nid, 0 AS is_account,
       coalesce(p.sims_per_id, 0) AS sims_per_id, coalesce(pa.accounts_per_id, 0) AS accounts_per_id,
       coalesce(si.holders_per_imei, 0) AS holders_per_imei, coalesce(si.sims_per_imei, 0) AS sims_per_imei,
       coalesce(u.callees / u.days, 0) AS callees_per_day, coalesce(u.co / u.days, 0) AS calls_out_per_day,
       coalesce(u.ci / (u.co + 1), 0) AS calls_in_per_out, coalesce(u.days_abroad, 0) AS days_abroad,
       CASE WHEN s.face_verified THEN 0 ELSE 1 END AS face_missing,
       NULL AS pass_through, NULL AS counterparties, NULL AS txn_count, NULL AS abroad_txn_share
FROM sims s LEFT JOIN per_id p USING (nid) LEFT JOIN per_id_acc pa USING (nid)
     LEFT JOIN sim_imei si USING (msisdn) LEFT JOIN usage u USING (msisdn)
UNION ALL
SELECT 'ACCOUNT', a.account_id, a.nid, 1,
       coalesce(p.sims_per_id, 0), coalesce(pa.accounts_per_id, 0), NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       CASE WHEN greatest(t.amt_in, t.amt_out) > 0 THEN least(t.amt_in, t.amt_out) / greatest(t.amt_in, t.amt_out)
            ELSE 0 END,
       coalesce(t.counterparties, 0), coalesce(t.txn_count, 0), coalesce(t.abroad_txn_share, 0)
FROM accts a LEFT JOIN per_id p USING (nid) LEFT JOIN per_id_acc pa USING (nid) LEFT JOIN tx t USING (account_id)
"""

LABEL_SQL = f"""
WITH latest AS (
  SELECT entity_type, CASE WHEN entity_type = 'PERSON' THEN {NORM_ID.format(c="entity_id")} ELSE entity_id END
         AS eid, arg_max(label, label_time) AS label
  FROM labels WHERE label_time < $asof GROUP BY ALL
)
SELECT entity_type, eid, label FROM latest
"""


def _view(con: duckdb.DuckDBPyConnection, name: str, root: Path) -> None:
    path = root / name
    pattern = f"{path}/**/*.parquet" if path.is_dir() else f"{path}.parquet"
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{pattern}', hive_partitioning=true)")


def features_and_labels(world: Path, run_date: str) -> pd.DataFrame:
    """One row per card: features, the label it trains on (NaN if none), and the truth."""
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    for t in ("sim_registrations", "bank_accounts", "sim_activity", "bank_transactions", "labels"):
        _view(con, t, world / "input")
    asof = pd.Timestamp(run_date).to_pydatetime()
    feats = con.execute(FEATURE_SQL, {"asof": asof}).df().sort_values(["kind", "entity_id"], ignore_index=True)
    lab = con.execute(LABEL_SQL, {"asof": asof}).df()
    own = lab[lab["entity_type"] != "PERSON"].set_index(["entity_type", "eid"])["label"]
    person = lab[lab["entity_type"] == "PERSON"].set_index("eid")["label"]
    key = pd.MultiIndex.from_arrays([feats["kind"], feats["entity_id"]])
    feats["own_label"] = own.reindex(key).to_numpy()
    feats["person_label"] = person.reindex(feats["nid"]).to_numpy()
    feats["label"] = feats["own_label"].fillna(feats["person_label"])
    truth = []
    for kind, table, key_col in KINDS:
        t = pd.read_parquet(world / "truth" / table)
        truth.append(t.rename(columns={key_col: "entity_id"}).assign(kind=kind))
    return feats.merge(pd.concat(truth), on=["kind", "entity_id"], how="left")


def train_and_score(df: pd.DataFrame, seed: int) -> np.ndarray:
    """XGBoost on the labelled cards; a score for every card."""
    x = df[list(FEATURES)].astype(float)
    train = df["label"].notna()
    model = XGBClassifier(n_estimators=300, max_depth=4, learning_rate=0.05, subsample=0.8, colsample_bytree=0.8,
                          min_child_weight=2, random_state=seed, n_jobs=2, tree_method="hist")
    model.fit(x[train], df.loc[train, "label"].astype(int))
    return model.predict_proba(x)[:, 1]


def _ap(y: np.ndarray, s: np.ndarray) -> float | None:
    return float(average_precision_score(y, s)) if 0 < y.sum() < len(y) else None


def evaluate(df: pd.DataFrame, score_cols: dict[str, str], listed_col: str | None) -> dict[str, Any]:
    """PR-AUC per kind and per typology on new finds; list precision/recall when a tier column is given."""
    new = df[df["label"].isna()]
    out: dict[str, Any] = {}
    for kind, _t, _k in KINDS:
        d = new[new["kind"] == kind]
        y = d["is_misuse"].to_numpy()
        honest = d["is_misuse"] == 0
        k = int(y.sum())
        res: dict[str, Any] = {"new_cards": len(d), "new_misuse": k, "base_rate": round(float(y.mean()), 4)}
        for name, col in score_cols.items():
            s = d[col].to_numpy()
            res[f"pr_auc_{name}"] = _ap(y, s)
            typ: dict[str, Any] = {}
            for t, g in d[~honest].groupby("typology"):
                sub = pd.concat([g, d[honest]])
                typ[str(t)] = {"cards": len(g), "ap": _ap(sub["is_misuse"].to_numpy(), sub[col].to_numpy())}
            res[f"typology_{name}"] = typ
            # which honest groups crowd the top-k (k = number of misuse new finds)
            top = d.nlargest(max(k, 1), col)
            grp = top.loc[top["is_misuse"] == 0, "typology"].value_counts()
            res[f"top_k_honest_{name}"] = {str(g): int(v) for g, v in grp.items()}
        if listed_col is not None:
            listed = d[listed_col].to_numpy()
            tp = int((listed & (y == 1)).sum())
            res["listed"] = int(listed.sum())
            res["list_precision"] = round(tp / listed.sum(), 4) if listed.sum() else None
            res["list_recall"] = round(tp / k, 4) if k else None
            res["listed_recall_by_typology"] = {
                str(t): round(float(g[listed_col].mean()), 4) for t, g in d[~honest].groupby("typology")}
            res["listed_rate_by_honest_group"] = {
                str(t): round(float(g[listed_col].mean()), 4) for t, g in d[honest].groupby("typology")}
        out[kind] = res
    return out


def read_scores(path: Path, run_date: str) -> pd.DataFrame:
    """A job's scores dataset (entity_type, entity_id, score, risk_tier), the run date's partition if partitioned."""
    con = duckdb.connect()
    pattern = f"{path}/**/*.parquet" if path.is_dir() else str(path)
    s = con.execute(f"SELECT * FROM read_parquet('{pattern}', hive_partitioning=true, union_by_name=true)").df()
    if "run_date" in s.columns:
        s = s[s["run_date"].astype(str).str[:10] == run_date]
    return s[["entity_type", "entity_id", "score", "risk_tier"]].rename(columns={"entity_type": "kind"})


def _fmt(v: Any) -> str:
    return "   -  " if v is None else f"{v:6.3f}"


def report(res: dict[str, Any], with_job: bool) -> str:
    lines = []
    for kind, r in res["kinds"].items():
        lines.append(f"\n{kind}: {r['new_cards']} new cards, {r['new_misuse']} misuse (base rate {r['base_rate']:.3%})")
        head = f"  {'typology':18s} {'cards':>6s} {'naive AP':>9s}" + (f" {'job AP':>8s} {'listed':>7s}" if with_job
                                                                         else "")
        lines.append(head)
        row = f"  {'ALL (PR-AUC)':18s} {r['new_misuse']:6d} {_fmt(r['pr_auc_naive']):>9s}"
        if with_job:
            row += f" {_fmt(r['pr_auc_job']):>8s} {_fmt(r.get('list_recall')):>7s}"
        lines.append(row)
        for t, v in sorted(r["typology_naive"].items()):
            row = f"  {t:18s} {v['cards']:6d} {_fmt(v['ap']):>9s}"
            if with_job:
                row += f" {_fmt(r['typology_job'][t]['ap']):>8s} {_fmt(r['listed_recall_by_typology'].get(t)):>7s}"
            lines.append(row)
        if with_job:
            lines.append(f"  list: {r['listed']} listed, precision {_fmt(r['list_precision'])}, "
                         f"recall {_fmt(r['list_recall'])}; honest groups listed: "
                         + ", ".join(f"{g} {v:.1%}" for g, v in r["listed_rate_by_honest_group"].items() if v > 0))
        lines.append("  honest groups in naive top-k: " + ", ".join(f"{g} {v}" for g, v in
                                                                    r["top_k_honest_naive"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--run-date", required=True)
    ap.add_argument("--scores", type=Path, default=None, help="a job's scores Parquet dataset")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    df = features_and_labels(args.world, args.run_date)
    df["naive"] = train_and_score(df, args.seed)
    cols = {"naive": "naive"}
    listed_col = None
    coverage = None
    if args.scores is not None:
        s = read_scores(args.scores, args.run_date)
        df = df.merge(s, on=["kind", "entity_id"], how="left")
        coverage = {k: int(df.loc[df["kind"] == k, "score"].notna().sum()) for k, _t, _c in KINDS}
        df["job"] = df["score"].fillna(0.0)
        df["listed"] = df["risk_tier"].fillna("NONE").ne("NONE")
        cols["job"] = "job"
        listed_col = "listed"
    trained = df["label"].notna()
    res = {
        "world": str(args.world), "run_date": args.run_date,
        "trained_on": {"cards": int(trained.sum()), "positives": int((df.loc[trained, "label"] == 1).sum()),
                       "via_person_label": int((df["own_label"].isna() & df["person_label"].notna()).sum())},
        "features": list(FEATURES), "job_scores_coverage": coverage,
        "kinds": evaluate(df, cols, listed_col),
    }
    print(f"world {args.world}: trained on {res['trained_on']['cards']} labelled cards "
          f"({res['trained_on']['positives']} positive, {res['trained_on']['via_person_label']} via PERSON labels)")
    if coverage is not None:
        print(f"job scores cover {coverage}")
    print(report(res, args.scores is not None))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
