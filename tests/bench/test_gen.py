"""The benchmark's incident log must look like what log4j2 writes and tell the incident's story.

The generator runs as its real CLI into a temporary directory; the checks below parse
the file independently of the generator's code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

GEN = Path(__file__).resolve().parents[2] / "bench" / "gen_incident_log.py"
SIZE = 1 << 20

HEADER = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) "
    r"\[([^\]]+)\] ([\w.$]+) - (.*)$"
)
CONTINUATION = re.compile(
    r"^(?:\tat [\w.$]+\.[\w$<>]+\(\w+\.java:\d+\) ~?\[[^\]]+:[^\]]+\]"
    r"|Caused by: [\w.$]+(?:: .*)?"
    r"|\t\.\.\. \d+ more"
    r"|[a-z][\w.$]*\.[A-Z][\w$]*(?:: .*)?)$"
)
MONITOR = re.compile(r"netty_direct_memory: (\d+)k$")
OOM = "io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 64 byte(s) of direct "


def _generate(out: Path, seed: int = 7) -> dict:
    subprocess.run([sys.executable, str(GEN), "--size", "1MiB", "--seed", str(seed),
                    "--out", str(out)], check=True, capture_output=True)
    return json.loads(Path(f"{out}.json").read_text())


def _records(path: Path) -> list[tuple[int, list[str]]]:
    """(byte offset, lines) per record; fails on any line that is neither header nor trace."""
    records: list[tuple[int, list[str]]] = []
    offset = 0
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            line = raw.decode("ascii").rstrip("\n")
            if HEADER.match(line):
                records.append((offset, [line]))
            else:
                assert records, f"line {n} precedes the first header: {line!r}"
                assert CONTINUATION.match(line), f"line {n} is not a trace line: {line!r}"
                records[-1][1].append(line)
            offset += len(raw)
    return records


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen") / "incident.log"
    return out, _generate(out)


def test_size_and_layout(generated: tuple[Path, dict]) -> None:
    path, manifest = generated
    size = path.stat().st_size
    # one record past the budget at most: a flood record is ~4 KB
    assert SIZE <= size < SIZE + 8192
    records = _records(path)
    assert len(records) == manifest["records"]
    stamps = [HEADER.match(lines[0]).group(1) for _, lines in records]
    assert stamps == sorted(stamps), "timestamps go backwards"
    threads = {HEADER.match(lines[0]).group(3).rsplit("-", 1)[0] for _, lines in records}
    assert {"nioEventLoopGroup-3", "pool-2-thread"} <= threads
    levels = {HEADER.match(lines[0]).group(2) for _, lines in records}
    assert {"INFO ", "DEBUG", "ERROR"} <= levels


def test_flood_is_the_final_thirty_percent(generated: tuple[Path, dict]) -> None:
    path, manifest = generated
    size = path.stat().st_size
    records = _records(path)
    oom_at = [i for i, (_, lines) in enumerate(records) if any(OOM in x for x in lines)]
    assert len(oom_at) == manifest["oom_records"] > 50
    first = records[oom_at[0]][0]
    assert 0.69 <= first / size <= 0.71
    # after the onset, OOM records are the bulk of the bytes (monitor and stray traffic aside)
    ends = [off for off, _ in records[1:]] + [size]
    oom_bytes = sum(ends[i] - records[i][0] for i in oom_at)
    assert 0.28 <= oom_bytes / size <= 0.31
    assert all(records[i][1][0][24:29] == "ERROR" for i in oom_at)


def test_oom_trace_shape(generated: tuple[Path, dict]) -> None:
    path, _ = generated
    traces = [lines for _, lines in _records(path) if any(OOM in x for x in lines)]
    wrapped = [t for t in traces if t[1].startswith("io.netty.handler.codec.EncoderException")]
    direct = [t for t in traces if t[1].startswith("io.netty.util.internal.OutOfDirect")]
    assert wrapped and direct and len(wrapped) + len(direct) == len(traces)
    for t in (direct[0], wrapped[0]):
        frames = [x for x in t if x.startswith("\tat ")]
        assert 25 <= len(frames) <= 35
        assert any("PooledByteBufAllocator.newDirectBuffer" in f for f in frames)
        assert any("io.netty.channel.nio.NioEventLoop.run" in f for f in frames)
        # the outermost throwable's frames end at the thread's run(), the only JDK frame
        outer = frames[:frames.index(next(f for f in frames if "Thread.run" in f)) + 1]
        assert outer[-1] == "\tat java.lang.Thread.run(Thread.java:748) [?:1.8.0_242]"
        assert all(f.endswith("~[netty-all-4.1.48.Final.jar:4.1.48.Final]")
                   for f in frames if f is not outer[-1])
    inner = wrapped[0][wrapped[0].index(next(x for x in wrapped[0] if x.startswith("Caused")))
                       + 1]
    assert inner == ("\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter"
                     "(PlatformDependent.java:754) ~[netty-all-4.1.48.Final.jar:4.1.48.Final]")
    assert direct[0][2] == inner
    assert wrapped[0][-1].startswith("\t... ") and wrapped[0][-1].endswith(" more")


def test_monitor_grows_256_bytes_per_disconnect(generated: tuple[Path, dict]) -> None:
    path, manifest = generated
    disconnects = 0
    values: list[int] = []
    for _, lines in _records(path):
        header = lines[0]
        if "Client disconnected: sessionId=" in header:
            disconnects += 1
        elif m := MONITOR.search(header):
            expected_bytes = 16384 * 1024 + 256 * disconnects
            assert int(m.group(1)) == expected_bytes // 1024, header
            values.append(int(m.group(1)))
    assert disconnects == manifest["disconnects"] >= 20
    assert values[0] >= 16384 and values[-1] > values[0]
    # one monitor line per second of log time
    assert len(values) == manifest["monitor_records"] > 10


def test_same_seed_same_bytes(tmp_path: Path, generated: tuple[Path, dict]) -> None:
    path, _ = generated
    again = tmp_path / "again.log"
    other = tmp_path / "other.log"
    _generate(again, seed=7)
    _generate(other, seed=8)
    assert again.read_bytes() == path.read_bytes()
    assert other.read_bytes() != path.read_bytes()
