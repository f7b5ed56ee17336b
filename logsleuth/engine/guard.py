"""A parser that fails on one input costs that input's rest, never the scan.

An exception inside a parser is a bug. It becomes a ``parser-crash`` diagnostic
at the line where it struck, with the traceback as its note (``scan -v`` prints
it); the records read before it stay, the lines from there on are counted as
unparsed, and the other inputs are read as usual. Expected input problems
(``InputError``, ``OSError``) keep their own diagnostics and are not caught here.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from logsleuth.engine.stats import InputStats
from logsleuth.errors import Diagnostic, InputError, SourceLocation

EXPECTED = (InputError, OSError)
_MAX_TRIES = 16  # prefix parses spent locating a whole-file parser's failure
_HELP = "a bug in logsleuth: please report it with this traceback (logsleuth scan -v)"


def describe(err: BaseException) -> tuple[str, str]:
    """One-line summary and full traceback; the failed frames' locals are released
    (they may hold views of the reader's buffer)."""
    summary = (f"{type(err).__name__}: {err}".strip().splitlines() or ["?"])[0][:300]
    tb = "".join(traceback.format_exception(type(err), err, err.__traceback__)).rstrip()
    if err.__traceback__ is not None:
        traceback.clear_frames(err.__traceback__)
    return summary, tb


def crash_diagnostic(path: str, line: int | None, err: BaseException | tuple[str, str],
                     what: str, consequence: str) -> Diagnostic:
    """``path:line: error[parser-crash]: <what> failed: <Type>: <message>; <consequence>``."""
    summary, tb = err if isinstance(err, tuple) else describe(err)
    return Diagnostic(SourceLocation(path, line), "parser-crash",
                      f"{what} failed: {summary}; {consequence}", note=tb, help=_HELP)


@contextmanager
def reported(path: str, what: str, diagnostics: list[Diagnostic] | None) -> Iterator[None]:
    """Planning work on one input's head (kind, layout, zone, dates): a bug there
    becomes that input's ``parser-crash`` diagnostic and the planner goes on
    without the answer. Without a diagnostics list the exception propagates."""
    try:
        yield
    except EXPECTED:
        raise
    except Exception as err:
        if diagnostics is None:
            raise
        diagnostics.append(crash_diagnostic(path, None, err, what,
                                            "the scan goes on without that answer"))


def _line_count(buf: memoryview | bytes, final: bool) -> int:
    data = bytes(buf)
    return data.count(b"\n") + int(final and len(data) > 0 and data[-1] != 10)


class GuardedFeeder:
    """Wraps a chunk parser: after its first exception every line is counted unparsed.

    ``probe`` builds a fresh parser of the same input without side effects; with it
    the failing line is found by bisection over the chunk's lines, and the records
    before that line are still read.
    """

    def __init__(self, inner: Any, what: str, probe: Callable[[], Any] | None = None) -> None:
        self.inner = inner
        self.stats: InputStats = inner.stats
        self.what = what
        self.probe = probe
        self.crashed = False

    def feed(self, buf: memoryview, first_line: int, final: bool) -> tuple[int, int]:
        if self.crashed:
            return self._count(buf, first_line, final)
        st = self.stats
        before = (st.bytes, st.lines, st.records, st.unparsed_lines, len(st.unparsed_samples))
        try:
            return self.inner.feed(buf, first_line, final)  # type: ignore[no-any-return]
        except EXPECTED:
            raise
        except Exception as err:  # a bug: report it where it struck, keep what came before
            st.bytes, st.lines, st.records, st.unparsed_lines, kept = before
            del st.unparsed_samples[kept:]
            self.crashed = True
            failure = describe(err)
        # a copy: views of the reader's reused buffer must not outlive this call
        data = bytes(buf)
        buf = memoryview(data)
        starts = np.concatenate(([0], np.flatnonzero(np.frombuffer(data, np.uint8) == 10) + 1))
        good = self._good_lines(buf, first_line, final, starts)
        what = self.what
        if good is None:  # the parser alone reads the chunk: what consumed its records failed
            what += " (in the analysis of its records, not the parser itself)"
        used, lines = 0, 0
        if good:  # the records before the failing line, read for real
            try:
                used, lines = self.inner.feed(buf[: int(starts[good])], first_line, True)
            except Exception:  # the bug again: the whole chunk is counted as unparsed
                st.bytes, st.lines, st.records, st.unparsed_lines, kept = before
                del st.unparsed_samples[kept:]
                used, lines = 0, 0
        st.diagnostics.append(crash_diagnostic(
            st.path, first_line + lines, failure, what,
            "this and the following lines are counted as unparsed"))
        rest_used, rest_lines = self._count(buf[used:], first_line + lines, final)
        return used + rest_used, lines + rest_lines

    def _good_lines(self, buf: memoryview, first_line: int, final: bool,
                    starts: np.ndarray) -> int | None:
        """How many leading lines of ``buf`` a fresh parser reads without failing;
        None when it reads them all (the failure was not in the parser)."""
        if self.probe is None:
            return 0
        n = _line_count(buf, final)
        ends = [*starts[1:].tolist(), len(buf)][:n]

        def fails(k: int) -> bool:
            try:
                self.probe().feed(buf[: ends[k - 1]], first_line, True)
            except Exception:  # looking for the bug on purpose
                return True
            return False

        if n == 0:
            return 0
        if not fails(n):  # not reproducible without the sink: a collector failed
            return None
        ok, bad = 0, n
        while bad - ok > 1:
            mid = (ok + bad) // 2
            if fails(mid):
                bad = mid
            else:
                ok = mid
        return ok

    def _count(self, buf: memoryview, first_line: int, final: bool) -> tuple[int, int]:
        n = _line_count(buf, final)
        st = self.stats
        st.bytes += len(buf)
        st.lines += n
        if n:
            first = bytes(buf[: min(len(buf), 400)]).split(b"\n", 1)[0]
            st.add_unparsed(first_line, first.decode("utf-8", "replace").rstrip("\r"), n)
        return len(buf), n


def parse_whole(parse: Callable[..., Any], data: bytes, path: str, what: str,
                **kwargs: Any) -> tuple[Any | None, int, Diagnostic | None]:
    """Run a whole-file parser; on a bug, keep the longest prefix it reads.

    Returns (result or None, lines that result covers, crash diagnostic or None).
    The failing line is found by bisection over line prefixes (at most
    ``_MAX_TRIES`` parses); its diagnostic names it.
    """
    try:
        result = parse(data, path, **kwargs)
        return result, -1, None
    except EXPECTED:
        raise
    except Exception as err:
        first_error: BaseException = err
    starts = np.concatenate(([0], np.flatnonzero(np.frombuffer(data, np.uint8) == 10) + 1))
    total = _line_count(data, True)
    ok_lines, bad_lines, kept = 0, total, None
    for _ in range(_MAX_TRIES):
        if bad_lines - ok_lines <= 1:
            break
        mid = (ok_lines + bad_lines) // 2
        try:
            attempt = parse(data[: int(starts[mid])], path, **kwargs)
        except EXPECTED:
            raise
        except Exception:
            bad_lines = mid
            continue
        ok_lines, kept = mid, attempt
    where = ok_lines + 1
    exact = bad_lines - ok_lines <= 1
    consequence = (f"lines {where}-{total} are counted as unparsed" if exact else
                   f"it struck between lines {where} and {bad_lines}; lines {where}-{total} "
                   "are counted as unparsed")
    return kept, ok_lines, crash_diagnostic(path, where, first_error, what, consequence)
