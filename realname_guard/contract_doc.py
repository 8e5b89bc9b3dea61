"""``docs/contract.md``: the data contract rendered from the code, so that it cannot drift.

Inputs come from ``core.contract`` (tables, columns, types, keys, time facts, PII) and the
validation rules of ``conf/base/expectations.yaml`` in the words the quarantine uses; the card
kinds from ``core.kinds``; the outputs from the columns the jobs write. A test compares the
committed page with ``render_contract()``; regenerate with ``realname-guard contract``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from realname_guard.core.config import QualityConfig, load_config
from realname_guard.core.contract import TABLES, TableContract
from realname_guard.core.kinds import kinds, model_inputs
from realname_guard.jobs.score import LIST_COLUMNS
from realname_guard.quality.expectations import reason_text

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "contract.md"

AS_OF_WORDS = {
    "since": "a row exists from its event time on",
    "window": "only rows inside the activity window ending on the as-of date",
    "always": "no time of its own: every row is visible",
}

# What each column of a card list holds (the lists are written by jobs/score.py).
LIST_NOTES: dict[str, str] = {
    "id_hash": "keyed hash (HMAC-SHA256) of the normalised ID number; the key comes from the environment",
    "id_masked": "the ID number masked, e.g. `1101**********002X`",
    "score": "the listing score, 0..1: the model's probability, or for a card listed on the anomaly score alone "
    "the MEDIUM threshold (so that a cut-off at MEDIUM reproduces the lists)",
    "model_score": "the model's probability, 0..1 (extra column)",
    "anomaly_score": "the unsupervised score (ECOD: the sum over `policy.anomaly.features` of -ln of the share of "
    "today's cards of the kind at or beyond the card's value; larger is farther out; extra column)",
    "risk_tier": "`HIGH` or `MEDIUM`",
    "action": "`REVERIFY` (二次实人认证), `RESTRICT`, `SUSPEND` or `REVOKE`",
    "reasons": "the top features behind the score, in words (code, description, description_zh, contribution); "
    "for an `ANOMALY` listing its farthest-out inputs and how far out (\"top 0.24% of sims\")",
    "rule_hits": "every policy rule that fired",
    "needs_human_review": "true when no rule fired and the listing rests on the model alone (PIPL Art. 24) and no "
    "reviewer has upheld it (a label 1 with source `HUMAN_REVIEW`); such a listing stays at `REVERIFY`",
    "first_flagged_date": "the run date the card was first listed in its current episode",
    "expires_on": "the date after which the listing lapses unless renewed",
    "listing_source": "what put the card on the list: `RULE` (a rule in `policy.list_on_rules`), `MODEL` (the "
    "supervised score), `ANOMALY` (the unsupervised score alone: `REVERIFY` only, for a person to review) or "
    "`DISCIPLINARY` (opened by a holder inside a 失信惩戒 period)",
    "measure_since": "the run date the current `action` took effect",
    "reverify_due": "for `REVERIFY`: the date by which re-verification must be done; else null",
    "legal_basis": "the provisions the measure rests on, in words (`policy.legal_basis`, per action)",
    "appeal_channel": "how the holder can appeal (`policy.appeal_channels`, per recipient)",
    "model_name": "provenance: the registered model",
    "model_version": "provenance: its version",
    "run_id": "provenance: the list's run id (run date, model, version)",
}

_HEADER = """\
# Data contract

<!-- Generated from the code (core/contract.py, core/kinds.py, conf/base/expectations.yaml, the jobs'
output columns) by `realname-guard contract`; do not edit by hand. -->

What the operators and banks deliver, and what the job delivers back. An input root holds one
entry per table, named as the table: `<input>/<table>/` (a folder of Parquet or CSV parts) or
`<input>/<table>.parquet` / `.csv`. Every delivered column is cast to the type below; a missing
column of a required table fails the run naming the table and the column; extra columns are
dropped and reported. Rows failing a rule below are quarantined with the rule's words as reason.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(t: TableContract, quality: QualityConfig) -> list[str]:
    facts = [
        f"required: {'yes' if t.required else 'no'}",
        f"unique key: {', '.join(f'`{k}`' for k in t.key) or 'none'}",
        f"event time: `{t.event_time}`" if t.event_time else "event time: none",
        f"as of a date: {AS_OF_WORDS[t.as_of]}",
        f"feature code calls it `{t.alias}`",
    ]
    lines = [f"### `{t.name}`", "", t.description or "", "", "; ".join(facts) + ".", ""]
    rules: dict[str | None, list[str]] = {}
    for spec in quality.tables.get(t.name, ()):
        rules.setdefault(spec.column if spec.column in t.columns else None, []).append(
            reason_text(spec) + (" (stops the run)" if spec.level == "table" else "")
        )
    lines += ["| column | type | personal data | rules |", "|---|---|---|---|"]
    for col, kind in t.types.items():
        pii = "never written out" if col in t.pii else ""
        if col == t.name_column:
            pii = "name: normalised in memory, never written out"
        lines.append(f"| `{col}` | {kind} | {pii} | {_cell('; '.join(rules.get(col, [])))} |")
    if rules.get(None):
        lines += ["", "Also: " + _cell("; ".join(rules[None])) + "."]
    return [*lines, ""]


def render_contract(quality: QualityConfig | None = None) -> str:
    q = quality if quality is not None else load_config(local_dir=None).expectations
    out = [_HEADER, "## Inputs", ""]
    for t in TABLES.values():
        out += _table(t, q)
    out += [
        "## Card kinds",
        "",
        "Every kind is listed the same way: one list per kind, one folder per recipient, so that each",
        "operator or bank receives only its own rows.",
        "",
        "| kind (`entity_type`) | source table | key | recipient (list partition) | list | model input |",
        "|---|---|---|---|---|---|",
    ]
    for k in kinds():
        source = next(t.name for t in TABLES.values() if t.alias == k.table)
        model_input = f"`{k.model_input}` = 1" if k.model_input else f"every other kind's input 0 ({', '.join(model_inputs())})"
        out.append(f"| `{k.name}` | `{source}` | `{k.key}` | `{k.recipient}` | `{k.list_name}` | {model_input} |")
    out += [
        "",
        "## Outputs",
        "",
        "Each output is a Parquet dataset at `<output>/<name>/run_date=<YYYY-MM-DD>/...`; a run date's",
        "folder appears complete or not at all. No raw ID number and no name appears in any output.",
        "",
    ]
    for k in kinds():
        out += [f"### `{k.list_name}`", "", f"One row per listed `{k.name}` card, in `{k.recipient}=<code>/` folders.", "",
                "| column | holds |", "|---|---|", f"| `{k.key}` | the card |"]
        out += [f"| `{c}` | {_cell(LIST_NOTES[c])} |" for c in LIST_COLUMNS]
        out += [f"| `{k.recipient}` | the recipient (partition) |", ""]
    held = ", ".join(f"`{k.plural}_held`, `{k.plural}_flagged`" for k in kinds())
    out += [
        "### `flagged_persons`",
        "",
        f"One row per ID holder with at least one listed card: `id_hash`, `id_masked`, {held}, "
        "`max_score`, `reasons` (of the top card), `rule_hits`, and the provenance columns.",
        "",
        "### `disciplinary_candidates`",
        "",
        "One row per ID holder whose **confirmed** outcomes (label 1 from `POLICE_NOTICE` or `REVERIFY_FAILED`, on "
        "their cards or on them as a PERSON) meet the criteria of `policy.disciplinary` (default: at least 3 cards "
        "confirmed, or confirmations on at least 3 days): `id_hash`, `id_masked`, `criteria_met` (`CONFIRMED_CARDS`, "
        "`CONFIRMED_OCCASIONS`), `confirmed_cards`, `confirmation_days`, `first_confirmed_on`, `last_confirmed_on`, "
        "`evidence` (each confirmation: `confirmed_on`, `entity_type`, `entity_id`, `source`), the proposed period "
        "`proposed_from` (the run date) to `proposed_until`, `listed_until_now` (the end of the holder's current "
        "period on `disciplinary_list`, if any) and `run_id`. A proposal for the authority that decides: scores "
        "never put anyone here, and the job never starts, extends or ends a period.",
        "",
        "### `scores`",
        "",
        "Every scored card, listed or not, in `recipient=<code>/` folders: `entity_type`, `entity_id`, "
        "`recipient`, `score`, `risk_tier` (`HIGH`, `MEDIUM` or `NONE`), and beside them `model_score` and "
        "`anomaly_score` (as in the lists).",
        "",
        "### Beside the lists",
        "",
        "- `quarantine/run_date=<D>/table=<table>/`: every rejected row (ID numbers hashed and masked, names "
        "dropped) with its reasons.",
        "- `features/run_date=<D>/`: the feature table (docs/features.md).",
        "- `data_quality/run_date=<D>/`: `quality.json` and the Great Expectations Data Docs.",
        "- `reports/run_date=<D>/`: `summary.json` (machine-readable), `report.md` and `report.html` (one "
        "self-contained page with its plots inline: it fetches nothing).",
        "- `exports/run_date=<D>/<operator|bank_code>=<code>/flagged_*.csv`: each list per recipient as CSV, UTF-8 "
        "with a byte-order mark, the same rows and columns (`reasons` as text, Chinese / English; `rule_hits` "
        "comma-separated).",
        "- `audit/lookups/date=<D>/*.json`: one record per person-view lookup (when, which `id_hash`, by whom).",
        "",
    ]
    return "\n".join(out)


def write_contract(path: Path = DOC_PATH) -> None:
    path.write_text(render_contract(), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """``realname-guard contract [--check]``: regenerate docs/contract.md, or fail if it is stale."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--check" in args:
        if DOC_PATH.read_text(encoding="utf-8") != render_contract():
            sys.stderr.write(f"{DOC_PATH} is out of date: run `realname-guard contract`\n")
            return 1
        return 0
    write_contract()
    return 0


if __name__ == "__main__":
    sys.exit(main())
