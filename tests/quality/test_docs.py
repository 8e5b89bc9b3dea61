"""Data Docs: one index listing every validated table's suite, and no personal data anywhere."""

from __future__ import annotations

from pathlib import Path

from realname_guard.quality.docs import build_data_docs
from tests.quality.conftest import Validated
from tests.quality.data import PII_STRINGS


def test_data_docs_list_every_suite_and_hold_no_personal_data(validated: Validated, tmp_path: Path) -> None:
    index = build_data_docs(validated.context, tmp_path / "docs")
    assert index == (tmp_path / "docs" / "index.html").resolve() and index.is_file()
    html = index.read_text(encoding="utf-8")
    for table in validated.results:
        assert f"expectations/{table}.html" in html  # the suite page
        assert (index.parent / "expectations" / f"{table}.html").is_file()
        assert f"validations/{table}/2026-06-30/" in html  # the run's validation result
    pages = [p for p in index.parent.rglob("*") if p.suffix in {".html", ".json", ".js"}]
    assert len(pages) >= 1 + 2 * len(validated.results)
    leaks = {(p.name, s) for p in pages for s in PII_STRINGS if s in p.read_text(encoding="utf-8")}
    assert not leaks
    # building again into the same place (a rerun) works and keeps the index
    assert build_data_docs(validated.context, tmp_path / "docs") == index


def test_data_docs_render_offline_from_shipped_assets(validated: Validated, tmp_path: Path) -> None:
    """Every style sheet and script comes from the site's own static/vendor; with the network off,
    the pages' scripts run (bootstrap-table builds the index table) and the validation pages say
    that quarantined rows were set aside by design."""
    from realname_guard.quality.docs import make_offline
    from tests.browser import dump_dom

    index = build_data_docs(validated.context, tmp_path / "docs")
    site = index.parent
    assert make_offline(site) == []  # nothing remote is left (and a second pass changes nothing)
    pages = list(site.rglob("*.html"))
    assert all("cdn" not in p.read_text(encoding="utf-8").lower() for p in pages)
    assert (site / "static" / "vendor" / "bootstrap" / "bootstrap.min.css").is_file()
    dom = dump_dom(index)
    assert 'class="bootstrap-table' in dom, "the index's scripts did not run offline"
    validation = next(p for p in pages if "/validations/" in p.as_posix())
    text = validation.read_text(encoding="utf-8")
    assert text.count("Rows set aside by design") == 1
