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
from realname_guard.features.registry import FeatureDef, registry

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
