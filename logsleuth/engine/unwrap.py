"""Feed the inner text of wrapped lines (docker, CRI, kubectl, syslog...) to a parser.

The unwrapping step sits between the chunk reader and the app-log parser: each
chunk of outer lines is unwrapped (``parsers.wrappers``), the inner text is parsed
as if it were the file, and what the parser consumed is mapped back to outer bytes
and lines. Record line numbers and line counts are outer ones, and record times
come from the wrapper where the inner layout carries no zone. Inputs without a
wrapper never pass through here.
"""

from __future__ import annotations

import numpy as np

from logsleuth.engine.applog import AppLogParser
from logsleuth.engine.stats import InputStats
from logsleuth.parsers.lines import line_offsets
from logsleuth.parsers.wrappers import WrapperSpec, unwrap


class UnwrapFeeder:
    """A ``ChunkFeeder`` that unwraps each chunk before the inner parser sees it."""

    def __init__(self, spec: WrapperSpec, inner: AppLogParser) -> None:
        self.spec = spec
        self.inner = inner
        self.stats: InputStats = inner.stats

    def feed(self, buf: memoryview, first_line: int, final: bool) -> tuple[int, int]:
        raw = np.frombuffer(buf, dtype=np.uint8)
        starts = line_offsets(raw, final=final)
        if len(starts) < 2:
            return 0, 0
        u = unwrap(self.spec, raw, starts)
        self.inner.line_map = u.outer_line + first_line
        self.inner.line_ms = u.ms
        bytes_before, lines_before = self.stats.bytes, self.stats.lines
        _, inner_lines = self.inner.feed(memoryview(u.data), first_line, final)
        outer_lines = int(u.outer_line[inner_lines])  # the map ends with the outer count
        consumed = int(starts[outer_lines])
        # the inner parser counted inner bytes and lines: count the outer ones
        self.stats.bytes = bytes_before + consumed
        self.stats.lines = lines_before + outer_lines
        self.inner.line_map = self.inner.line_ms = None
        return consumed, outer_lines
