"""The human-readable run report (Markdown) rendered from the machine-readable summary."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from realname_guard.jobs.backtest import against_baseline
from realname_guard.jobs.context import resumed_line


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def render_report(s: dict[str, Any]) -> str:
    """A report a risk analyst reads top to bottom: outcome, lists, data quality, model, timings."""
    lines = [f"# realname-guard run {s.get('run_date')}", ""]
    lines.append(f"**Status:** {s.get('status', 'unknown')}  ")
    lines.append(f"Input: `{s.get('input_root')}` · Output: `{s.get('output_root')}`  ")
    if s.get("error"):
        lines += ["", "## What went wrong", "", "```", str(s["error"]), "```"]
    scoring = s.get("scoring")
    if scoring:
        lines += ["", "## Lists", ""]
        m = scoring["model"]
        t = scoring["thresholds"]
        lines.append(
            f"Model **{m['name']} v{m['version']}**; HIGH at score ≥ {t['high']:.3f}, MEDIUM at ≥ {t['medium']:.3f} "
            f"(thresholds from: {t['source']})."
        )
        cap = t.get("cap") or {}
        if cap.get("capped"):
            conf = cap["configured"]
            lines += [
                "",
                f"**Listing capped.** {cap['share_at_medium']:.2%} of the {cap['open_cards']:,} open cards scored at or "
                f"above the configured MEDIUM {conf['medium']:.3f}, more than the cap of {cap['max_listed_share']:.2%} "
                "(`policy.tiers.max_listed_share`), so this run lists from the raised thresholds above "
                f"(configured HIGH {conf['high']:.3f}). A model that scores this many cards high has met data "
                "unlike its training data, or was trained on too few negatives: check the data-quality section "
                "and the model's validation before widening the cap.",
            ]
        by_recipient: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        actions: dict[str, int] = defaultdict(int)
        review = 0
        for c in scoring["counts"]:
            key = (c["entity_type"], c["recipient"])
            by_recipient[key]["scored"] += c["count"]
            if c["risk_tier"] != "NONE":
                by_recipient[key][c["risk_tier"]] += c["count"]
                actions[c["action"]] += c["count"]
                review += c["count"] if c["needs_human_review"] else 0
        rows = [
            [et, rc, v["scored"], v.get("HIGH", 0), v.get("MEDIUM", 0)]
            for (et, rc), v in sorted(by_recipient.items())
        ]
        lines += [""] + _table(["type", "recipient", "scored", "listed HIGH", "listed MEDIUM"], rows)
        lines += ["", "Measures: " + ", ".join(f"{a} {n}" for a, n in sorted(actions.items())) + "."]
        by_source = scoring.get("listed_by_source") or {}
        if by_source:
            lines.append("Listed by: " + ", ".join(f"{k} {v}" for k, v in by_source.items()) + (
                " (ANOMALY: far out on several inputs at once with no label behind it; REVERIFY only, for a "
                "person to review)." if by_source.get("ANOMALY") else "."))
        lines.append(
            f"{review} listings rest on the model alone and need human review before any measure (PIPL Art. 24); "
            f"{scoring.get('awaiting_review_past_deadline', 0)} of them are past their re-verification deadline and "
            "stay at REVERIFY until a reviewer's decision arrives (a label with source HUMAN_REVIEW). "
            f"{scoring['suppressed_after_clearing']} cards were kept off the lists because they were cleared "
            f"and no new evidence arrived. {scoring['persons_listed']} ID holders have at least one listed card."
        )
    inputs = s.get("inputs")
    if inputs:
        lines += ["", "## Data quality", ""]
        rows = []
        for name, q in inputs.items():
            share = q["rows_quarantined"] / q["rows_in"] if q["rows_in"] else 0.0
            rows.append([name, q["format"], q["rows_in"], q["rows_clean"], q["rows_quarantined"], f"{share:.2%}"])
        lines += _table(["table", "format", "rows in", "clean", "quarantined", "share"], rows)
        for name, q in inputs.items():
            reasons = {r: n for r, n in q.get("reasons", {}).items() if n}
            extra = q.get("extra_columns") or []
            absent = q.get("absent_columns") or []
            later = q.get("rows_not_yet_known") or 0
            if reasons or extra or absent or later:
                lines += ["", f"**{name}**"]
                lines += [f"- {n} rows: {r}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])]
                if later:
                    lines.append(f"- {later} rows dated after the run date set aside as not yet known "
                                 "(run.future_rows: cut), not counted in")
                if extra:
                    lines.append(f"- extra columns ignored: {', '.join(extra)}")
                if absent:
                    lines.append(f"- nullable columns not delivered (filled with nulls): {', '.join(absent)}")
        if s.get("absent_tables"):
            lines.append("")
            lines.append("Optional tables not delivered: " + ", ".join(s["absent_tables"]) + ".")
        if s.get("data_docs"):
            lines.append(f"Great Expectations Data Docs: `{s['data_docs']}`")
    feats = s.get("features")
    if feats:
        lines += ["", "## Features", "", f"{len(feats['columns'])} feature columns from: {', '.join(feats['built'])}."]
        for group, why in feats.get("skipped", {}).items():
            lines.append(f"- left out **{group}**: {why}")
    bt = s.get("backtest")
    if bt and bt.get("candidates") is not None:
        lines += _backtest_section(bt)
    model = s.get("model")
    if model:
        lines += ["", "## Training", ""]
        lines.append(
            f"Registered **{model['name']} v{model['version']}** as `@challenger` "
            f"(MLflow run `{model['training_run_id']}`), trained with the setting "
            + ", ".join(f"{k}={v}" for k, v in model.get("setting", {}).items())
            + f" on every label known by the run date; tier thresholds from: {model.get('thresholds_source')}."
        )
        gate = model.get("gate")
        if gate:
            verdict = "promoted to `@champion`" if gate["promote"] else "**refused**: the champion keeps scoring"
            lines += ["", f"Champion and challenger: this version was {verdict}: {gate['reason']}."]
        rows = [[k, v] for k, v in sorted(model.get("training_rows", {}).items())]
        if rows:
            lines += [""] + _table(["training rows", "count"], rows)
    drift = s.get("drift")
    if drift and drift.get("psi"):
        lines += ["", "## Drift of the model inputs", ""]
        worst = list(drift["psi"].items())[:5]
        lines.append(
            f"Population stability index since the champion's training day ({drift['reference']}): "
            + (f"**{len(drift['drifted'])} inputs past {drift['threshold']}**: {', '.join(drift['drifted'])}."
               if drift["drifted"] else f"no input past {drift['threshold']}.")
            + " Largest: " + ", ".join(f"{k} {v:.3f}" for k, v in worst) + "."
        )
    if s.get("resumed"):
        lines += ["", resumed_line(s["resumed"])]
    if s.get("timings_s"):
        lines += ["", "## Timings", ""]
        lines += _table(["stage", "seconds"], [[k, v] for k, v in s["timings_s"].items()])
    return "\n".join(lines) + "\n"


def _fmt(v: Any) -> str:
    return "-" if v is None or (isinstance(v, float) and v != v) else f"{v:.3f}" if isinstance(v, float) else str(v)


def _backtest_section(bt: dict[str, Any]) -> list[str]:
    """Every candidate's out-of-time figures, the choice, and the naive baseline beside them."""
    lines = ["", "## Backtest (out of time)", ""]
    lines.append(
        f"Each setting was trained on what was known on {bt['start']}, scored every card open then with no label, "
        f"and is measured on the cards first confirmed in ({bt['start']}, {bt['end']}]: no card it is measured "
        "on was in its training. Unconfirmed misuse counts as a miss, so measured precision is a lower bound; "
        "estimated precision divides it by the share of misuse confirmed in the window, estimated from the "
        f"top of the ranking. A setting replaces the configured one only when its average precision beats it in "
        "most paired bootstrap resamples of the confirmations (win share); chosen: "
        f"**{bt['chosen'] or 'none (too few confirmations)'}**."
        + (f" Why: {bt['why']}." if bt.get("why") else "")
    )
    rows = []
    for c in [*bt["candidates"], *([bt["baseline"]] if bt.get("baseline") else [])]:
        m, li = c.get("metrics", {}), c.get("lists", {})
        rows.append([
            c["name"] + (" ← chosen" if c["name"] == bt["chosen"] else ""),
            _fmt(m.get("positives")), _fmt(m.get("average_precision")), _fmt(m.get("pr_auc")),
            _fmt(m.get("roc_auc")), _fmt(m.get("recall_at_precision_90")),
            _fmt(li.get("precision_estimated")), _fmt(li.get("recall")), _fmt(c.get("win_share")),
            c.get("error") or "",
        ])
    lines += [""] + _table(
        ["setting", "confirmed", "avg precision", "PR-AUC", "ROC-AUC", "recall @ 90% precision",
         "list precision (est.)", "list recall", "win share", "note"], rows
    )
    if (said := against_baseline(bt)) is not None:
        lines += ["", f"**{said[0]}:** {said[1]}"]
    if bt.get("skipped"):
        lines += ["", "Not tried (time budget spent): " + ", ".join(bt["skipped"]) + "."]
    return lines
