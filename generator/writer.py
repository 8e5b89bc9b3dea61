"""Arrow tables in the contract's exact types, written as Parquet or CSV parts."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from realname_guard.core.contract import TABLES

_SIMPLE: dict[str, pa.DataType] = {
    "STRING": pa.string(), "TIMESTAMP": pa.timestamp("us"), "BOOLEAN": pa.bool_(), "DATE": pa.date32(),
    "INT": pa.int32(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "LONG": pa.int64(), "DOUBLE": pa.float64(),
}


def arrow_type(ddl_type: str) -> pa.DataType:
    """The Arrow type Spark reads back as the DDL type (timestamps naive, microseconds)."""
    text = ddl_type.strip().upper()
    found = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", text)
    if found:
        return pa.decimal128(int(found.group(1)), int(found.group(2)))
    return _SIMPLE[text]


def arrow_schema(table: str) -> pa.Schema:
    """The contract's columns of ``table`` as an Arrow schema, parsed from its DDL without Spark."""
    fields = re.split(r",\s*(?![^()]*\))", TABLES[table].ddl)
    return pa.schema([pa.field(name, arrow_type(kind)) for name, kind in (f.strip().split(" ", 1) for f in fields)])


def to_arrow(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A frame in contract order and types; int64 microsecond columns with -1 become null timestamps."""
    arrays = []
    for field in schema:
        values = df[field.name].to_numpy()
        if pa.types.is_timestamp(field.type) and values.dtype.kind in "iu":
            arrays.append(pa.array(values.astype(np.int64), pa.timestamp("us"), mask=values < 0))
        elif pa.types.is_date(field.type):
            arrays.append(pa.array(values.astype("datetime64[D]"), pa.date32()))
        else:
            arrays.append(pa.array(values, field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_part(table: pa.Table, folder: Path, part: int, fmt: str = "parquet", encoding: str = "UTF-8") -> None:
    """Write one part file ``part-NNNNN.<fmt>`` into ``folder`` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, folder / f"part-{part:05d}.parquet", compression="snappy")
        return
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
    data = buf.getvalue()
    if encoding.upper().replace("-", "") != "UTF8":
        data = data.decode("utf-8").encode(encoding)
    (folder / f"part-{part:05d}.csv").write_bytes(data)
