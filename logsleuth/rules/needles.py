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
        self.needles = tuple(needles)
        # a needle spanning a newline could match across two records of one buffer
        self.engine, self._impl = (
            ("regex", "|".join(re.escape(n) for n in self.needles))
            if any("\n" in n for n in self.needles) or engine == "regex"
            else _backend(self.needles, engine))

    def mask(self, texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
        n = len(texts)
        if not self.needles or n == 0:
            return np.zeros(n, dtype=bool)
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
        if self.engine == "regex" or not pa.types.is_large_binary(texts.type):
            pattern = self._impl if self.engine == "regex" else "|".join(
                re.escape(x) for x in self.needles)
            return pc.match_substring_regex(texts, pattern).fill_null(False).to_numpy(
                zero_copy_only=False)
        offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[
            texts.offset : texts.offset + n + 1]
        lo, hi = int(offsets[0]), int(offsets[-1])
        data = memoryview(texts.buffers()[2])[lo:hi]
        ends = self._match_ends(data)
        out = np.zeros(n, dtype=bool)
        if len(ends):
            rows = np.searchsorted(offsets - lo, ends - 1, side="right") - 1
            out[rows[(rows >= 0) & (rows < n)]] = True
        return out

    def _match_ends(self, data: memoryview) -> np.ndarray:
        if self.engine == "hyperscan":
            ends: list[int] = []

            def on_match(_id: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
                ends.append(end)

            self._impl.scan(bytes(data), match_event_handler=on_match)
            return np.array(ends, dtype=np.int64)
        hits = self._impl.find_matches_as_indexes(bytes(data))
        return np.array([h[2] for h in hits], dtype=np.int64)
