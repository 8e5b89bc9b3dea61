"""Code formats: the contract fixes the shape of msisdns, ID numbers and region codes, nothing else.

Operators' MVNO codes, bank codes, outlet and branch ids and device ids arrive in whatever format
each sender uses. ``code_style: varied`` rewrites them after the world is drawn, one injective map
per column kind, so that a validation rule or a feature that assumes the generator's own formats
(``MVNO01``, ``ICBC``, a 15-digit IMEI) is caught by the tests.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

# Codes as other senders write them: an MVNO named by its number block, a bank by its CNAPS code.
MVNO_CODES = {"MVNO01": "MVNO_170", "MVNO02": "vno-162 Mobile"}
BANK_CODES = {
    "ICBC": "102", "ABC": "103", "BOC": "104", "CCB": "105", "BOCOM": "301",
    "PSBC": "403", "CMB": "308", "CIB": "309", "CITIC": "302", "SPDB": "310",
}
# (table, column) -> kind of code
CODE_COLUMNS: dict[tuple[str, str], str] = {
    ("sim_registrations", "operator"): "operator",
    ("sim_registrations", "outlet_id"): "outlet",
    ("bank_accounts", "bank_code"): "bank",
    ("bank_accounts", "branch_id"): "outlet",
    ("bank_accounts", "open_device_id"): "device",
    ("sim_activity", "imei"): "imei",
    ("bank_transactions", "device_id"): "device",
}


def _mapped(values: pa.ChunkedArray | pa.Array, mapping: dict[str, str]) -> pa.Array:
    py = values.to_pylist()
    return pa.array([None if v is None else mapping.get(v, v) for v in py], pa.string())


def _recode(kind: str, values: pa.ChunkedArray | pa.Array) -> pa.Array | pa.ChunkedArray:
    if kind == "operator":
        return _mapped(values, MVNO_CODES)
    if kind == "bank":
        return _mapped(values, BANK_CODES)
    if kind == "outlet":  # lower case with a Chinese prefix and a separator
        return pc.binary_join_element_wise(pa.scalar("网点"), pc.utf8_lower(values), "/")
    if kind == "imei":  # an IMEI written with its check-free 14-digit body and a scheme prefix
        return pc.binary_join_element_wise(pa.scalar("IMEI"), pc.utf8_slice_codeunits(values, 0, 14), ":")
    if kind == "device":  # a UUID-like fingerprint
        return pc.binary_join_element_wise(pa.scalar("fp"), pc.utf8_lower(values), "-")
    raise ValueError(f"unknown code kind {kind!r}")


def restyle(name: str, table: pa.Table, style: str) -> pa.Table:
    """`table` with its code columns written in `style` (``plain``: unchanged)."""
    if style == "plain":
        return table
    if style != "varied":
        raise ValueError(f"code_style must be plain or varied, not {style!r}")
    for (tname, column), kind in CODE_COLUMNS.items():
        if tname == name and column in table.column_names:
            i = table.column_names.index(column)
            table = table.set_column(i, table.schema.field(i), _recode(kind, table.column(column)))
    return table
