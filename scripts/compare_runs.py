"""Compare two runs' output datasets row for row (run ids and timestamps aside).

    python scripts/compare_runs.py OLD_OUTPUT NEW_OUTPUT

Every Parquet dataset under both output roots (lists, scores, persons, features, quarantine,
training snapshots) is read with DuckDB and compared as a multiset of rows, both ways; the
summaries are compared with timings, paths, run ids and timestamps removed. Exit 1 on any
difference. Used to show that a refactoring changed nothing for a user.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import duckdb

IGNORED_COLUMNS = {"run_id"}  # carries nothing but the run's own identity
VOLATILE_KEYS = {"timings_s", "peak_memory_mb", "finished_at", "started_at", "published", "output_root",
                 "input_root", "data_docs", "training_run_id", "run_id", "path", "mlflow_run_id", "model_uri",
                 "seconds", "elapsed_s", "tracking_uri"}


def datasets(root: Path) -> set[str]:
    found = set()
    for part in root.rglob("*.parquet"):
        rel = part.relative_to(root).parts
        if rel[0] in ("mlflow",) or any(p.startswith(("_staging", "_trash")) for p in rel):
            continue
        found.add(rel[0])
    return found


def compare_dataset(con: duckdb.DuckDBPyConnection, old: Path, new: Path, name: str) -> str | None:
    def rel(root: Path) -> str:
        return f"read_parquet('{root / name}/**/*.parquet', hive_partitioning = true, union_by_name = true)"

    cols_old = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {rel(old)}").fetchall()]
    cols_new = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {rel(new)}").fetchall()]
    if sorted(cols_old) != sorted(cols_new):
        return f"columns differ: only old {sorted(set(cols_old) - set(cols_new))}, only new {sorted(set(cols_new) - set(cols_old))}"
    cols = ", ".join(f'"{c}"' for c in sorted(cols_old) if c not in IGNORED_COLUMNS)
    n_old = con.execute(f"SELECT count(*) FROM {rel(old)}").fetchone()[0]
    n_new = con.execute(f"SELECT count(*) FROM {rel(new)}").fetchone()[0]
    only_old = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {rel(old)} EXCEPT ALL SELECT {cols} FROM {rel(new)})").fetchone()[0]
    only_new = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {rel(new)} EXCEPT ALL SELECT {cols} FROM {rel(old)})").fetchone()[0]
    print(f"  {name:22s} rows old {n_old:>9,} new {n_new:>9,}  only in old {only_old:,}  only in new {only_new:,}")
    if n_old != n_new or only_old or only_new:
        return f"{only_old} rows only in old, {only_new} only in new"
    return None


def scrub(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: scrub(v) for k, v in data.items() if k not in VOLATILE_KEYS}
    if isinstance(data, list):
        return [scrub(v) for v in data]
    return data


def main(argv: list[str]) -> int:
    old, new = Path(argv[0]), Path(argv[1])
    con = duckdb.connect()
    problems = {}
    names_old, names_new = datasets(old), datasets(new)
    if names_old != names_new:
        problems["datasets"] = f"only old {sorted(names_old - names_new)}, only new {sorted(names_new - names_old)}"
    print(f"comparing {len(names_old & names_new)} datasets of {old} and {new}")
    for name in sorted(names_old & names_new):
        why = compare_dataset(con, old, new, name)
        if why:
            problems[name] = why
    for summary in sorted(p.relative_to(old) for p in old.rglob("*.json") if "mlflow" not in p.parts):
        a, b = old / summary, new / summary
        if not b.exists():
            problems[str(summary)] = "missing in new"
            continue
        sa, sb = scrub(json.loads(a.read_text())), scrub(json.loads(b.read_text()))
        same = sa == sb
        print(f"  {str(summary):60s} {'equal' if same else 'DIFFERENT'} (volatile keys aside)")
        if not same:
            problems[str(summary)] = "differs"
            for key in sorted(set(sa) | set(sb)):
                if sa.get(key) != sb.get(key):
                    print(f"    {key}: old {json.dumps(sa.get(key))[:300]}\n    {' ' * len(key)}  new {json.dumps(sb.get(key))[:300]}")
    for name, why in problems.items():
        print(f"DIFFERENT {name}: {why}")
    print("all equal" if not problems else f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
