"""The human-readable run report (Markdown) rendered from the machine-readable summary."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


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
        lines.append(
            f"{review} listings rest on the model alone and need human review before any measure (PIPL Art. 24). "
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
            reasons = {r: n for r, n in q.get("reason_counts", {}).items() if n}
            extra = q.get("extra_columns") or []
            absent = q.get("absent_columns") or []
            if reasons or extra or absent:
                lines += ["", f"**{name}**"]
                lines += [f"- {n} rows: {r}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])]
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
    model = s.get("model")
    if model:
        lines += ["", "## Training", ""]
        mt = model["metrics"]
        lines.append(
            f"Registered **{model['name']} v{model['version']}** as `@{model['alias']}` "
            f"(MLflow run `{model['training_run_id']}`)."
        )
        if model.get("refit_on_all_labels"):
            lines.append(
                "The metrics below are those of the model fitted on the earlier labels and tested on the "
                "latest ones; the registered model was then refitted on all of them with the same rounds "
                "(it has no held-out labels of its own)."
            )
        lines += _table(["metric", "validation"], [[k, f"{v:.4f}" if isinstance(v, float) else v] for k, v in mt.items()])
    if s.get("timings_s"):
        lines += ["", "## Timings", ""]
        lines += _table(["stage", "seconds"], [[k, v] for k, v in s["timings_s"].items()])
    return "\n".join(lines) + "\n"
