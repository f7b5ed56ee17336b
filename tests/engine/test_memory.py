"""The CLI's allocator choice: jemalloc when pyarrow has it, and the user's choice wins."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

PROBE = ("from logsleuth.engine.memory import prefer_compact_pool; "
         "import pyarrow as pa; print(prefer_compact_pool(), pa.default_memory_pool().backend_name)")


def _probe(env_pool: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if env_pool:
        env["ARROW_DEFAULT_MEMORY_POOL"] = env_pool
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


def test_compact_pool_is_chosen_and_reported() -> None:
    chosen, actual = _probe(None)
    assert chosen == actual
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        assert chosen == "system"
    else:
        assert chosen == "jemalloc"


def test_the_users_pool_is_kept() -> None:
    assert _probe("system") == ["system", "system"]


def test_free_heap_is_released_where_glibc_is() -> None:
    import platform

    from logsleuth.engine.memory import release_free_heap

    assert release_free_heap() is (platform.libc_ver()[0] == "glibc")


TRIM_PROBE = """
import numpy as np, os
from logsleuth.engine.memory import release_free_heap

def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

blocks = [np.ones(8192) for _ in range(3200)]  # 64 KiB each: from the heap, not mmap
pin = np.ones(8192)  # allocated last: the top of the heap stays in use
del blocks  # ~200 MiB free inside the heap, which free() alone does not return
before = rss()
released = release_free_heap()
print(released, (before - rss()) >> 20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_free_heap_pages_go_back_to_the_system() -> None:
    out = subprocess.run([sys.executable, "-c", TRIM_PROBE], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) > 100  # MiB returned
