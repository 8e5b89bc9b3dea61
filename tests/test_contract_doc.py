"""docs/contract.md is the contract the code implements, rendered from it."""

from __future__ import annotations

from realname_guard.contract_doc import DOC_PATH, LIST_NOTES, render_contract
from realname_guard.core.contract import TABLES
from realname_guard.jobs.score import LIST_COLUMNS


def test_committed_contract_is_the_rendered_one() -> None:
    """Regenerate with `realname-guard contract` when a table, a rule or an output column changes."""
    assert DOC_PATH.read_text(encoding="utf-8") == render_contract()


def test_every_table_column_and_list_column_is_documented() -> None:
    page = render_contract()
    for t in TABLES.values():
        assert f"### `{t.name}`" in page
        for col in t.columns:
            assert f"| `{col}` |" in page, (t.name, col)
    assert set(LIST_NOTES) == set(LIST_COLUMNS)  # a new list column needs its words here
