"""Evidence files for the sources tests, written the way JVM hosts write them."""

from __future__ import annotations

import pytest

_TRACE = (
    "io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 64 byte(s) of direct "
    "memory (used: {used}, max: 1073741824)\n"
    "\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter"
    "(PlatformDependent.java:754) ~[netty-all-4.1.48.Final.jar:4.1.48.Final]\n"
    "\tat io.netty.buffer.PoolArena$DirectArena.newChunk(PoolArena.java:758)\n"
)


def make_log(records: int, start_second: int = 0) -> bytes:
    """A log4j2-style app log; every 7th record carries a stack trace."""
    out = []
    for i in range(records):
        s = start_second + i
        ts = f"2026-11-26 {s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{i % 1000:03d}"
        if i % 7 == 3:
            out.append(f"{ts} ERROR [nioEventLoopGroup-3-{i % 8}] i.n.c.DefaultChannelPipeline"
                       f" - exception caught\n" + _TRACE.format(used=1024 * i))
        else:
            out.append(f"{ts} INFO  [nioEventLoopGroup-3-{i % 8}] c.e.push.WsHandler - client"
                       f" {i * 7919 % 100000} disconnected after {i * 31 % 9999} ms\n")
    return "".join(out).encode()


@pytest.fixture(scope="session")
def app_log() -> bytes:
    return make_log(3000)
