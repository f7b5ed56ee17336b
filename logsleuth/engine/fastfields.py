"""Header detection and field extraction without a regex engine, where a layout allows.

RE2 inside Arrow's ``extract_regex`` costs ~300 ns of set-up per record whatever
the pattern (19 ms per 58k records; header matching another 5.6 ms per chunk),
more than the rest of parsing. Most layouts are a fixed-width timestamp followed
by fields that each end at a byte they cannot contain: ``]`` after ``[%t``, a
space after ``%logger``. For those the program below finds every field with
numpy byte checks and Arrow ``find_substring`` over zero-copy views of the chunk
(~10 ms per 58k records), then checks each field's distinct values against its
regex body with RE2.

Exactness: a line the program accepts matches the one-pass fields regex with the
same captures (each field ends at the first byte it cannot contain, so the match
is unique). Lines it cannot vouch for go back to the regex path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.extract import ExtractionPlan, spans_to_strings
from logsleuth.layouts.regexshape import (
    ALL,
    ByteSet,
    alphabet,
    fixed_classes,
    leading_fixed,
    star_class,
)

MIN_PREFIX = 4  # fewer fixed bytes than this would not tell headers from other lines


_DIGITS = frozenset(range(48, 58))


def _bytes_mask(positions: list[int], byte: int) -> np.uint64:
    return np.uint64(sum(byte << (8 * p) for p in positions))


@dataclass(frozen=True, slots=True)
class _Word:
    """Checks on eight bytes read as one little-endian integer (SWAR)."""

    equal_mask: np.uint64
    equal_value: np.uint64
    digit_hi: np.uint64  # 0xF0 on digit bytes
    digit_30: np.uint64  # 0x30 on digit bytes
    digit_lo: np.uint64  # 0x0F on digit bytes
    digit_6: np.uint64  # 0x06 on digit bytes

    def fits(self, word: np.ndarray) -> np.ndarray:
        ok = (word & self.equal_mask) == self.equal_value
        if self.digit_hi:
            # a digit's high nibble is 3 and its low nibble plus 6 stays below 16
            ok &= (word & self.digit_hi) == self.digit_30
            ok &= (((word & self.digit_lo) + self.digit_6) & self.digit_hi) == 0
        return ok


@dataclass(frozen=True, slots=True)
class _Classes:
    """Allowed bytes per position, checked eight at a time.

    A fancy-indexed lookup per byte costs 1.5 s per GiB of headers; literal bytes
    and digits (nearly all of a timestamp) are tested as 64-bit words instead,
    and only other classes (``[.,]``) look up a table, one column at a time.
    """

    width: int
    words: tuple[_Word, ...]
    columns: tuple[tuple[int, np.ndarray], ...]  # (position, 256 bools), other classes
    tables: np.ndarray  # (width, 256) bools: every position, for rows near the end

    @classmethod
    def of(cls, classes: list[ByteSet]) -> _Classes:
        words: list[_Word] = []
        columns: list[tuple[int, np.ndarray]] = []
        tables = np.zeros((len(classes), 256), dtype=bool)
        for j, allowed in enumerate(classes):
            tables[j, list(allowed)] = True
        for k in range(0, len(classes), 8):
            equal: dict[int, int] = {}
            digits: list[int] = []
            for p, allowed in enumerate(classes[k : k + 8]):
                if len(allowed) == 1:
                    equal[p] = next(iter(allowed))
                elif allowed == _DIGITS:
                    digits.append(p)
                elif allowed != ALL:
                    columns.append((k + p, tables[k + p]))
            words.append(_Word(
                _bytes_mask(list(equal), 0xFF),
                np.uint64(sum(b << (8 * p) for p, b in equal.items())),
                _bytes_mask(digits, 0xF0), _bytes_mask(digits, 0x30),
                _bytes_mask(digits, 0x0F), _bytes_mask(digits, 0x06)))
        return cls(len(classes), tuple(words), tuple(columns), tables)

    def fits(self, raw: np.ndarray, at: np.ndarray, limit: np.ndarray) -> np.ndarray:
        """Rows whose bytes from ``at`` fit position by position, before ``limit``."""
        n = len(raw)
        span = 8 * len(self.words)
        ok = at + self.width <= limit
        if n < span:
            return ok & self._fits_each(raw, at)
        # every offset of raw as an unaligned 64-bit integer (a view, no copy)
        as_words = np.ndarray((n - 7,), dtype="<u8", buffer=raw, strides=(1,))
        near_end = at + span > n
        base = np.minimum(at, n - span)
        for k, word in enumerate(self.words):
            ok &= word.fits(as_words[base + 8 * k])
        for j, table in self.columns:
            ok &= table[raw[np.minimum(at + j, n - 1)]]
        if near_end.any():
            rows = np.flatnonzero(near_end)
            ok[rows] = (at[rows] + self.width <= limit[rows]) & self._fits_each(raw, at[rows])
        return ok

    def _fits_each(self, raw: np.ndarray, at: np.ndarray) -> np.ndarray:
        ok = np.ones(len(at), dtype=bool)
        if len(raw) == 0:
            return ok & (self.width == 0)
        for j in range(self.width):
            ok &= self.tables[j][raw[np.minimum(at + j, len(raw) - 1)]]
        return ok


@dataclass(frozen=True, slots=True)
class _Run:
    """Literals and fixed-width fields back to back: one check of their bytes."""

    classes: _Classes
    fields: tuple[tuple[str, int, int], ...]  # (name, offset, width)
    trivial: bool  # nothing left to check (the header test or a delimiter did it)


@dataclass(frozen=True, slots=True)
class _Until:
    name: str
    body: str  # the field's regex, checked on distinct values when ``check``
    delimiter: bytes  # one byte the field cannot contain: the next literal's first
    check: bool
    pad: bool = False  # spaces after the delimiter belong to the field (``%-5level``)


_Step = _Run | _Until


def _steps(plan: ExtractionPlan, head: list[ByteSet]) -> list[_Step] | None:
    """The plan's prefix as runs and delimited fields; None if a field has no delimiter."""
    steps: list[_Step] = []
    run: list[ByteSet] = []
    fields: list[tuple[str, int, int]] = []

    def close() -> None:
        if run or fields:
            at_start = not steps
            if at_start:  # what the header test saw needs no second look
                for j in range(min(len(run), len(head))):
                    if run[j] == head[j]:
                        run[j] = ALL
            classes = _Classes.of(run)
            steps.append(_Run(classes, tuple(fields), all(c == ALL for c in run)))
            run.clear()
            fields.clear()

    for k, (name, body) in enumerate(zip(plan.prefix_groups, plan.bodies, strict=True)):
        gap = [frozenset((b,)) for b in plan.gaps[k]]
        if gap and steps and not run and isinstance(steps[-1], _Until):
            gap[0] = ALL  # the delimiter the previous field was cut at
        run.extend(gap)
        fixed = fixed_classes(body)
        if fixed and all(10 not in c for c in fixed):
            fields.append((name, len(run), len(fixed)))
            run.extend(fixed)
            continue
        close()
        follow = plan.gaps[k + 1][:1]
        if not follow and _padded_before_field(plan, k):
            steps.append(_Until(name, body, b" ", True, pad=True))
            continue
        allowed = alphabet(body)
        if not follow or allowed is None:
            return None
        if follow[0] in allowed:
            follow = _longer_delimiter(plan.gaps[k + 1], allowed)
            if follow is None and star_class(body, lazy=True) is not None:
                follow = plan.gaps[k + 1]  # ``%t`` read as ``.*?``: see _lazy_ends
            if follow is None:
                return None
        star = star_class(body)
        check = len(follow) > 1 or star is None or not star >= ALL - {follow[0], 10}
        steps.append(_Until(name, body, follow, check))
    gap = [frozenset((b,)) for b in plan.gaps[-1]]
    if gap and steps and not run and isinstance(steps[-1], _Until):
        gap[0] = ALL
    run.extend(gap)
    close()
    return steps


# _lazy_ends: a lazy field (``(?P<thread>.*?) \| ``, an inferred ``%t``) that may hold
# every byte of the gap after it ends at the gap's first occurrence whenever the rest of
# the line fits from there: RE2 prefers the shortest such field, and no shorter one
# ends before a gap. Where the rest does not fit, the program does not vouch for the
# row and RE2 reads it (it may then take a later occurrence). Measured on the 256 MiB
# ``orders`` bench (inferred layout ``%d | %-5p | %t | %c | %m%n``): 0.31 s of RE2
# extraction per scan before, on 3.1 M lines.


def _longer_delimiter(gap: bytes, allowed: ByteSet) -> bytes | None:
    """The gap's head up to its first byte the field cannot hold (``": "`` after a logger).

    The field cannot run past that byte, so the first occurrence of the head is
    where it ends; fields that may hold the whole gap are left to RE2.
    """
    for j in range(1, len(gap)):
        if gap[j] not in allowed:
            return gap[:j + 1]
    return None


def _padded_before_field(plan: ExtractionPlan, k: int) -> bool:
    """Field ``k`` is ``X +`` (padding) followed directly by a field without spaces.

    X ends at the first space, and the padding at the first non-space; when that
    parse fails the row goes back to RE2, so greedy padding is never wrong.
    """
    body = plan.bodies[k]
    if not body.endswith(" +") or k + 1 >= len(plan.bodies):
        return False
    inner, after = alphabet(body[:-2]), alphabet(plan.bodies[k + 1])
    return inner is not None and after is not None and 32 not in inner and 32 not in after


_PAD_WINDOW = 16  # longest padding read without going back to RE2


@dataclass(frozen=True, slots=True)
class FieldProgram:
    """A layout's first line as literals, fixed-width fields and delimited fields."""

    head: _Classes  # what every header line starts with
    steps: tuple[_Step, ...]

    @classmethod
    def build(cls, header_regex: str, plan: ExtractionPlan) -> FieldProgram | None:
        """The program for ``plan``, or None when some part needs a regex engine."""
        if not plan.gaps or len(plan.passes) != 1 or not plan.msg_from_prefix:
            return None
        head = leading_fixed(header_regex)
        for j, classes in enumerate(head):
            if 10 in classes:  # a class that takes "\n" could read past the line
                head = head[:j]
                break
        if len(head) < MIN_PREFIX:
            return None
        steps = _steps(plan, head)
        return None if steps is None else cls(_Classes.of(head), tuple(steps))

    def candidates(self, raw: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Lines (indices) that start like a header; no other line can be one."""
        at = starts[:-1]
        if len(raw) == 0:
            return np.zeros(0, dtype=np.int64)
        # the first byte alone drops most stack-trace lines before the full check
        lines = np.flatnonzero(self.head.tables[0][raw[np.minimum(at, len(raw) - 1)]])
        return lines[self.head.fits(raw, at[lines], starts[1:][lines])]

    def run(self, raw: np.ndarray, data: pa.Buffer, begin: np.ndarray, end: np.ndarray
            ) -> tuple[np.ndarray, dict[str, pa.Array], np.ndarray]:
        """Fields of the lines ``[begin, end)`` (ordered, each with its newline).

        Returns the rows the program vouches for (bool mask), their fields
        (``large_binary``, only those rows) and the length of their prefix before
        the message.
        """
        eol = end - (raw[np.maximum(end - 1, 0)] == 10)
        ok = begin < eol
        cur = begin.copy()
        spans: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        checks: list[_Until] = []
        for step in self.steps:
            if isinstance(step, _Run):
                width = step.classes.width
                ok &= cur + width <= eol
                if not step.trivial:
                    ok &= step.classes.fits(raw, cur, eol)
                for name, offset, size in step.fields:
                    spans[name] = (np.minimum(cur + offset, eol),
                                   np.minimum(cur + offset + size, eol))
                cur = np.minimum(cur + width, eol)
            else:
                offsets = np.append(cur, data.size).astype(np.int64, copy=False)
                rest = pa.Array.from_buffers(pa.large_binary(), len(cur),
                                             [None, pa.py_buffer(offsets), data])
                found = pc.find_substring(rest, step.delimiter).to_numpy(zero_copy_only=False)
                stop = cur + found
                ok &= (found >= 0) & (stop < eol)
                if step.pad:
                    stop, fits = _skip_spaces(raw, stop)
                    ok &= fits & (stop < eol)
                stop = np.where(ok, stop, cur)
                spans[step.name] = (cur, stop)
                cur = stop
                if step.check:
                    checks.append(step)
        rows = np.flatnonzero(ok)
        cols = {name: spans_to_strings(data, a[rows], b[rows]) for name, (a, b) in spans.items()}
        good = np.ones(len(rows), dtype=bool)
        for step in checks:
            good &= _values_match(cols[step.name], step.body)
        if not good.all():
            ok[rows[~good]] = False
            keep = pa.array(good)
            cols = {name: col.filter(keep) for name, col in cols.items()}
            rows = rows[good]
        return ok, cols, (cur - begin)[rows]


def _skip_spaces(raw: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first non-space from ``at``, and whether it was within reach."""
    n = len(raw)
    if n < _PAD_WINDOW:
        return at, np.zeros(len(at), dtype=bool)
    window = np.lib.stride_tricks.sliding_window_view(raw, _PAD_WINDOW)
    other = window[np.clip(at, 0, n - _PAD_WINDOW)] != 32
    skip = other.argmax(axis=1)
    fits = other[np.arange(len(at)), skip] & (at + _PAD_WINDOW <= n) & (at >= 0)
    return at + skip, fits


def _values_match(values: pa.Array, body: str) -> np.ndarray:
    """Rows whose value matches ``body`` whole, checked once per distinct value."""
    encoded = values.dictionary_encode()
    fits = pc.match_substring_regex(encoded.dictionary, f"^(?:{body})$")
    fits_np = fits.to_numpy(zero_copy_only=False)
    if fits_np.all():
        return np.ones(len(values), dtype=bool)
    return fits_np[encoded.indices.to_numpy(zero_copy_only=False)]
