"""Files of several layouts (a console capture): the lines further layouts read.

The dominant layout keeps the fast path (``engine.applog``). A further layout costs one
header-regex pass per chunk over its lines, without captures, so RE2 runs its DFA;
fields are extracted only from the few lines it finds, each by its own layout, and
times are converted by each layout's own format before the records are merged in
line order.

A two-line layout beside (java.util.logging's SimpleFormatter: date, class and method,
then ``LEVEL: message``) is read on a line and the one after it, which must start with
a known level word; that line then belongs to its record and starts none. A date line
that ends a chunk is read in the next one, with the record it would otherwise continue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.extract import plan_extraction, spans_to_strings
from logsleuth.layouts.infer import LEVELS
from logsleuth.layouts.mixed import two_line

_LEVEL_WORDS = pa.array(sorted(LEVELS))


@dataclass(frozen=True, slots=True)
class OtherHeads:
    """Lines that further layouts read (and the dominant one does not): their fields."""

    heads: np.ndarray
    cols: dict[str, pa.Array]  # one row per head
    ms: pa.Array  # int64 epoch ms (null where the time does not parse)
    # the chunk's last line when a two-line layout's header matches it: a record may start
    # there, so a chunk of no other record start ends before it (unless it is the last)
    tail: int = -1

    def before(self, end_line: int) -> OtherHeads:
        k = int(np.searchsorted(self.heads, end_line))
        if k == len(self.heads):
            return self
        return OtherHeads(self.heads[:k], {n: c.slice(0, k) for n, c in self.cols.items()},
                          self.ms.slice(0, k), self.tail)


class OtherLayouts:
    """The further layouts of one input, with the groups of each that swallow padding."""

    def __init__(self, layouts: Sequence[Any], default_tz: tzinfo | None) -> None:
        self.layouts = tuple((o, plan_extraction(o.fields_regex).trim, two_line(o))
                             for o in layouts)
        self.default_tz = default_tz

    def heads(self, data: pa.Buffer, raw: np.ndarray, lines: pa.Array, starts: np.ndarray,
              taken_by_dominant: np.ndarray) -> OtherHeads:
        """Lines of the chunk not read by the dominant layout that a further one reads in
        full (its header and fields regex); the first such layout wins a line."""
        taken = np.zeros(len(lines), dtype=bool)
        taken[taken_by_dominant] = True
        found: list[tuple[np.ndarray, dict[str, pa.Array], pa.Array]] = []
        tail = -1
        for layout, trim, pair in self.layouts:
            hit = pc.match_substring_regex(lines, layout.header_regex).to_numpy(
                zero_copy_only=False)
            free = ~taken
            if pair and len(lines):  # the date line and its level line, both in the chunk
                if hit[-1] and free[-1]:
                    tail = len(lines) - 1
                free[-1] = False
                free[:-1] &= ~taken[1:]
            rows = np.flatnonzero(hit & free)
            if len(rows) == 0:
                continue
            parts = pc.extract_regex(first_lines(data, raw, starts, rows, 2 if pair else 1),
                                     layout.fields_regex)
            ok = parts.is_valid().to_numpy(zero_copy_only=False)
            if pair and ok.any():  # the second line starts with a level word, not any word
                level = pc.is_in(parts.field("level").cast(pa.string()), _LEVEL_WORDS)
                ok &= level.to_numpy(zero_copy_only=False)
            rows = rows[ok]
            if len(rows) == 0:
                continue
            parts = parts.filter(pa.array(ok))
            taken[rows] = True
            if pair:
                taken[rows + 1] = True
            cols = {name: parts.field(name) for name in parts.type.names}
            for name in trim:
                cols[name] = pc.utf8_trim(cols[name].cast(pa.large_string()), " ")
            stamp = getattr(layout, "timestamp", None)
            ts = cols.pop("ts", None)
            ms = (stamp.to_epoch_ms(ts, self.default_tz).ms.cast(pa.int64())
                  if ts is not None and stamp is not None else pa.nulls(len(rows), pa.int64()))
            found.append((rows, cols, ms))
        if not found:
            return OtherHeads(np.zeros(0, dtype=np.int64), {}, pa.array([], pa.int64()), tail)
        every = np.concatenate([rows for rows, _, _ in found])
        order = pa.array(np.argsort(every, kind="stable"))
        cols = _stacked([c for _, c, _ in found], [len(r) for r, _, _ in found], order)
        ms = pa.concat_arrays([m for _, _, m in found]).take(order)
        return OtherHeads(np.sort(every), cols, ms, tail)


def first_lines(data: pa.Buffer, raw: np.ndarray, starts: np.ndarray,
                rows: np.ndarray, count: int = 1) -> pa.Array:
    """``count`` lines from each of ``rows`` of a chunk, without the last line break
    (large_binary views)."""
    begin = starts[rows]
    end = starts[rows + count].copy()
    end[(end > begin) & (raw[np.maximum(end - 1, 0)] == 10)] -= 1
    end[(end > begin) & (raw[np.maximum(end - 1, 0)] == 13)] -= 1
    return spans_to_strings(data, begin, np.maximum(end, begin))


def merge(heads: np.ndarray, cols: dict[str, pa.Array],
          converter: Callable[[pa.Array], pa.Array] | None, other: OtherHeads
          ) -> tuple[np.ndarray, dict[str, pa.Array], pa.Array]:
    """The dominant layout's records (times through ``converter``) and the further
    layouts', in line order: heads, columns, epoch ms."""
    n = len(heads)
    ts = cols.pop("ts", None)
    if ts is not None and converter is not None:
        ms = converter(ts).cast(pa.int64())
    else:
        ms = pa.nulls(n, pa.int64())
    every = np.concatenate([heads, other.heads])
    order = pa.array(np.argsort(every, kind="stable"))
    merged = _stacked([cols, other.cols], [n, len(other.heads)], order)
    return np.sort(every), merged, pa.concat_arrays([ms, other.ms]).take(order)


def _stacked(parts: list[dict[str, pa.Array]], sizes: list[int], order: pa.Array
             ) -> dict[str, pa.Array]:
    """Columns of row groups one after the other, then in ``order`` (null where a group's
    layout has no such field)."""
    names = list(dict.fromkeys(name for cols in parts for name in cols))
    out: dict[str, pa.Array] = {}
    for name in names:
        pieces = [cols[name].cast(pa.large_binary()) if name in cols
                  else pa.nulls(size, pa.large_binary())
                  for cols, size in zip(parts, sizes, strict=True)]
        out[name] = pa.concat_arrays(pieces).take(order)
    return out
