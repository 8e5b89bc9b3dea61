"""`make worlds`: the whole job on every generator setting of conf/worlds/, and on the blind worlds,
judged by each world's truth.

For each world: generate it, run the job as a user would (`realname-guard run`), then `evaluate`
against the ground truth. Prints one table: what the job measured itself (its backtest, out of
time) next to the truth on the cards nobody had labelled (new finds) and on all cards. Writes the
figures to <out>/worlds.json.

A world named ``blind:VARIANT`` is written by benchmarks/blind_world (a generator written from the
contract alone, by hands that never read the job) and judged by its own naive baseline script:
the job's new-find figures next to the naive baseline's (ten counts, single-machine xgboost on the
labelled cards). A blind world on which the job does not beat the baseline has found a bug.

    python scripts/worlds.py --persons 20000 --out /tmp/worlds [--worlds demo,few-labels,blind:default]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DATE = "2026-06-30"


def _cli(*args: str) -> None:
    cmd = [str(Path(sys.executable).parent / "realname-guard"), *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def run_world(name: str, persons: int, out: Path) -> dict[str, object]:
    base = out / name
    t0 = time.perf_counter()
    _cli("generate", "--config", str(ROOT / "conf" / "worlds" / f"{name}.yaml"), "--output", str(base / "world"),
         "--persons", str(persons), "--run-date", RUN_DATE)
    _cli("run", "--input", str(base / "world" / "input"), "--output", str(base / "out"), "--run-date", RUN_DATE)
    _cli("evaluate", "--output", str(base / "out"), "--truth", str(base / "world" / "truth"), "--run-date", RUN_DATE)
    seconds = round(time.perf_counter() - t0, 1)
    summary = json.loads((base / "out" / "reports" / f"run_date={RUN_DATE}" / "summary.json").read_text())
    ev = json.loads((base / "out" / f"evaluation-{RUN_DATE}.json").read_text())
    return {"world": name, "persons": persons, "seconds": seconds, "backtest": summary.get("backtest"),
            "model": summary.get("model"), "evaluation": ev}


def run_blind(variant: str, persons: int, out: Path) -> dict[str, object]:
    base = out / f"blind-{variant}"
    t0 = time.perf_counter()
    py = sys.executable
    subprocess.run([py, "-m", "benchmarks.blind_world.world", "--persons", str(persons), "--seed", "7", "--out",
                    str(base / "world"), "--variant", variant, "--run-date", RUN_DATE], check=True, cwd=ROOT)
    _cli("run", "--input", str(base / "world" / "input"), "--output", str(base / "out"), "--run-date", RUN_DATE)
    judged = base / "naive.json"
    subprocess.run([py, "-m", "benchmarks.blind_world.naive", "--world", str(base / "world"), "--run-date", RUN_DATE,
                    "--scores", str(base / "out" / "scores"), "--json", str(judged)], check=True, cwd=ROOT)
    seconds = round(time.perf_counter() - t0, 1)
    summary = json.loads((base / "out" / "reports" / f"run_date={RUN_DATE}" / "summary.json").read_text())
    return {"world": f"blind:{variant}", "persons": persons, "seconds": seconds, "backtest": summary.get("backtest"),
            "model": summary.get("model"), "blind": json.loads(judged.read_text())}


def render_blind(results: list[dict[str, object]]) -> str:
    lines = ["| world | chosen setting | SIM new finds: job AP (naive AP) / list precision / recall "
             "| account new finds: job AP (naive AP) / list precision / recall |", "|---|---|---|---|"]
    for r in results:
        kinds = r["blind"]["kinds"]  # type: ignore[index]
        cells = []
        for kind in ("SIM", "ACCOUNT"):
            k = kinds.get(kind, {})
            cells.append(f"{k.get('pr_auc_job', 0):.3f} ({k.get('pr_auc_naive', 0):.3f}) / "
                         f"{k.get('list_precision') or 0:.3f} / {k.get('list_recall') or 0:.3f}")
        bt = r["backtest"] or {}
        assert isinstance(bt, dict)
        lines.append(f"| {r['world']} | {bt.get('chosen')} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def render(results: list[dict[str, object]]) -> str:
    lines = [
        "| world | chosen setting | backtest avg precision (baseline) | new finds SIM: AP / precision / recall "
        "| new finds accounts: AP / precision / recall | all cards: recall / precision |",
        "|---|---|---|---|---|---|",
    ]

    def f(v: object) -> str:
        return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    for r in results:
        bt = r["backtest"] or {}
        assert isinstance(bt, dict)
        chosen = next((c for c in bt.get("candidates", []) if c["name"] == bt.get("chosen")), None)
        base = bt.get("baseline") or {}
        ev = r["evaluation"]
        assert isinstance(ev, dict)
        nf = ev.get("new_finds", {})
        sim, acc = nf.get("SIM", {}), nf.get("ACCOUNT", {})
        lines.append(
            f"| {r['world']} | {bt.get('chosen')} | {f(chosen['metrics'].get('average_precision') if chosen else None)}"
            f" ({f(base.get('metrics', {}).get('average_precision'))}) "
            f"| {f(sim.get('average_precision'))} / {f(sim.get('precision'))} / {f(sim.get('recall'))} "
            f"| {f(acc.get('average_precision'))} / {f(acc.get('precision'))} / {f(acc.get('recall'))} "
            f"| {f(ev.get('recall'))} / {f(ev.get('precision'))} |"
        )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--persons", type=int, default=20000)
    p.add_argument("--out", default="worlds-out")
    p.add_argument("--worlds", default=",".join(sorted(x.stem for x in (ROOT / "conf" / "worlds").glob("*.yaml"))))
    args = p.parse_args()
    os.environ.setdefault("REALNAME_GUARD_HASH_KEY", secrets.token_hex(32))
    out = Path(args.out).resolve()
    names = args.worlds.split(",")
    results = [run_world(w, args.persons, out) for w in names if not w.startswith("blind:")]
    blind = [run_blind(w.split(":", 1)[1], args.persons, out) for w in names if w.startswith("blind:")]
    table = "\n\n".join(t for t in (render(results) if results else "", render_blind(blind) if blind else "") if t)
    results += blind
    machine = f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}"
    (out / "worlds.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2, default=str))
    print(f"\nworlds on {machine}, run date {RUN_DATE}:\n\n{table}\n\nfigures in {out / 'worlds.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
