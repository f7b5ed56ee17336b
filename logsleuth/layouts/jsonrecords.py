"""JSON records as Arrow rows: one object per line, or objects spread over lines.

``parse_json_lines`` hands the whole chunk to ``pyarrow.json.read_json`` in one
call; only when that fails (a bad line, a type clash) does it bisect, so the
cost of bad lines is logarithmic per line, not a Python loop over all lines.

``parse_json_records`` adds records written over several lines: Elasticsearch 7
puts each ``stacktrace`` element of its JSON layout on a line of its own, and
log4j2's JsonLayout without ``compact`` pretty-prints every event (inside ``[``
``]`` with ``complete``). Lines that do not parse alone are grouped from a line
starting an object up to the next line that parses or starts one, joined with
spaces (JSON allows none of them inside a string) and parsed again, in one
vectorised pass; a group that still does not parse stays unparsed line by line.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

_OBJECT_LINE = r"^\s*\{.*\}\s*$"
OBJECT_START = r"^\s{0,2}(?:,\s*)?\{"  # "{", ", {" (log4j2 pretty), not indented members


def _read(buf: pa.Buffer, block: int) -> pa.Table:
    return pj.read_json(pa.BufferReader(buf), read_options=pj.ReadOptions(block_size=block))


def _joined(lines: pa.Array) -> pa.Buffer:
    """The lines concatenated with newlines, as one buffer (no Python per line)."""
    joined = pc.binary_join_element_wise(lines, "", "\n")
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32,
                            count=len(joined) + 1, offset=joined.offset * 4)
    return joined.buffers()[2][int(offsets[0]):int(offsets[-1])]


def _parse_rows(lines: pa.Array, rows: np.ndarray, block: int,
                failed: list[np.ndarray]) -> list[tuple[np.ndarray, pa.Table]]:
    if len(rows) == 0:
        return []
    try:
        table = _read(_joined(lines.take(pa.array(rows))), block)
        if table.num_rows == len(rows):
            return [(rows, table)]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if len(rows) == 1:
        failed.append(rows)
        return []
    mid = len(rows) // 2
    return (_parse_rows(lines, rows[:mid], block, failed)
            + _parse_rows(lines, rows[mid:], block, failed))


def parse_json_lines(lines: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Parse one JSON object per line into a table with one row per input line.

    Columns are inferred by Arrow; ``_ok`` is false (and every other column
    null) for lines that are not a JSON object or do not parse. Failed line
    numbers: ``np.flatnonzero(~table["_ok"].to_numpy())`` (0-based).
    """
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    lines = pc.cast(lines, pa.string())
    n = len(lines)
    shaped = pc.fill_null(pc.match_substring_regex(lines, _OBJECT_LINE), False)
    rows = np.flatnonzero(shaped.to_numpy(zero_copy_only=False))
    longest = pc.max(pc.binary_length(lines)).as_py() or 0
    block = max(1 << 20, 2 * longest + 2)
    failed: list[np.ndarray] = []
    parts = _parse_rows(lines, rows, block, failed)
    pos = np.full(n, -1, dtype=np.int64)
    tables: list[pa.Table] = []
    schema: pa.Schema | None = None
    start = 0
    for part_rows, table in parts:
        try:  # a part whose types clash with earlier parts counts as failed lines
            unified = table.schema if schema is None else pa.unify_schemas(
                [schema, table.schema], promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            continue
        schema = unified
        tables.append(table)
        pos[part_rows] = np.arange(start, start + len(part_rows))
        start += len(part_rows)
    merged = (pa.concat_tables(tables, promote_options="permissive").combine_chunks()
              if tables else pa.table({}))
    ok = pos >= 0
    if merged.num_columns:
        idx = pa.array(np.where(ok, pos, 0), mask=~ok)
        out = merged.take(idx)
    else:
        out = pa.table({"_dummy": pa.nulls(n)}).drop_columns(["_dummy"])
    return out.append_column("_ok", pa.array(ok)) if out.num_columns else pa.table(
        {"_ok": pa.array(ok)})


def parse_json_records(lines: pa.Array | pa.ChunkedArray) -> pa.Table:
    """``parse_json_lines`` plus records spread over several lines.

    One row per input line. ``_ok``: a record starts on this line; ``_span``: how
    many lines it covers (1 for one-line records); ``_cont``: the line belongs to
    the multi-line record started above it (its columns are null).
    """
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    lines = pc.cast(lines, pa.string())
    table = parse_json_lines(lines)
    n = len(lines)
    ok = table["_ok"].to_numpy(zero_copy_only=False).astype(bool)
    span = ok.astype(np.int32)
    cont = np.zeros(n, dtype=bool)
    if ok.all():  # the common case: one object per line
        return _with_spans(table, span, cont)
    starts = pc.fill_null(pc.match_substring_regex(lines, OBJECT_START), False).to_numpy(
        zero_copy_only=False)
    heads = ~ok & starts
    if not heads.any():
        return _with_spans(table, span, cont)
    # segments begin at every line that parses or starts an object; a segment that
    # begins with a failed object start is a candidate multi-line record
    edges = np.flatnonzero(ok | starts)
    ends = np.append(edges[1:], n)
    cand = heads[edges]
    g_start, g_end = edges[cand], ends[cand]
    offsets = np.concatenate([[0], np.cumsum(g_end - g_start)]).astype(np.int32)
    members = np.flatnonzero(_inside(n, g_start, g_end))
    grouped = pa.ListArray.from_arrays(pa.array(offsets), lines.take(pa.array(members)))
    joined = pc.binary_join(grouped, " ")
    joined = pc.replace_substring_regex(joined, r"^\s*,\s*", "")
    joined = pc.replace_substring_regex(joined, r"[\s,\]]+$", "")
    parsed = parse_json_lines(joined)
    good = parsed["_ok"].to_numpy(zero_copy_only=False).astype(bool)
    if not good.any():
        return _with_spans(table, span, cont)
    g_start, g_end = g_start[good], g_end[good]
    both = pa.concat_tables([table, parsed.filter(pa.array(good))],
                            promote_options="permissive").combine_chunks()
    index = np.arange(n, dtype=np.int64)
    index[g_start] = n + np.arange(len(g_start))
    out = both.take(pa.array(index))
    out = out.set_column(out.schema.get_field_index("_ok"), "_ok",
                         pa.array(ok | np.isin(np.arange(n), g_start)))
    span[g_start] = (g_end - g_start).astype(np.int32)
    cont = _inside(n, g_start + 1, g_end)
    return _with_spans(out, span, cont)


def _inside(n: int, begin: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Mask of the lines in the sorted, disjoint ranges [begin, end)."""
    edge = np.zeros(n + 1, dtype=np.int64)
    np.add.at(edge, begin, 1)
    np.add.at(edge, end, -1)
    return np.cumsum(edge[:-1]) > 0


def _with_spans(table: pa.Table, span: np.ndarray, cont: np.ndarray) -> pa.Table:
    return table.append_column("_span", pa.array(span)).append_column("_cont", pa.array(cont))
