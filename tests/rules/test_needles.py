"""Every needle engine marks exactly the records a per-record substring test marks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from logsleuth.rules.needles import ENGINES, NeedleMatcher

NEEDLES = ["OutOfDirectMemoryError", "PlatformDependent.incrementMemoryCounter", '" 5', "Full GC"]


def records(seed: int, n: int = 400) -> list[bytes]:
    rng = np.random.default_rng(seed)
    words = [b"INFO", b"client", b"Out", b"OfDirect", b"MemoryError", b"Full", b"GC", b'"',
             b" 5", b"PlatformDependent.", b"incrementMemoryCounter", b"\tat x.y(Z.java:1)"]
    out = []
    for _ in range(n):
        k = rng.integers(1, 8)
        parts = [words[i] for i in rng.integers(0, len(words), k)]
        if rng.random() < 0.2:  # a needle at the very start or end of the record
            needle = NEEDLES[rng.integers(0, len(NEEDLES))].encode()
            parts = [needle, *parts] if rng.random() < 0.5 else [*parts, needle]
        out.append(b" ".join(parts) + (b"\n\tat a.B.c(B.java:2)" if rng.random() < 0.3 else b"")
                   + b"\n")
    return out


def zero_copy(recs: list[bytes], skip: int) -> pa.Array:
    """Records as the engine sees them: spans of one buffer, not starting at its start."""
    buf = b"garbage that is no record\n" * skip + b"".join(recs)
    offsets = np.cumsum([len(b"garbage that is no record\n") * skip] + [len(r) for r in recs])
    return pa.Array.from_buffers(pa.large_binary(), len(recs),
                                 [None, pa.py_buffer(offsets.astype(np.int64)), pa.py_buffer(buf)])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engine_agrees_with_substring_test(engine: str, seed: int) -> None:
    recs = records(seed)
    expected = np.array([any(n.encode() in r for n in NEEDLES) for r in recs])
    matcher = NeedleMatcher(NEEDLES, engine=engine)
    got = matcher.mask(zero_copy(recs, skip=seed))
    assert expected.sum() > 50 and (~expected).sum() > 50
    assert got.tolist() == expected.tolist()


def test_needle_with_newline_falls_back_to_per_record_regex() -> None:
    m = NeedleMatcher(["a\nb"])
    assert m.engine == "regex"
    got = m.mask(zero_copy([b"xa\n", b"bx\n", b"a\nb\n"], skip=0))
    assert got.tolist() == [False, False, True]


NESTED = ["OutOfDirectMemoryError", "util.internal.OutOfDirectMemoryError", "GC", "Full GC",
          "PlatformDependent.incrementMemoryCounter"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", [4, 5])
def test_rows_per_needle_when_needles_hold_each_other(engine: str, seed: int) -> None:
    """Needles holding a shorter needle are found among that one's rows, not searched
    for in the buffer: each needle still gets exactly the records holding it."""
    rng = np.random.default_rng(seed)
    recs = [r.replace(b"OutOfDirect", b"util.internal.OutOfDirect") if rng.random() < 0.5 else r
            for r in records(seed, n=2000)]
    matcher = NeedleMatcher(NESTED, engine=engine)
    got = matcher.rows_by_needle(zero_copy(recs, skip=seed))
    for needle in NESTED:
        expected = [i for i, r in enumerate(recs) if needle.encode() in r]
        assert len(expected) > 10, needle
        assert got[needle].tolist() == expected, needle
    only_long = [i for i, r in enumerate(recs) if b"util.internal.OutOfDirectMemoryError" in r]
    assert len(only_long) < len(got["OutOfDirectMemoryError"])
