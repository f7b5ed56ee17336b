"""Line boundaries of a byte buffer, vectorised: the first step of every parser."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def line_offsets(raw: np.ndarray, *, final: bool = True,
                 scratch: np.ndarray | None = None) -> np.ndarray:
    """int64 offsets (n_lines + 1) of the lines of ``raw``; each line keeps its ``\\n``.

    A last line without a newline counts only when ``final`` (otherwise the caller
    carries it to the next chunk). ``scratch``: a reused bool buffer of at least
    ``len(raw)`` (fresh memory is costly on hot paths).
    """
    n = len(raw)
    mask = np.equal(raw, 10, out=None if scratch is None else scratch[:n])
    nl = np.flatnonzero(mask)
    trailing = final and n > 0 and (len(nl) == 0 or nl[-1] != n - 1)
    offsets = np.empty(len(nl) + 1 + int(trailing), dtype=np.int64)
    offsets[0] = 0
    offsets[1 : len(nl) + 1] = nl + 1
    if trailing:
        offsets[-1] = n
    return offsets


def lines_array(data: object, offsets: np.ndarray) -> pa.Array:
    """The lines as a zero-copy Arrow ``large_binary`` array over ``data``."""
    return pa.Array.from_buffers(pa.large_binary(), len(offsets) - 1,
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])
