"""Numeric columns between PostgreSQL and numpy without a Python object per value (issue 16).

``read_columns`` runs one query through ``COPY (query) TO STDOUT (FORMAT binary)`` and reads
the result straight into numpy arrays: every row of a binary COPY whose columns are all
fixed-size and never NULL has the same length, so the whole buffer is one structured array.
``write_columns`` does the reverse: one binary ``COPY table (columns) FROM STDIN`` built
from numpy arrays. A million rows take a fraction of a second each way, where fetching
tuples (or adapting Python lists into ``unnest`` arrays) costs seconds.

Supported column types: ``float8`` (float64), ``int8`` (int64), ``int4`` (int32). The query
must cast every column to one of them and never return NULL (COALESCE): a NULL or another
type is refused with a clear error instead of being misread.
"""

import io

import numpy as np

from odoo.tools import SQL

_TYPES = {
    "float8": (">f8", np.float64),
    "int8": (">i8", np.int64),
    "int4": (">i4", np.int32),
}
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def _row_dtype(types):
    fields = [("nfields", ">i2")]
    for i, name in enumerate(types):
        fields += [(f"len{i}", ">i4"), (f"col{i}", _TYPES[name][0])]
    return np.dtype(fields)


def read_columns(cr, query, types):
    """Run ``query`` (odoo.tools.SQL) and return one numpy array per column, in order;
    ``types``: the PostgreSQL type of each column ('float8', 'int8' or 'int4')."""
    dtype = _row_dtype(types)
    buffer = io.BytesIO()
    statement = cr.mogrify(query).decode()
    cr.copy_expert(f"COPY ({statement}) TO STDOUT (FORMAT binary)", buffer)
    data = buffer.getbuffer()
    if bytes(data[:11]) != _SIGNATURE:
        raise ValueError("not a PostgreSQL binary COPY stream")
    start = 19 + int.from_bytes(data[15:19], "big")  # header extension (normally 0)
    body = len(data) - start - 2  # the trailer: int16 -1
    if body % dtype.itemsize:
        raise ValueError(
            f"rows of varying length: a column is NULL or not of the types {types}"
        )
    rows = np.frombuffer(data, dtype=dtype, count=body // dtype.itemsize, offset=start)
    if len(rows) and (rows["nfields"] != len(types)).any():
        raise ValueError(f"expected {len(types)} columns of types {types}")
    columns = []
    for i, name in enumerate(types):
        size = np.dtype(_TYPES[name][0]).itemsize
        if len(rows) and (rows[f"len{i}"] != size).any():
            raise ValueError(f"column {i + 1} is NULL or not {name}")
        columns.append(rows[f"col{i}"].astype(_TYPES[name][1]))
    return columns


def write_columns(cr, table, columns):
    """One binary COPY into ``table``: ``columns`` is a list of (name, type, array) with
    the types of ``read_columns``; NaN floats are written as NULL-free NaN, so callers
    give only finite values where the table expects numbers."""
    n = len(columns[0][2]) if columns else 0
    if not n:
        return 0
    dtype = _row_dtype([type_ for __, type_, __ in columns])
    rows = np.empty(n, dtype=dtype)
    rows["nfields"] = len(columns)
    for i, (__, type_, values) in enumerate(columns):
        if len(values) != n:
            raise ValueError("columns of different lengths")
        rows[f"len{i}"] = np.dtype(_TYPES[type_][0]).itemsize
        rows[f"col{i}"] = values
    payload = io.BytesIO()
    payload.write(_SIGNATURE + b"\x00\x00\x00\x00\x00\x00\x00\x00")
    payload.write(rows.tobytes())
    payload.write(b"\xff\xff")
    payload.seek(0)
    names = SQL(", ").join(SQL.identifier(name) for name, __, __ in columns)
    statement = cr.mogrify(
        SQL("COPY %s (%s) FROM STDIN (FORMAT binary)", SQL.identifier(table), names)
    )
    cr.copy_expert(statement.decode(), payload)
    return n
