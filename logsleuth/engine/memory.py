"""Process-wide memory settings for scans the command line runs.

pyarrow allocates with mimalloc by default, which keeps the pages of freed chunk
buffers mapped. Measured on the 1 GiB bench (two processes, 4 MiB chunks): the
scan's whole process tree peaks at 289-298 MiB PSS with mimalloc, 256-258 MiB
with the system allocator and 243-252 MiB with jemalloc, at the same speed.
"""

from __future__ import annotations

import ctypes
import os
import sys

import pyarrow as pa


def prefer_compact_pool() -> str:
    """Allocate Arrow buffers with jemalloc (else the system allocator); returns the backend.

    A choice made through ``ARROW_DEFAULT_MEMORY_POOL`` is left alone. Buffers keep
    the pool they came from, so switching is safe at any time; the CLI does it
    before a command runs, and notebooks may set the variable themselves.
    """
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        for make in (pa.jemalloc_memory_pool, pa.system_memory_pool):
            try:
                pa.set_memory_pool(make())
                break
            except NotImplementedError:  # pyarrow built without jemalloc
                continue
    return pa.default_memory_pool().backend_name


def release_free_heap() -> bool:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``); False
    where there is no such call.

    Why: after the partials of every unit are unpickled and merged, glibc keeps the
    freed blocks mapped (its mmap threshold rises after large frees), so the
    incident analysis starts from that high-water mark. One trim costs milliseconds;
    holding the thresholds low instead (``mallopt``) cost +12-15 % CPU on the 1 GiB
    scan (every large temporary array page-faults afresh).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl and others
        return False
    return bool(trim(0))
