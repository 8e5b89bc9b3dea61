"""Great Expectations Data Docs for one run: static HTML with every table's suite and result.

The HTML shows expectations and counts only: validation ran with a result format that keeps
no unexpected values (see :data:`quality.validate.RESULT_FORMAT`).

GE's pages load their style sheets, scripts and fonts from public CDNs, which a bank's closed
network does not reach. :func:`make_offline` copies the same files, shipped with the package
(``data_docs_assets``, from the npm registry by ``scripts/vendor_data_docs.py``), beside the site
and points every page at them. It also says on each validation page that rows failing a row
rule were set aside in the quarantine by design: GE marks such a suite "Failed".
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from great_expectations.data_context import AbstractDataContext

logger = logging.getLogger(__name__)

SITE_NAME = "realname_guard_site"  # the default ephemeral context owns "local_site"
# A Traversable, not a path: inside the wheel spark-submit --py-files puts on the driver's path the
# assets are zip entries, which only importlib.resources can read.
ASSETS = resources.files("realname_guard.quality") / "data_docs_assets"
VENDOR = "static/vendor"  # where the assets go inside a site
_REMOTE = re.compile(r"""(?:src|href)=["'](https?://[^"']+\.(?:js|css)|https?://cdn[^"']+)["']""")
QUARANTINE_NOTE = (
    '<div class="alert alert-info" role="note" style="margin:1em 0">'
    "<b>Rows set aside by design.</b> This table's row rules quarantine the rows that fail them, with the "
    "reason, and the run goes on with the clean rows; GE reports such a suite as failed. The run stops only "
    "when a table's quarantined share passes its limit (<code>max_bad_row_share</code>): see the run report "
    "for the counts and reasons.</div>"
)


def build_data_docs(
    context: AbstractDataContext, directory: str | os.PathLike[str], site_name: str = SITE_NAME
) -> Path:
    """Render the context's suites and validation results into ``directory``; return index.html.

    Call once after every table of the run went through :func:`quality.validate.validate_table`
    with this context.
    """
    base = Path(directory).resolve()
    base.mkdir(parents=True, exist_ok=True)
    site_config = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(base)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    sites = context.config.data_docs_sites or {}
    if site_name in sites:
        context.update_data_docs_site(site_name, site_config)  # type: ignore[arg-type]
    else:
        context.add_data_docs_site(site_name, site_config)  # type: ignore[arg-type]
    context.build_data_docs(site_names=[site_name])
    index = base / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"GE Data Docs did not write {index}")
    make_offline(base)
    logger.info("data docs written to %s", index)
    return index


def _copy_tree(src: Traversable, dst: Path) -> None:
    """Copy a package's data folder (a directory or zip entries) to `dst`, leaving out sources.json."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.name in ("sources.json", "__pycache__"):
            continue
        if entry.is_dir():
            _copy_tree(entry, dst / entry.name)
        else:
            (dst / entry.name).write_bytes(entry.read_bytes())


def make_offline(site: Path) -> list[str]:
    """Copy the vendored assets into ``site/static/vendor`` and point every page at them; mark the
    validation pages' quarantine as by design. Returns remote references left (none expected)."""
    sources = json.loads((ASSETS / "sources.json").read_text(encoding="utf-8"))
    vendor = site / VENDOR
    shutil.rmtree(vendor, ignore_errors=True)
    _copy_tree(ASSETS, vendor)
    urls = {url: vendor / entry["file"] for entry in sources for url in entry["replaces"]}
    left: list[str] = []
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for url, local in urls.items():
            if url in text:
                text = text.replace(f'"{url}"', f'"{os.path.relpath(local, page.parent)}"')
        if "/validations/" in page.as_posix() and "<body" in text and "Rows set aside by design" not in text:
            text = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + QUARANTINE_NOTE, text, count=1)
        left += [f"{page.relative_to(site)}: {m}" for m in _REMOTE.findall(text)]
        page.write_text(text, encoding="utf-8")
    if left:
        logger.warning("Data Docs still reference remote files: %s", "; ".join(sorted(set(left))[:10]))
    return left
