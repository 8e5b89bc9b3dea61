"""Generate the blind world: contract input tables, the truth behind them, and a summary.

    python -m benchmarks.blind_world.world --persons 10000 --seed 7 --run-date 2026-06-30 --out /tmp/blind/default \
        [--variant default|harsh]

Writes DIR/input/<table>/part-0.parquet for every contract input table, DIR/truth/{sim_registrations,
bank_accounts}/part-0.parquet (msisdn|account_id, is_misuse, typology) and DIR/truth/summary.json (counts and label
rates per typology and kind, and the variant's assumptions).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.blind_world.activity import sim_activity
from benchmarks.blind_world.assumptions import VARIANTS, Assumptions, variant
from benchmarks.blind_world.identity import id_check_digit
from benchmarks.blind_world.money import bank_transactions
from benchmarks.blind_world.outcomes import Outcomes, decide_outcomes
from benchmarks.blind_world.population import Population, build_population
from benchmarks.blind_world.timebase import run_midnight

TS = pa.timestamp("us")  # zone-less local China time; microseconds so that Spark reads it too
S = pa.string()
SCHEMAS: Mapping[str, pa.Schema] = {
    "sim_registrations": pa.schema([
        ("msisdn", S), ("operator", S), ("id_type", S), ("id_number", S), ("reg_name", S), ("reg_time", TS),
        ("channel", S), ("outlet_id", S), ("outlet_region", S), ("face_verified", pa.bool_()), ("status", S),
        ("cancel_time", TS)]),
    "bank_accounts": pa.schema([
        ("account_id", S), ("bank_code", S), ("id_type", S), ("id_number", S), ("holder_name", S),
        ("open_time", TS), ("branch_id", S), ("branch_region", S), ("channel", S), ("account_class", S),
        ("reserved_msisdn", S), ("open_device_id", S), ("status", S), ("close_time", TS)]),
    "sim_activity": pa.schema([
        ("msisdn", S), ("day", pa.date32()), ("imei", S), ("cell_region", S), ("roam_country", S),
        ("calls_out", pa.int32()), ("calls_in", pa.int32()), ("call_out_seconds", pa.int64()),
        ("distinct_callees", pa.int32()), ("sms_out", pa.int32()), ("sms_in", pa.int32()), ("data_mb", pa.float64())]),
    "bank_transactions": pa.schema([
        ("txn_id", S), ("account_id", S), ("ts", TS), ("amount", pa.decimal128(18, 2)), ("direction", S),
        ("counterparty_account", S), ("channel", S), ("device_id", S), ("ip_region", S)]),
    "id_registry": pa.schema([
        ("id_number", S), ("name", S), ("birth_date", pa.date32()), ("gender", S), ("hukou_region", S),
        ("id_status", S)]),
    "disciplinary_list": pa.schema([
        ("id_type", S), ("id_number", S), ("listed_from", pa.date32()), ("listed_until", pa.date32()),
        ("basis", S), ("source", S)]),
    "labels": pa.schema([
        ("entity_type", S), ("entity_id", S), ("label", pa.int32()), ("label_time", TS), ("source", S)]),
}
TRUTH_SCHEMAS: Mapping[str, pa.Schema] = {
    "sim_registrations": pa.schema([("msisdn", S), ("is_misuse", pa.int32()), ("typology", S)]),
    "bank_accounts": pa.schema([("account_id", S), ("is_misuse", pa.int32()), ("typology", S)]),
}


def _arrow(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """Exactly the schema's columns and types (decimals via float64, dates via datetime64[D])."""
    arrays = []
    for f in schema:
        col = df[f.name]
        if pa.types.is_decimal(f.type):
            arrays.append(pa.array(col.to_numpy(dtype=np.float64)).cast(f.type))
        elif pa.types.is_date(f.type):
            arrays.append(pa.array(col.to_numpy().astype("datetime64[D]"), type=f.type))
        else:
            arrays.append(pa.array(col, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def _write(df: pd.DataFrame, schema: pa.Schema, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(_arrow(df, schema), path / "part-0.parquet")


def _write_stream(frames: Iterable[pd.DataFrame], schema: pa.Schema, path: Path,
                  prepare: Callable[[pd.DataFrame, int], pd.DataFrame]) -> int:
    """Chunks into one Parquet file (one row group each); `prepare(chunk, rows_so_far)` may add ids and checks."""
    path.mkdir(parents=True, exist_ok=True)
    n = 0
    with pq.ParquetWriter(path / "part-0.parquet", schema) as w:
        for df in frames:
            w.write_table(_arrow(prepare(df, n), schema))
            n += len(df)
    return n


def contract_tables(pop: Population, out: Outcomes) -> dict[str, pd.DataFrame]:
    """The delivered tables except the two traffic tables, which are streamed."""
    sims = pop.sims
    accs = pop.accounts
    open_dev = accs["open_dev"].to_numpy()
    accounts = accs.assign(
        bank_code=accs["bank"],
        open_device_id=np.where(open_dev >= 0, pop.device_fp[np.maximum(open_dev, 0)], None))
    p = pop.persons
    res = p[p["id_type"] == "RESIDENT_ID"]
    registry = pd.DataFrame({
        "id_number": res["id_clean"], "name": res["name"], "birth_date": res["birth"].to_numpy(),
        "gender": np.where(res["male"], "M", "F"), "hukou_region": res["hukou"], "id_status": res["id_status"]})
    return {
        "sim_registrations": sims, "bank_accounts": accounts, "id_registry": registry, "disciplinary_list": out.disciplinary, "labels": out.labels,
    }


def check(tables: Mapping[str, pd.DataFrame], run_date: str) -> None:
    """Fail loudly if the world breaks its own contract (dates, keys, formats)."""
    r = run_midnight(run_date)
    s = tables["sim_registrations"]
    assert s["msisdn"].is_unique and s["msisdn"].str.fullmatch(r"1\d{10}").all(), "bad msisdn"
    assert tables["bank_accounts"]["account_id"].is_unique, "duplicate account_id"
    for name, cols in (("sim_registrations", ("reg_time", "cancel_time")), ("bank_accounts", ("open_time",
                       "close_time")), ("labels", ("label_time",))):
        for c in cols:
            t = tables[name][c].dropna().to_numpy().astype("datetime64[s]")
            assert (t < r).all(), f"{name}.{c} at or after the run date"
    assert (tables["disciplinary_list"]["listed_from"].to_numpy().astype("datetime64[D]") < r).all()
    reg = tables["id_registry"]["id_number"].to_numpy().astype(str)
    assert (id_check_digit(np.array([x[:17] for x in reg])) == np.array([x[17] for x in reg])).all(), "checksum"


def _plain(x: Any) -> Any:
    """Dataclasses, mappings and tuples as JSON-ready values."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, tuple | list):
        return [_plain(v) for v in x]
    return x


def summary(pop: Population, out: Outcomes, a: Assumptions, args: argparse.Namespace, seconds: float
            ) -> dict[str, Any]:
    """Counts and label rates per kind and typology; what a user of the world needs to know."""
    lab = out.labels
    latest = lab.sort_values("label_time").drop_duplicates(["entity_type", "entity_id"], keep="last")
    kinds: dict[str, Any] = {}
    persons_labelled = set(lab.loc[lab["entity_type"] == "PERSON", "entity_id"])
    for kind, df, key in (("SIM", pop.sims, "msisdn"), ("ACCOUNT", pop.accounts, "account_id")):
        own = latest[latest["entity_type"] == kind].set_index("entity_id")["label"]
        lbl = own.reindex(df[key]).to_numpy()
        person_ids = pop.persons["id_clean"].to_numpy()[df["person"].to_numpy()]
        via_person = np.isin(person_ids, list(persons_labelled))
        rows = {}
        for typ, g in df.assign(lbl=lbl, via_person=via_person).groupby("typology"):
            rows[str(typ)] = {
                "cards": int(len(g)), "misuse": int(g["is_misuse"].sum()),
                "label_1": int((g["lbl"] == 1).sum()), "label_0": int((g["lbl"] == 0).sum()),
                "label_1_rate": round(float((g["lbl"] == 1).mean()), 3),
                "under_person_label": int(g["via_person"].sum()),
                "stopped": int((g["status"] != "ACTIVE").sum()),
            }
        kinds[kind] = rows
    return {
        "variant": a.name, "persons": args.persons, "seed": args.seed, "run_date": args.run_date,
        "seconds": round(seconds, 1),
        "rows": {"labels": len(lab), "disciplinary_list": len(out.disciplinary)},
        "labels_by_type": {f"{k[0]}:{k[1]}": int(v) for k, v in lab.groupby(["entity_type", "label"]).size().items()},
        "labels_by_source": {str(k): int(v) for k, v in lab["source"].value_counts().items()},
        "label_time_range": [str(lab["label_time"].min()), str(lab["label_time"].max())],
        "persons_by_group": {str(k): int(v) for k, v in pop.persons["group"].value_counts().items()},
        "persons_by_typology": {str(k): int(v) for k, v in pd.concat([pop.sims, pop.accounts])
                                .query("is_misuse == 1").groupby("typology")["person"].nunique().items()},
        "typologies": kinds,
        "never_labelled": [t for t, p in a.typology.items() if p.p_label == 0 and p.p_person_label == 0],
        "assumptions": _plain(a),
    }


def generate(n_persons: int, seed: int, run_date: str, out_dir: Path, variant_name: str, *,
             activity_days: int = 60, txn_days: int = 90) -> dict[str, Any]:
    """Build and write one world; returns its summary."""
    t0 = time.perf_counter()
    a = variant(variant_name)
    rng = np.random.default_rng(seed)
    r = run_midnight(run_date)
    pop = build_population(rng, n_persons, a, run_date)
    outcomes = decide_outcomes(rng, pop, a, run_date)
    tables = contract_tables(pop, outcomes)
    check(tables, run_date)
    for name, df in tables.items():
        _write(df, SCHEMAS[name], out_dir / "input" / name)

    def activity_chunk(df: pd.DataFrame, _n: int) -> pd.DataFrame:
        assert (df["day"].to_numpy().astype("datetime64[D]") < r.astype("datetime64[D]")).all()
        return df

    def txn_chunk(df: pd.DataFrame, n: int) -> pd.DataFrame:
        assert (df["ts"].to_numpy() < r).all(), "transaction at or after the run date"
        df.insert(0, "txn_id", np.char.add("T", np.char.zfill(np.arange(n + 1, n + len(df) + 1).astype(str), 11)))
        return df

    counts = {k: len(v) for k, v in tables.items()}
    counts["sim_activity"] = _write_stream(sim_activity(rng, pop, a, run_date, activity_days),
                                           SCHEMAS["sim_activity"], out_dir / "input" / "sim_activity", activity_chunk)
    counts["bank_transactions"] = _write_stream(bank_transactions(rng, pop, a, run_date, txn_days),
                                                SCHEMAS["bank_transactions"], out_dir / "input" / "bank_transactions",
                                                txn_chunk)
    _write(pop.sims, TRUTH_SCHEMAS["sim_registrations"], out_dir / "truth" / "sim_registrations")
    _write(pop.accounts, TRUTH_SCHEMAS["bank_accounts"], out_dir / "truth" / "bank_accounts")
    args = argparse.Namespace(persons=n_persons, seed=seed, run_date=run_date)
    info = summary(pop, outcomes, a, args, time.perf_counter() - t0)
    info["rows"].update(counts)
    info["windows_days"] = {"sim_activity": activity_days, "bank_transactions": txn_days}
    (out_dir / "truth" / "summary.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--run-date", required=True, help="YYYY-MM-DD; nothing is dated at or after it")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--variant", default="default", choices=sorted(VARIANTS))
    ap.add_argument("--activity-days", type=int, default=60, help="days of sim_activity before the run date")
    ap.add_argument("--txn-days", type=int, default=90, help="days of bank_transactions before the run date")
    args = ap.parse_args(argv)
    info = generate(args.persons, args.seed, args.run_date, args.out, args.variant,
                    activity_days=args.activity_days, txn_days=args.txn_days)
    rows = info["rows"]
    print(f"blind world '{args.variant}' -> {args.out} in {info['seconds']}s: "
          + ", ".join(f"{k}={v}" for k, v in rows.items() if isinstance(v, int)))
    for kind, typs in info["typologies"].items():
        print(f"  {kind:8s} " + "; ".join(f"{t}: {v['cards']} ({v['label_1']}+/{v['label_0']}-)"
                                          for t, v in sorted(typs.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
