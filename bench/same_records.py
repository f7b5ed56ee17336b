"""Digest of the records tables of a scan, column by column, to compare two versions.

Usage: ``python bench/same_records.py PATH...`` prints one line per path and column
with the row count and a SHA-256 of the column's Arrow IPC bytes; run it on the old
and the new code and ``diff`` the outputs. The JSON report holds only aggregates:
this checks the records themselves (e.g. exception columns of every trace).
"""

from __future__ import annotations

import hashlib
import sys

import pyarrow as pa

import logsleuth


def digest(col: pa.ChunkedArray) -> str:
    sink = pa.BufferOutputStream()
    table = pa.table({"c": col.combine_chunks()})
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:16]


def main() -> int:
    for path in sys.argv[1:]:
        res = logsleuth.scan(path, rules=False, analysis=False, keep_records=True)
        t = res.tables["records"]
        for name in t.column_names:
            print(f"{path} {name} rows={t.num_rows} {digest(t.column(name))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
