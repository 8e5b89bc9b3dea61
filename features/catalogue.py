"""The feature catalogue: ``docs/features.md`` rendered from the registry, so it cannot drift.

Every group (level, source tables, parameters with their defaults, what it is for) and every
output column (meaning, Chinese term, unit, source tables, group, level). A test compares the
committed page with ``render_catalogue()``; regenerate with ``python -m realname_guard.features.catalogue``.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from realname_guard.core.tables import contract_name
from realname_guard.features.network import OPTIONAL_NEEDS
from realname_guard.features.registry import FeatureDef, family, registry

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "features.md"

_HEADER = """\
# Feature catalogue

<!-- Generated from the feature registry by `python -m realname_guard.features.catalogue`; do not edit by hand. -->

Every feature group registered in `features/` and every column it adds to the feature table. A
group is enabled, with its parameters, in `conf/base/features.yaml`. Level `holder`: one value
per ID holder, shared by all their cards; level `card`: one value per SIM or account (null for the
other kind of card unless stated). A group whose source tables were not delivered is skipped and
its columns are missing. Everything is computed as of the run date: registrations up to it, usage
and transactions over the activity window ending on it, labels known by its end.
"""


# Which signal each misuse typology rests on, from public descriptions of 两卡 cases, and so which
# view of the model (model.views: one classifier per family) has to catch it. A typology whose
# evidence is in one family alone is what the views are for: a single model over every input learns
# the family that separates the labelled cards first and can leave the others unused.
TYPOLOGY_SIGNALS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("card seller / farmer (many cards opened on one ID, sold on)", "the holder's cards",
     ("sims_total", "accounts_total", "cards_opened_30d", "cards_opened_within_1d", "sims_over_operator_limit")),
    ("stolen or lost ID (cards opened remotely by someone else)", "identity, registration",
     ("id_reported_lost", "name_mismatch_registry", "opened_remotely", "no_face_check", "site_far_from_home")),
    ("elderly holders' IDs used at an outlet (代办, 老人卡)", "identity, outlets, usage",
     ("holder_is_elderly", "site_window_elderly_ids", "opened_via_agent", "calls_out_vs_age_band",
      "away_vs_age_band")),
    ("dormant account turned money mule (跑分)", "money flows",
     ("passthrough_share", "counterparties", "quiet_days_before_first_txn", "last7_share", "max_gap_days")),
    ("SIM-box farm (猫池: strangers' SIMs in a few devices)", "devices, usage",
     ("imei_max_ids", "imei_max_sims", "callees_per_day", "call_out_in_ratio", "sms_out_per_day")),
    ("SIMs that receive verification codes (接码: registered for others' app accounts)", "usage",
     ("sms_in_per_day", "calls_out_per_day", "data_mb_per_day", "holder_is_elderly")),
    ("cards used from abroad (cross-border gangs)", "usage, devices",
     ("days_abroad", "border_roaming_days_after_reg", "txn_abroad_share", "txn_device_not_own_share")),
    ("rented accounts and SIMs (students, 出租出借)", "money flows, devices",
     ("passthrough_share", "open_device_accounts", "txn_device_max_ids", "reserved_phone_other_id")),
)


def _typologies(reg: dict[str, FeatureDef]) -> list[str]:
    """The typology table, each column with its family (the view that reads it); columns not
    registered are left out, and a typology with none left is too."""
    fam = {col: family(g) for g in reg.values() for col in g.outputs}
    rows = []
    for typology, where, cols in TYPOLOGY_SIGNALS:
        present = [c for c in cols if c in fam]
        if present:
            listed = ", ".join(f"`{c}` ({fam[c]})" for c in present)
            rows.append(f"| {_cell(typology)} | {where} | {listed} |")
    if not rows:
        return []
    return ["", "## Typologies and the signals they rest on", "",
            "The model is one classifier per family of evidence (`model.views` in `conf/base/model.yaml`; the family "
            "of a column is the module of its group), the score their noisy-OR, so a typology whose evidence "
            "lies in one family alone still reaches the score.", "",
            "| typology | evidence | columns (family) |", "|---|---|---|", *rows]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _tables(fdef: FeatureDef) -> str:
    needed = ", ".join(f"`{contract_name(n)}`" for n in fdef.needs)
    optional = OPTIONAL_NEEDS.get(fdef.name, ())
    if optional:
        needed += " (+ if delivered: " + ", ".join(f"`{contract_name(n)}`" for n in optional) + ")"
    return needed


def _params(fdef: FeatureDef) -> str:
    params = list(inspect.signature(fdef.fn).parameters.values())[2:]
    return ", ".join(f"`{p.name}={p.default!r}`" for p in params) or "-"


def render_catalogue(features: dict[str, FeatureDef] | None = None) -> str:
    """The catalogue page as Markdown: groups in name order, columns in declaration order."""
    reg = registry() if features is None else features
    groups = [reg[name] for name in sorted(reg)]
    lines = [_HEADER, "## Groups", "", "| group | level | source tables | parameters | columns | what |",
             "|---|---|---|---|---|---|"]
    for g in groups:
        doc = " ".join(g.doc.split("\n\n")[0].split())
        lines.append(
            f"| `{g.name}` | {g.level} | {_tables(g)} | {_params(g)} | {len(g.outputs)} | {_cell(doc)} |"
        )
    n_cols = sum(len(g.outputs) for g in groups)
    lines += ["", f"## Columns ({n_cols})", "",
              "| column | meaning | 中文 | 说明 (the reasons' Chinese text) | unit | source tables | group | level |",
              "|---|---|---|---|---|---|---|---|"]
    for g in groups:
        for col, out in g.outputs.items():
            lines.append(
                f"| `{col}` | {_cell(out.description)} | {_cell(out.zh) or '-'} | {_cell(out.description_zh) or '-'} "
                f"| {out.unit} | {_tables(g)} "
                f"| `{g.name}` | {g.level} |"
            )
    lines += _typologies(reg)
    return "\n".join(lines) + "\n"


def write_catalogue(path: Path = DOC_PATH) -> Path:
    """Write the rendered catalogue to `path` (default ``docs/features.md``) and return the path."""
    path.write_text(render_catalogue(), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m realname_guard.features.catalogue [PATH]``: regenerate the page; ``--check`` fails if it is stale."""
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        return 0 if DOC_PATH.read_text(encoding="utf-8") == render_catalogue() else 1
    write_catalogue(Path(args[0]) if args else DOC_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
