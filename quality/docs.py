"""Great Expectations Data Docs for one run: static HTML with every table's suite and result.

The HTML shows expectations and counts only: validation ran with a result format that keeps
no unexpected values (see :data:`quality.validate.RESULT_FORMAT`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from great_expectations.data_context import AbstractDataContext

logger = logging.getLogger(__name__)

SITE_NAME = "realname_guard_site"  # the default ephemeral context owns "local_site"


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
    logger.info("data docs written to %s", index)
    return index
