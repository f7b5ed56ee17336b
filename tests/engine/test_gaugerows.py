"""GaugeRows.tables: each candidate template's kept rows, in time order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from logsleuth.engine.gaugerows import GaugeRows


def test_tables_give_each_templates_rows_sorted_by_time_source_line() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    tids = rng.integers(0, 5, n)
    ts = rng.integers(0, 50, n) * 1000  # many ties: source and line decide
    src = rng.choice(["b.log", "a.log", "c.log"], n)
    line = rng.permutation(n) + 1
    batch = pa.RecordBatch.from_pydict({
        "source": pa.array(src).dictionary_encode(),
        "line": pa.array(line, pa.int64()),
        "ts": pa.array(ts, pa.timestamp("ms", tz="UTC")),
        "message": pa.array([f"used={i} of template {t}" for i, t in enumerate(tids)])})

    class Miner:  # five candidate templates
        templates = tuple(f"used=<*> of template {t}" for t in range(5))

        def __len__(self) -> int:
            return 5

    rows = GaugeRows()
    rows.add(batch, tids.astype(np.int64), Miner())
    got = rows.tables()
    assert sorted(got) == [0, 1, 2, 3, 4]
    for t, table in got.items():
        assert table.column_names == ["source", "line", "ts", "message"]
        assert table.schema.field("source").type == pa.string()
        assert table.schema.field("message").type == pa.string()
        mine = np.flatnonzero(tids == t)
        want = sorted(mine.tolist(), key=lambda i: (ts[i], src[i], line[i]))
        assert table["line"].to_pylist() == [int(line[i]) for i in want]
        assert table["message"].to_pylist() == [f"used={i} of template {t}" for i in want]
    # asked again (a watcher reports more than once): the same tables
    again = rows.tables()
    assert all(again[t].equals(got[t]) for t in got)
