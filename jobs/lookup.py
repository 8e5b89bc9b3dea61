"""Job: the person view (一证通查) for the central anti-fraud desk: one holder across every
operator and bank.

`realname-guard lookup` finds the holder by ID number (hashed here with the run's key, never
stored), by ``id_hash``, or by one of their msisdns or account ids, and answers from the published
datasets of a run date: every card under that ID (``features``), its score and tier (``scores``)
and its listings over every run date kept (the lists), with measure and reasons. It reads Parquet
with pyarrow (a filter over a few columns; no Spark application to start), from any file system
pyarrow reaches by URI (local, HDFS, S3).

Every lookup, found or not, is recorded under ``<output>/audit/lookups/date=<D>/``: when, which
``id_hash``, by whom (``REALNAME_GUARD_ANALYST``, else the login name), how the holder was named.
The recipients' lists stay per recipient; this view is for the central desk only.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.fs as pafs

from realname_guard.core.config import Config
from realname_guard.core.identity import normalise_id_py
from realname_guard.core.kinds import kinds
from realname_guard.core.privacy import hash_key_from_env, hmac_sha256_py

By = Literal["id_number", "id_hash", "card"]
ANALYST_ENV = "REALNAME_GUARD_ANALYST"
HISTORY_COLUMNS = ("run_date", "risk_tier", "action", "score", "listing_source", "measure_since", "reverify_due",
                   "expires_on", "needs_human_review", "rule_hits", "reasons")


class HolderNotFound(LookupError):
    """No published run, or no card under the ID named (the CLI exits with status 3)."""


@dataclass(frozen=True)
class Lookup:
    run_date: str
    id_hash: str
    id_masked: str | None
    cards: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"run_date": self.run_date, "id_hash": self.id_hash, "id_masked": self.id_masked,
                "cards": self.cards}


def _fs(root: str) -> tuple[pafs.FileSystem, str]:
    if "://" in root:
        return pafs.FileSystem.from_uri(root)
    return pafs.LocalFileSystem(), os.path.abspath(root)


def _run_dates(fs: pafs.FileSystem, path: str) -> list[str]:
    info = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    return sorted(i.base_name.split("=", 1)[1] for i in info
                  if i.type == pafs.FileType.Directory and i.base_name.startswith("run_date="))


def _read(fs: pafs.FileSystem, path: str, columns: list[str], where: Any) -> pa.Table:
    info = fs.get_file_info(path)
    if info.type != pafs.FileType.Directory:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    ds = pads.dataset(path, filesystem=fs, format="parquet", partitioning="hive", exclude_invalid_files=True)
    have = [c for c in columns if c in ds.schema.names]
    return ds.to_table(columns=have, filter=where)


def holder_of(cfg: Config, query: str, by: By) -> str:
    """The ``id_hash`` a query names (a card is resolved against the run's features)."""
    if by == "id_hash":
        return query.strip().lower()
    if by == "id_number":
        return hmac_sha256_py(normalise_id_py(query), hash_key_from_env(cfg.run.hash_key_env))
    raise ValueError("a card is resolved by lookup()")


def lookup(cfg: Config, query: str, by: By, run_date: str | None = None) -> Lookup:
    """The person view of the holder `query` names, as of `run_date` (default: the latest run)."""
    fs, root = _fs(cfg.output)
    dates = [d for d in _run_dates(fs, f"{root}/features") if run_date is None or d <= run_date]
    if not dates:
        raise HolderNotFound(f"no published run under {cfg.output}" + (f" up to {run_date}" if run_date else ""))
    day = dates[-1]
    features = f"{root}/features/run_date={day}"
    entity_cols = ["entity_type", "entity_id", "recipient", "id_hash", "id_masked", "opened_at", "closed"]
    if by == "card":
        found = _read(fs, features, ["id_hash"], pc.field("entity_id") == query.strip())
        if found.num_rows == 0:
            raise HolderNotFound(f"no card {query!r} in the run of {day}")
        id_hash = found.column("id_hash")[0].as_py()
    else:
        id_hash = holder_of(cfg, query, by)
    cards = _read(fs, features, entity_cols, pc.field("id_hash") == id_hash).to_pylist()
    if not cards:
        raise HolderNotFound(f"no card under this ID in the run of {day}")
    ids = [c["entity_id"] for c in cards]
    scores = {(r["entity_type"], r["entity_id"]): r for r in _read(
        fs, f"{root}/scores/run_date={day}", ["entity_type", "entity_id", "score", "risk_tier"],
        pc.field("entity_id").isin(ids)).to_pylist()}
    history: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for kind in kinds():
        rows = _read(fs, f"{root}/{kind.list_name}", [kind.key, *HISTORY_COLUMNS],
                     pc.field("id_hash") == id_hash).to_pylist()
        for r in rows:
            history.setdefault((kind.name, r.pop(kind.key)), []).append(r)
    out = []
    for c in sorted(cards, key=lambda c: (c["entity_type"], c["recipient"] or "", c["entity_id"])):
        key = (c["entity_type"], c["entity_id"])
        s = scores.get(key, {})
        listings = sorted(history.get(key, []), key=lambda r: str(r["run_date"]))
        latest = listings[-1] if listings and str(listings[-1]["run_date"]) == day else None
        out.append({
            "entity_type": c["entity_type"], "entity_id": c["entity_id"], "recipient": c["recipient"],
            "opened_at": c["opened_at"], "closed": c["closed"], "score": s.get("score"),
            "risk_tier": s.get("risk_tier"), "action": latest["action"] if latest else None,
            "reasons": latest["reasons"] if latest else [], "history": listings,
        })
    return Lookup(day, id_hash, cards[0]["id_masked"], out)


def audit(cfg: Config, by: By, id_hash: str | None, found: bool, cards: int) -> str:
    """Record one lookup under ``<output>/audit/lookups/date=<today>/`` and return the file's path."""
    fs, root = _fs(cfg.output)
    now = dt.datetime.now(dt.UTC)
    who = analyst()
    folder = f"{root}/audit/lookups/date={now.date().isoformat()}"
    fs.create_dir(folder, recursive=True)
    path = f"{folder}/{now.strftime('%H%M%S%f')}-{uuid.uuid4().hex[:8]}.json"
    record = {"at": now.isoformat(), "by": who, "named_by": by, "id_hash": id_hash, "found": found, "cards": cards}
    with fs.open_output_stream(path) as f:
        f.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def analyst() -> str:
    """Who acts, as the environment names them: $REALNAME_GUARD_ANALYST, else the login name."""
    return os.environ.get(ANALYST_ENV) or _login()


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a container
        return "unknown"


def _value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def render_text(found: Lookup) -> str:
    """The person view for a reader: the holder, then each card with its listings."""
    held: dict[str, int] = {}
    for c in found.cards:
        held[c["entity_type"]] = held.get(c["entity_type"], 0) + 1
    lines = [
        "Person view (一证通查) for the central anti-fraud desk; operators and banks receive only their own rows.",
        f"Holder {found.id_masked or '-'} (id_hash {found.id_hash[:16]}…), run of {found.run_date}: "
        + ", ".join(f"{n} {t}" for t, n in sorted(held.items())),
        "",
    ]
    for c in found.cards:
        status = "closed" if c["closed"] else "open"
        lines.append(f"{c['entity_type']:<8} {c['entity_id']:<22} {c['recipient'] or '-':<10} {status:<6} "
                     f"score {_value(c['score'])}  tier {c['risk_tier'] or '-'}  measure {c['action'] or '-'}")
        for r in c["reasons"] or []:
            lines.append(f"    reason: {r.get('description_zh') or ''} / {r['description']}")
        for h in c["history"]:
            lines.append(f"    listed {h['run_date']}: {h['risk_tier']} {h['action']} (since {_value(h.get('measure_since'))}, "
                         f"{h.get('listing_source') or '-'}, expires {_value(h.get('expires_on'))}"
                         + (", needs human review" if h.get("needs_human_review") else "") + ")")
    return "\n".join(lines)


def render_json(found: Lookup) -> str:
    return json.dumps(found.as_dict(), ensure_ascii=False, indent=2, default=str)
