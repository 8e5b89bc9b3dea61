"""Vendor the style sheets, scripts and fonts Great Expectations' Data Docs load from CDNs.

    python scripts/vendor_data_docs.py   # needs npm; writes quality/data_docs_assets/

Each file comes from the npm registry (`npm pack NAME@VERSION`), pinned below with the CDN URL
the Data Docs templates name; `quality.docs.make_offline` copies them beside a rendered site and
points its pages at them, so the docs render on a closed network. `sources.json` records every
file's package, version, licence and the URLs it stands for.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "quality" / "data_docs_assets"

# (package@version, file in the package, local path, CDN URLs it replaces)
FILES: list[tuple[str, str, str, list[str]]] = [
    ("jquery@3.7.1", "dist/jquery.min.js", "jquery/jquery.min.js",
     ["https://code.jquery.com/jquery-3.7.1.min.js"]),
    ("popper.js@1.12.9", "dist/umd/popper.min.js", "popper/popper.min.js",
     ["https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"]),
    ("bootstrap@4.3.1", "dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css",
     ["https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"]),
    ("bootstrap@4.3.1", "dist/js/bootstrap.min.js", "bootstrap/bootstrap.min.js",
     ["https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js"]),
    ("bootstrap-table@1.19.1", "dist/bootstrap-table.min.css", "bootstrap-table/bootstrap-table.min.css",
     ["https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css"]),
    ("bootstrap-table@1.19.1", "dist/bootstrap-table.min.js", "bootstrap-table/bootstrap-table.min.js",
     ["https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js"]),
    ("bootstrap-table@1.19.1", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
     "bootstrap-table/bootstrap-table-filter-control.min.css",
     # The templates name 1.19.0 for the extension's style sheet; 1.19.1's is the same rules.
     ["https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
      "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"]),
    ("bootstrap-table@1.19.1", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
     "bootstrap-table/bootstrap-table-filter-control.min.js",
     ["https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"]),
    ("bootstrap-datepicker@1.9.0", "dist/css/bootstrap-datepicker.min.css",
     "bootstrap-datepicker/bootstrap-datepicker.min.css",
     ["https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css"]),
    ("bootstrap-datepicker@1.9.0", "dist/js/bootstrap-datepicker.min.js",
     "bootstrap-datepicker/bootstrap-datepicker.min.js",
     ["https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js"]),
    ("@fortawesome/fontawesome-free@6.6.0", "css/all.min.css", "fontawesome/css/all.min.css",
     ["https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css"]),
    *[("@fortawesome/fontawesome-free@6.6.0", f"webfonts/{f}.woff2", f"fontawesome/webfonts/{f}.woff2", [])
      for f in ("fa-brands-400", "fa-regular-400", "fa-solid-900", "fa-v4compatibility")],
    ("@forevolve/bootstrap-dark@1.1.0", "dist/css/bootstrap-prefers-dark.css", "bootstrap-dark/bootstrap-prefers-dark.css",
     ["https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css"]),
    ("vega@5.33.1", "build/vega.min.js", "vega/vega.min.js", ["https://cdn.jsdelivr.net/npm/vega@5"]),
    ("vega-lite@5.23.0", "build/vega-lite.min.js", "vega-lite/vega-lite.min.js",
     ["https://cdn.jsdelivr.net/npm/vega-lite@5"]),
    ("vega-embed@6.29.0", "build/vega-embed.min.js", "vega-embed/vega-embed.min.js",
     ["https://cdn.jsdelivr.net/npm/vega-embed@6"]),
]


def main() -> int:
    if shutil.which("npm") is None:
        print("needs npm (Debian: apt-get install npm)", file=sys.stderr)
        return 2
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    sources = []
    with tempfile.TemporaryDirectory() as tmp:
        unpacked: dict[str, Path] = {}
        for spec in dict.fromkeys(f[0] for f in FILES):
            name = subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True, capture_output=True,
                                  text=True).stdout.strip().splitlines()[-1]
            target = Path(tmp) / name.removesuffix(".tgz")
            with tarfile.open(Path(tmp) / name) as tar:
                tar.extractall(target, filter="data")
            unpacked[spec] = target / "package"
        for spec, inner, local, urls in FILES:
            src = unpacked[spec] / inner
            dst = OUT / local
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            licence = json.loads((unpacked[spec] / "package.json").read_text(encoding="utf-8")).get("license")
            sources.append({"file": local, "package": spec, "from": inner, "license": licence, "replaces": urls})
        for spec, root in unpacked.items():
            found = sorted(p for p in root.iterdir() if p.is_file() and p.name.upper().startswith(("LICENSE", "LICENCE")))
            if found:
                folder = OUT / "licenses"
                folder.mkdir(exist_ok=True)
                shutil.copyfile(found[0], folder / f"{spec.lstrip('@').replace('/', '_').replace('@', '-')}.txt")
    (OUT / "sources.json").write_text(json.dumps(sources, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(sources)} files under {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
