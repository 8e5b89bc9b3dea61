"""`report.html`: the run report as one self-contained page, for risk desks on closed networks.

Rendered from the machine-readable summary alone. Plots are drawn with matplotlib and inlined as
SVG; styles are inline too: the page fetches nothing, so it opens the same without a network.
Sections: status; the lists per recipient and measure, with the change since the previous run;
score distributions per card kind with the tier thresholds; the reasons given most often; human
review; data quality per table; the backtest; drift of the model inputs; timings.
"""

from __future__ import annotations

import html
import io
from collections import defaultdict
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to SVG only

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from realname_guard.jobs.backtest import against_baseline  # noqa: E402
from realname_guard.jobs.context import resumed_line  # noqa: E402

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em auto;
max-width:1100px;color:#1d2733;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #d5dbe3;padding-bottom:.2em;
margin-top:1.8em}table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #d5dbe3;
padding:.25em .6em;text-align:right}th{background:#f0f3f7}td:first-child,th:first-child{text-align:left}
.ok{color:#176b32;font-weight:600}.bad{color:#a4161a;font-weight:600}.warn{background:#fff4d6;padding:.6em;
border-left:4px solid #e0a800}.note{background:#eef3f9;padding:.6em;border-left:4px solid #7a9cc6}.muted{color:#5c6b7a;font-size:.9em}figure{margin:.8em 0}svg{max-width:100%;height:auto}
"""


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: inline in HTML


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _lists(scoring: dict[str, Any]) -> list[str]:
    out = ["<h2>Lists</h2>"]
    m, t = scoring["model"], scoring["thresholds"]
    out.append(f"<p>Model <b>{html.escape(m['name'])} v{html.escape(str(m['version']))}</b>; HIGH at score ≥ "
               f"{t['high']:.3f}, MEDIUM at ≥ {t['medium']:.3f} (thresholds from: {html.escape(str(t['source']))}).</p>")
    if (t.get("cap") or {}).get("capped"):
        cap = t["cap"]
        out.append(f"<p class='warn'><b>Listing capped.</b> {cap['share_at_medium']:.2%} of the {cap['open_cards']:,} "
                   f"open cards scored at or above the configured MEDIUM, more than the cap of "
                   f"{cap['max_listed_share']:.2%}: this run lists from the raised thresholds above.</p>")
    per: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    review = 0
    for c in scoring["counts"]:
        key = (c["entity_type"], c["recipient"])
        per[key]["scored"] += c["count"]
        if c["risk_tier"] != "NONE":
            per[key][c["risk_tier"]] += c["count"]
            per[key][c["action"]] += c["count"]
            review += c["count"] if c["needs_human_review"] else 0
    actions = ("REVERIFY", "RESTRICT", "SUSPEND", "REVOKE")
    rows = [[et, rc, v["scored"], v.get("HIGH", 0), v.get("MEDIUM", 0), *[v.get(a, 0) for a in actions]]
            for (et, rc), v in sorted(per.items())]
    out.append(_table(["kind", "recipient", "scored", "HIGH", "MEDIUM", *actions], rows))
    out += _sources(scoring)
    ch = scoring.get("changes")
    if ch:
        since = f"since the run of {ch['previous_run_date']}" if ch.get("previous_run_date") else "(no earlier run)"
        out.append(f"<p>Change {html.escape(since)}: <b>{ch['new']:,}</b> new, <b>{ch['renewed']:,}</b> renewed, "
                   f"<b>{ch['lapsed']:,}</b> lapsed, <b>{ch['cleared']:,}</b> cleared.</p>")
        fig, ax = plt.subplots(figsize=(6, 1.8))
        names = ["new", "renewed", "lapsed", "cleared"]
        ax.barh(names, [ch[n] for n in names], color=["#1f77b4", "#2ca02c", "#7f7f7f", "#ff7f0e"])
        ax.invert_yaxis()
        ax.set_xlabel("cards")
        ax.set_title("Lists since the previous run")
        out.append(f"<figure>{_svg(fig)}</figure>")
    out.append(
        f"<p>{review:,} listings rest on the model alone and need human review before any measure (PIPL Art. 24); "
        f"{scoring.get('awaiting_review_past_deadline', 0):,} of them are past their re-verification deadline and stay "
        "at REVERIFY until a reviewer's decision arrives (a label with source HUMAN_REVIEW). "
        f"{scoring.get('suppressed_after_clearing', 0):,} cards were kept off the lists because they were cleared. "
        f"{scoring.get('persons_listed', 0):,} ID holders have at least one listed card"
        + (f"; {scoring['disciplinary_candidates']:,} are proposed for the 失信惩戒 list (confirmed outcomes only)"
           if scoring.get("disciplinary_candidates") is not None else "") + ".</p>")
    return out


def _scores(scoring: dict[str, Any]) -> list[str]:
    h = scoring.get("score_histogram")
    if not h or not h.get("open_cards"):
        return []
    t = scoring["thresholds"]
    bins = h["bins"]
    kinds = sorted(h["open_cards"])
    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 3), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        counts = h["open_cards"][kind]
        ax.bar([i / bins for i in range(bins)], counts, width=1 / bins, align="edge", color="#4c78a8")
        ax.set_yscale("log")
        for value, name, color in ((t["medium"], "MEDIUM", "#e0a800"), (t["high"], "HIGH", "#a4161a")):
            ax.axvline(value, color=color, linestyle="--", linewidth=1.5, label=f"{name} ≥ {value:.2f}")
        ax.set_title(f"{kind}: scores of open cards ({sum(counts):,})")
        ax.set_xlabel("score")
        ax.set_ylabel("cards (log scale)")
        ax.legend(loc="upper center", fontsize=8)
    return ["<h2>Score distributions</h2>", f"<figure>{_svg(fig)}</figure>"]


def _reasons(scoring: dict[str, Any], words: dict[str, tuple[str, str]]) -> list[str]:
    top = scoring.get("top_reasons") or []
    if not top:
        return []
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(top) + 0.8))
    ax.barh([code for code, _ in top], [n for _, n in top], color="#54a24b")
    ax.invert_yaxis()
    ax.set_xlabel("listed cards giving it among their top reasons")
    ax.tick_params(axis="y", labelsize=8)
    rows = [[code, words.get(code, ("", ""))[1], words.get(code, ("", ""))[0], n] for code, n in top]
    return ["<h2>Reasons given most often</h2>", f"<figure>{_svg(fig)}</figure>",
            _table(["code", "说明", "meaning", "listed cards"], rows)]


def _quality(s: dict[str, Any]) -> list[str]:
    inputs = s.get("inputs")
    if not inputs:
        return []
    rows, names, shares = [], [], []
    for name, q in inputs.items():
        share = q["rows_quarantined"] / q["rows_in"] if q["rows_in"] else 0.0
        rows.append([name, q["format"], q["rows_in"], q["rows_clean"], q["rows_quarantined"], f"{share:.2%}"])
        names.append(name)
        shares.append(100 * share)
    out = ["<h2>Data quality</h2>",
           "<p>Rows that fail a rule are set aside in the quarantine with their reasons, by design; rows in = clean + "
           "quarantined. The run stops only when a table's quarantined share passes its limit.</p>",
           _table(["table", "format", "rows in", "clean", "quarantined", "share"], rows)]
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(names) + 0.8))
    ax.barh(names, shares, color="#e45756")
    ax.invert_yaxis()
    ax.set_xlabel("% of rows quarantined")
    out.append(f"<figure>{_svg(fig)}</figure>")
    for name, q in inputs.items():
        reasons = {r: n for r, n in q.get("reasons", {}).items() if n}
        if reasons:
            items = "".join(f"<li>{n:,} rows: {html.escape(r)}</li>"
                            for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
            out.append(f"<p><b>{html.escape(name)}</b></p><ul>{items}</ul>")
    if s.get("absent_tables"):
        out.append("<p>Optional tables not delivered: " + html.escape(", ".join(s["absent_tables"])) + ".</p>")
    return out


def _backtest(bt: dict[str, Any]) -> list[str]:
    rows, names, aps = [], [], []
    for c in [*bt["candidates"], *([bt["baseline"]] if bt.get("baseline") else [])]:
        m, li = c.get("metrics", {}), c.get("lists", {})
        rows.append([c["name"] + (" ← chosen" if c["name"] == bt["chosen"] else ""), m.get("positives"),
                     m.get("average_precision"), m.get("roc_auc"), m.get("recall_at_precision_90"),
                     li.get("precision_estimated"), li.get("recall"), c.get("win_share"), c.get("error") or ""])
        if m.get("average_precision") is not None:
            names.append(c["name"])
            aps.append(m["average_precision"])
    out = ["<h2>Backtest (out of time)</h2>",
           f"<p>Each setting was trained on what was known on {html.escape(bt['start'])} and is measured on the cards "
           f"first confirmed in ({html.escape(bt['start'])}, {html.escape(bt['end'])}]: none of them was in its "
           f"training. Chosen: <b>{html.escape(str(bt['chosen']))}</b>."
           + (f" Why: {html.escape(bt['why'])}." if bt.get("why") else "") + "</p>",
           _table(["setting", "confirmed", "avg precision", "ROC-AUC", "recall @ 90% precision",
                   "list precision (est.)", "list recall", "win share", "note"], rows)]
    if names:
        fig, ax = plt.subplots(figsize=(6, 0.35 * len(names) + 0.8))
        colors = ["#7f7f7f" if n == "naive-baseline" else "#4c78a8" for n in names]
        ax.barh(names, aps, color=colors)
        ax.invert_yaxis()
        ax.set_xlabel("average precision on the window's confirmations")
        out.append(f"<figure>{_svg(fig)}</figure>")
    if (said := against_baseline(bt)) is not None:
        out.append(f"<p class='{'warn' if said[0] == 'Warning' else 'note'}'><b>{said[0]}:</b> "
                   f"{html.escape(said[1])}</p>")
    if bt.get("skipped"):
        out.append("<p>Not tried (time budget spent): " + html.escape(", ".join(bt["skipped"])) + ".</p>")
    return out


def _drift(drift: dict[str, Any]) -> list[str]:
    psi = drift.get("psi") or {}
    if not psi:
        return []
    threshold = drift["threshold"]
    ranked = sorted(psi.items(), key=lambda kv: -kv[1])
    shown = ranked[:25]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(shown) + 0.8))
    ax.barh([k for k, _ in shown], [v for _, v in shown],
            color=["#a4161a" if v > threshold else "#4c78a8" for _, v in shown])
    ax.axvline(threshold, color="#a4161a", linestyle="--", linewidth=1)
    ax.invert_yaxis()
    ax.set_xlabel("population stability index, training data → today")
    ax.tick_params(axis="y", labelsize=8)
    drifted = drift.get("drifted") or []
    text = (f"<p class='warn'>{len(drifted)} model inputs drifted past PSI {threshold}: "
            + html.escape(", ".join(drifted)) + ".</p>") if drifted else \
        f"<p class='ok'>No model input drifted past PSI {threshold}.</p>"
    return ["<h2>Drift of the model inputs</h2>",
            f"<p>Population stability index of each input between the champion's training rows "
            f"({html.escape(str(drift.get('reference', '')))}) and today's cards; the {len(shown)} largest shown.</p>",
            text, f"<figure>{_svg(fig)}</figure>"]


def _timings(timings: dict[str, float]) -> list[str]:
    fig, ax = plt.subplots(figsize=(6, 0.32 * len(timings) + 0.8))
    ax.barh(list(timings), list(timings.values()), color="#b279a2")
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    return ["<h2>Timings</h2>", f"<figure>{_svg(fig)}</figure>",
            _table(["stage", "seconds"], [[k, float(v)] for k, v in timings.items()])]


def reason_words() -> dict[str, tuple[str, str]]:
    """Reason code -> (English, Chinese) description, from the feature registry."""
    from realname_guard.features.registry import registry

    return {name.upper(): (o.description, o.description_zh) for f in registry().values()
            for name, o in f.outputs.items()}


def _sources(scoring: dict[str, Any]) -> list[str]:
    """What put the cards on the lists, and what the anomaly score (no labels) added."""
    by = scoring.get("listed_by_source") or {}
    if not by:
        return []
    text = ", ".join(f"{html.escape(k)} {v:,}" for k, v in by.items())
    out = [f"<p>Listed by: {text}.</p>"]
    if by.get("ANOMALY"):
        out.append(f"<p>{by['ANOMALY']:,} cards are listed on the anomaly score alone (far out on several inputs at "
                   "once, no label behind them): REVERIFY only, each for a person to review; their reasons say how "
                   "far out they lie.</p>")
    return out


def _gate(model: dict[str, Any]) -> list[str]:
    gate = model.get("gate")
    if not gate:
        return []
    verdict = "promoted to champion" if gate["promote"] else "refused: the champion keeps scoring"
    cls = "ok" if gate["promote"] else "warn"
    return ["<h2>Champion and challenger</h2>",
            f"<p class='{cls}'>{html.escape(model['name'])} v{html.escape(str(model['version']))}, trained in this run, "
            f"was {verdict}: {html.escape(gate['reason'])}.</p>"]


def render_html(s: dict[str, Any], words: dict[str, tuple[str, str]] | None = None) -> str:
    """The page. `words` maps a reason code to its (English, Chinese) description (default: the
    feature registry's)."""
    status = str(s.get("status", "unknown"))
    cls = "ok" if status == "succeeded" else "bad"
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>realname-guard run {html.escape(str(s.get('run_date')))}</title><style>{_STYLE}</style></head><body>",
        f"<h1>realname-guard run {html.escape(str(s.get('run_date')))}</h1>",
        f"<p>Status: <span class='{cls}'>{html.escape(status)}</span></p>",
        f"<p class='muted'>Input: {html.escape(str(s.get('input_root')))} · Output: "
        f"{html.escape(str(s.get('output_root')))}</p>",
    ]
    if s.get("error"):
        parts.append(f"<h2>What went wrong</h2><pre>{html.escape(str(s['error']))}</pre>")
    scoring = s.get("scoring")
    if scoring:
        parts += _lists(scoring) + _scores(scoring) + _reasons(scoring, reason_words() if words is None else words)
    parts += _quality(s)
    bt = s.get("backtest")
    if bt and bt.get("candidates") is not None:
        parts += _backtest(bt)
    if s.get("model"):
        parts += _gate(s["model"])
    if s.get("drift"):
        parts += _drift(s["drift"])
    if s.get("resumed"):
        parts.append(f"<p>{html.escape(resumed_line(s['resumed']))}</p>")
    if s.get("timings_s"):
        parts += _timings(s["timings_s"])
    parts.append("<p class='muted'>Every figure above comes from this run's summary.json. Backtest figures are out "
                 "of time: measured on cards no model trained on.</p></body></html>")
    return "\n".join(parts)
