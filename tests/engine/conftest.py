from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n"

TRACE = (
    "io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 64 byte(s) of direct memory"
    " (used: {used}, max: 4194304)\n"
    "\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter(PlatformDependent.java:754)"
    " ~[netty-all-4.1.48.Final.jar:4.1.48.Final]\n"
    "\tat io.netty.buffer.PoolArena.allocate(PoolArena.java:147) ~[netty-all-4.1.48.Final.jar:4.1.48.Final]\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:833) [?:?]\n"
)


def make_app_lines(n: int, *, start_second: int = 0, trace_every: int = 0) -> str:
    """n records, one per second; every trace_every-th record carries a netty OOM trace."""
    out = []
    for i in range(n):
        s = start_second + i
        ts = f"2026-11-26 {s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{i % 1000:03d}"
        if trace_every and i % trace_every == trace_every - 1:
            out.append(f"{ts} ERROR [nioEventLoopGroup-3-{i % 4}] io.netty.channel.DefaultChannelPipeline"
                       f" - exceptionCaught\n" + TRACE.format(used=4194240 - i))
        else:
            out.append(f"{ts} INFO  [nioEventLoopGroup-3-{i % 4}] com.example.push.SessionHandler"
                       f" - Client disconnected: sessionId={i:016x}\n")
    return "".join(out)


@pytest.fixture
def write(tmp_path: Path):
    def _write(name: str, data: str | bytes) -> Path:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return p

    return _write


@pytest.fixture
def app_lines():
    return make_app_lines


@pytest.fixture
def pattern() -> str:
    return PATTERN


_BUILTIN_LAYOUTS = Path(__import__("logsleuth.layouts", fromlist=["x"]).__file__).parent / "builtin"


@pytest.fixture
def layout_samples() -> Callable[[str], list[str]]:
    """The sample lines a built-in layout ships with, by layout name."""
    def samples(name: str) -> list[str]:
        for path in _BUILTIN_LAYOUTS.glob("*.yaml"):
            data = yaml.safe_load(path.read_text())
            if data.get("name") == name:
                return [s if isinstance(s, str) else s["line"] for s in data["samples"]]
        raise AssertionError(f"no yaml for {name}")
    return samples
