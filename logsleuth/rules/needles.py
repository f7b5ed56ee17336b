"""Which records contain any of the rules' literal needles: the scan's prefilter.

Measured on 8 MiB chunks of the 1 GiB bench log with the built-in pack's 27
needles: Arrow's RE2 alternation per record 131 ms (traffic) / 12.5 ms (flood),
Aho-Corasick (ahocorasick-rs) over the whole buffer 12 / 15 ms, Hyperscan 3 / 3.5 ms.
So the buffer of a chunk is searched once with the fastest engine installed and the
match positions are mapped to records; Arrow's regex remains the portable fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ENGINES = ("hyperscan", "aho-corasick", "regex")


def _backend(needles: Sequence[str], wanted: str) -> tuple[str, Any]:
    raw = [n.encode() for n in needles]
    try:
        import hyperscan
    except ImportError:  # only x86-64 wheels exist
        hyperscan = None
    if hyperscan is not None and wanted in ("auto", "hyperscan"):
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        try:
            db.compile(expressions=[re.escape(n).encode() for n in needles],
                       ids=list(range(len(raw))), elements=len(raw), flags=[0] * len(raw))
            return "hyperscan", db
        except hyperscan.error:  # e.g. a CPU without the SIMD level the library needs
            pass
    if wanted in ("auto", "aho-corasick"):
        try:
            import ahocorasick_rs

            return "aho-corasick", ahocorasick_rs.BytesAhoCorasick(raw)
        except ImportError:
            pass
    return "regex", "|".join(re.escape(n) for n in sorted(needles, key=lambda n: (-len(n), n)))


class NeedleMatcher:
    """Built once per worker; ``mask(texts)`` per batch. Not picklable (native state)."""

    def __init__(self, needles: Sequence[str], engine: str = "auto") -> None:
        """``engine``: "auto" (fastest installed) or one of ``ENGINES``, for tests."""
        self.needles = tuple(dict.fromkeys(needles))
        # A needle holding another one is found only in the records holding the shorter
        # one, so only the shortest are searched for in the buffer: fewer literals make
        # Hyperscan's pass faster (39 -> 31 needles of the built-ins: 17 -> 13.5 ms per
        # 32 MB of the bench log) and a record with both reports one match, not two.
        self._searched = tuple(n for n in self.needles
                               if not any(o != n and o in n for o in self.needles))
        self._within = {n: max((o for o in self._searched if o != n and o in n), key=len)
                        for n in self.needles if n not in self._searched}
        # a needle spanning a newline could match across two records of one buffer
        self.engine, self._impl = (
            ("regex", "|".join(re.escape(n) for n in self.needles))
            if any("\n" in n for n in self.needles) or engine == "regex"
            else _backend(self._searched, engine))

    def mask(self, texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Rows holding any needle."""
        out = np.zeros(len(texts), dtype=bool)
        for rows in self.rows_by_needle(texts).values():
            out[rows] = True
        return out

    def rows_by_needle(self, texts: pa.Array | pa.ChunkedArray) -> dict[str, np.ndarray]:
        """Row indices holding each needle (needles found nowhere are left out).

        One search of the buffer serves every needle, so collectors that each look
        for their own words (rules, metrics, thread dumps) share a single pass.
        """
        n = len(texts)
        if not self.needles or n == 0:
            return {}
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
        if self.engine == "regex" or not pa.types.is_large_binary(texts.type):
            out = {}
            for needle in self.needles:
                hit = pc.match_substring(texts, needle).fill_null(False).to_numpy(
                    zero_copy_only=False)
                if hit.any():
                    out[needle] = np.flatnonzero(hit)
            return out
        offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[
            texts.offset : texts.offset + n + 1]
        lo, hi = int(offsets[0]), int(offsets[-1])
        data = memoryview(texts.buffers()[2])[lo:hi]
        ids, ends = self._matches(data)
        if len(ends) == 0:
            return {}
        rows = np.searchsorted(offsets - lo, ends - 1, side="right") - 1
        ok = (rows >= 0) & (rows < n)
        ids, rows = ids[ok], rows[ok]
        out = {self._searched[i]: np.unique(rows[ids == i]) for i in np.unique(ids).tolist()}
        for needle, shorter in self._within.items():
            among = out.get(shorter)
            if among is None:
                continue
            hit = pc.match_substring(texts.take(pa.array(among)), needle).fill_null(
                False).to_numpy(zero_copy_only=False)
            if hit.any():
                out[needle] = among[hit]
        return out

    def _matches(self, data: memoryview) -> tuple[np.ndarray, np.ndarray]:
        """(needle index, end offset) of every match."""
        if self.engine == "hyperscan":
            # two flat lists: a flood calls back ~5 times per record, and numpy reads
            # a list of ints far faster than a list of pairs
            ids: list[int] = []
            ends: list[int] = []
            add_id, add_end = ids.append, ends.append

            def on_match(i: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
                add_id(i)
                add_end(end)

            self._impl.scan(data, match_event_handler=on_match)
        else:
            found = self._impl.find_matches_as_indexes(bytes(data))
            ids, ends = [h[0] for h in found], [h[2] for h in found]
        return np.array(ids, dtype=np.int64), np.array(ends, dtype=np.int64)
