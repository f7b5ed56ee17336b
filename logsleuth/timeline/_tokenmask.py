"""First masking tier: every token that contains a digit becomes one marker byte.

Why: regex replacement over every message costs ~10 ns/byte in RE2 because most
messages hold many numbers, ids and addresses. This pass works on the Arrow
string buffer with numpy, in blocks of about 256 KB reusing scratch buffers (fresh
pages are expensive here), and collapses ids, addresses, hex and numbers (the
tokens Drain calls ``has_numbers``) to ``MARK``. The named regex steps then run
only on the few distinct results.

A token is a run of bytes >= ``-`` (0x2d) except ``/ = [ ]``; so
``10.0.0.1:8080``, ``0x1f``, ``Thread-12`` and UUIDs are single tokens.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

MARK = "\x01"
_SEPARATORS = (47, 61, 91, 93)  # / = [ ]
# byte class in one C-speed bytes.translate pass: 0 separator, 1 word byte, 2 digit
_CLASS = bytes(0 if b < 45 or b in _SEPARATORS else 2 if 48 <= b <= 57 else 1
               for b in range(256))
DEFAULT_BLOCK = 1 << 18
_LOCAL = threading.local()


class Scratch:
    """Reusable per-block buffers (sized for ``block`` bytes)."""

    __slots__ = ("block", "delta", "digit", "digit_cum", "end", "inside", "keep", "out", "start",
                 "tmp", "word")

    def __init__(self, block: int = DEFAULT_BLOCK) -> None:
        self._alloc(block)

    def ensure(self, size: int) -> None:
        """Grow the buffers when one block (a single huge message) needs more room."""
        if size > self.block:
            self._alloc(size)

    def _alloc(self, block: int) -> None:
        self.block = block
        self.word = np.empty(block + 1, dtype=bool)
        self.digit = np.empty(block, dtype=bool)
        self.start = np.empty(block, dtype=bool)
        self.end = np.empty(block, dtype=bool)
        self.tmp = np.empty(block, dtype=bool)
        self.digit_cum = np.empty(block + 1, dtype=np.int32)
        self.delta = np.empty(block + 1, dtype=np.int8)
        self.inside = np.empty(block, dtype=np.int8)
        self.keep = np.empty(block, dtype=bool)
        self.out = np.empty(block, dtype=np.uint8)


def thread_scratch() -> Scratch:
    """This thread's scratch buffers (~3 MiB), shared by every miner it runs.

    One per miner was kept as long as the miner: a scan of many inputs holds one
    merged miner per input in the parent (40 for the ``publicmix`` bench, ~100 MiB
    of scratch at the start of the analysis). Blocks are masked and consumed one
    call at a time, so miners on one thread never use the buffers at once.
    """
    s = getattr(_LOCAL, "scratch", None)
    if s is None or s.block > DEFAULT_BLOCK:  # grown for one huge message: not reused
        s = _LOCAL.scratch = Scratch(DEFAULT_BLOCK)
    return s


def _mask_block(data: np.ndarray, rel_starts: np.ndarray, s: Scratch) -> tuple[np.ndarray,
                                                                                   np.ndarray]:
    """Masked bytes and per-message new lengths for one block of messages.

    ``rel_starts`` are the message start offsets within ``data`` (len = messages + 1).
    """
    n = len(data)
    if n == 0:  # only empty messages: nothing to mask
        return np.zeros(0, np.uint8), np.zeros(len(rel_starts) - 1, np.int64)
    word, digit, start, end = s.word[:n], s.digit[:n], s.start[:n], s.end[:n]
    cls = np.frombuffer(data.tobytes().translate(_CLASS), dtype=np.uint8)
    np.not_equal(cls, 0, out=word)
    s.word[n] = False
    np.equal(cls, 2, out=digit)
    # token starts: word byte after a non-word byte, or at a message start
    start[0] = word[0]
    np.logical_not(word[:-1], out=start[1:])
    start[1:] &= word[1:]
    ms = rel_starts[:-1]
    ms = ms[ms < n]
    start[ms] = word[ms]
    # token ends: word byte followed by a non-word byte or by a token start
    np.logical_not(s.word[1 : n + 1], out=end)
    end[:-1] |= start[1:]
    end &= word
    starts = np.flatnonzero(start)
    ends = np.flatnonzero(end)
    dc = s.digit_cum[: n + 1]
    dc[0] = 0
    np.cumsum(digit, out=dc[1:])
    masked = dc[ends + 1] - dc[starts] > 0
    ms_, me_ = starts[masked], ends[masked]
    delta = s.delta[: n + 1]
    delta.fill(0)
    delta[ms_ + 1] += 1
    delta[me_ + 1] -= 1
    inside = s.inside[:n]
    np.cumsum(delta[:n], out=inside)
    keep = s.keep[:n]
    np.equal(inside, 0, out=keep)
    gone = me_ - ms_
    removed_before = np.cumsum(gone) - gone
    out = s.out[: n - int(gone.sum())]
    np.compress(keep, data, out=out)
    # the kept first byte of each masked token becomes the marker
    out[ms_ - removed_before] = 1
    msg_of_tok = np.searchsorted(rel_starts, ms_, side="right") - 1
    removed = np.bincount(msg_of_tok, weights=gone, minlength=len(rel_starts) - 1)
    lengths = np.diff(rel_starts) - removed.astype(np.int64)
    return out, lengths


def mask_digit_tokens(arr: pa.Array, scratch: Scratch) -> Iterator[pa.Array]:
    """Tier-1 masking of a string array, block by block (nulls preserved).

    Each yielded block views ``scratch``: consume it before taking the next one.
    """
    n = len(arr)
    if n == 0:
        return
    bufs = arr.buffers()
    off_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(bufs[1], dtype=off_type)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    validity = arr.is_valid() if arr.null_count else None
    # message boundaries of ~block bytes each
    cuts = np.searchsorted(offsets, offsets[0] + np.arange(0, offsets[-1] - offsets[0],
                                                           scratch.block), side="right") - 1
    cuts = np.unique(np.concatenate([[0], cuts[1:], [n]]))
    for a, b in itertools.pairwise(cuts.tolist()):
        scratch.ensure(int(offsets[b] - offsets[a]))  # one huge message may exceed a block
        lo, hi = int(offsets[a]), int(offsets[b])
        rel = (offsets[a : b + 1] - lo).astype(np.int64)
        out, lengths = _mask_block(data[lo:hi], rel, scratch)
        new_off = np.zeros(b - a + 1, dtype=np.int64)
        np.cumsum(lengths, out=new_off[1:])
        valid_buf = None
        null_count = 0
        if validity is not None:
            v = validity.slice(a, b - a)
            null_count = v.false_count
            valid_buf = pa.array(v.to_numpy(zero_copy_only=False)).buffers()[1]
        yield pa.Array.from_buffers(
            pa.large_string(), b - a,
            [valid_buf, pa.py_buffer(new_off), pa.py_buffer(out)], null_count=null_count)
