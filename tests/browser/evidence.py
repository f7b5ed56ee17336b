"""A small evidence directory of a netty direct-memory incident, laced with XSS payloads.

Every payload sets ``window.__pwned`` if it ever runs. They sit where log text
reaches the report: messages, thread names, exception messages, a file name, an
nginx URL and user agent, a thread name in a dump. The incident is built the way
the scan will (``analyze_incident`` over the scan's own tables) when the scan does
not attach one itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 3, 11, 13, 0, 0, tzinfo=UTC)
LEAK_K = 1  # KiB of direct memory leaked per disconnect
MAX_BYTES = 1_048_576
PAYLOADS = (
    "</script><script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=2">',
    "<a href=\"javascript:window.__pwned=3\">click</a> onerror='window.__pwned=4'",
    "<svg onload=window.__pwned=5>\u2028\u2029&amp;",
)
APP_NAME = 'push"><img src=x onerror=window.__pwned=6>.log'
THREAD = "nio-<script>window.__pwned=7<\\script>"
NPE_MSG = "</script><script>window.__pwned=8</script>"
ONSET_OFFSET_S = 25 * 60 + 1


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # screenshots


def _ts(seconds: float) -> str:
    t = T0 + timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"


def _npe(seconds: float, session: int) -> list[str]:
    return [
        f"{_ts(seconds)} WARN  [{THREAD}] c.a.ws.GatewayHandler - failed to send packet to "
        f"session {session} {PAYLOADS[session % len(PAYLOADS)]}",
        f"io.netty.handler.codec.EncoderException: java.lang.NullPointerException: {NPE_MSG}",
        "\tat io.netty.handler.codec.MessageToByteEncoder.write(MessageToByteEncoder.java:125)",
        "\tat java.lang.Thread.run(Thread.java:748)",
        f"Caused by: java.lang.NullPointerException: {NPE_MSG}",
        "\tat com.acme.ws.PacketEncoder.encodePacket(PacketEncoder.java:88)",
        "\tat com.acme.ws.PacketEncoder.encode(PacketEncoder.java:42)",
        "\tat io.netty.handler.codec.MessageToByteEncoder.write(MessageToByteEncoder.java:107)",
        "\t... 1 more",
    ]


def _oom(seconds: float) -> list[str]:
    return [
        f"{_ts(seconds)} ERROR [nioEventLoopGroup-3-1] c.a.ws.GatewayHandler - Unhandled "
        f"exception {PAYLOADS[0]}",
        "io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 64 byte(s) of direct "
        f"memory (used: {MAX_BYTES - 32}, max: {MAX_BYTES})",
        "\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter"
        "(PlatformDependent.java:742)",
        "\tat io.netty.util.internal.PlatformDependent.allocateDirectNoCleaner"
        "(PlatformDependent.java:697)",
        "\tat io.netty.buffer.PoolArena$DirectArena.allocateDirect(PoolArena.java:758)",
    ]


def write_app_log(path: Path) -> int:
    """26 minutes of a websocket service that leaks 1 KiB per disconnect; returns records."""
    lines: list[str] = []
    records = 0
    disconnects = 0
    for s in range(0, 26 * 60, 2):
        lines.append(f"{_ts(s)} INFO  [nioEventLoopGroup-3-2] c.a.ws.GatewayHandler - Client "
                     f"connected session {s}")
        records += 1
        if s % 10 == 0:  # the monitor sees the disconnects logged before it
            used = min(disconnects * LEAK_K, MAX_BYTES // 1024 - 1)
            lines.append(f"{_ts(s + 0.25)} INFO  [monitor] c.a.ws.Monitor - netty_direct_memory: "
                         f"{used}k")
            records += 1
        if s % 6 == 0 and s < ONSET_OFFSET_S:
            disconnects += 1
            lines += _npe(s + 0.5, s)
            records += 1
        if s >= ONSET_OFFSET_S - 1:
            lines += _oom(s + 1)
            records += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return records


def write_gc_log(path: Path) -> int:
    """Young pauses every 30 s, then full GCs every 5 s in the last five minutes."""
    out = ["[2024-03-11T13:00:00.001+0000][1][gc] Using G1"]
    gc_id = 0
    rng = np.random.default_rng(3)
    for s in range(10, 26 * 60, 5):
        storm = s >= ONSET_OFFSET_S - 300
        if not storm and s % 30:
            continue
        t = (T0 + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        if storm:
            line = (f"[{t}][1][gc] GC({gc_id}) Pause Full (System.gc()) 200M->190M(256M) "
                    f"{rng.uniform(300, 600):.3f}ms")
        else:
            line = (f"[{t}][1][gc] GC({gc_id}) Pause Young (Normal) (G1 Evacuation Pause) "
                    f"60M->20M(256M) {rng.uniform(2, 9):.3f}ms")
        out.append(line)
        gc_id += 1
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return gc_id


def write_nginx_log(path: Path) -> int:
    """One websocket upgrade per 2 s; 502s once the service is out of direct memory."""
    out = []
    for s in range(0, 26 * 60, 2):
        t = (T0 + timedelta(seconds=s)).strftime("%d/%b/%Y:%H:%M:%S +0000")
        status = 502 if s > ONSET_OFFSET_S else 101
        out.append(f'10.0.0.{s % 250} - - [{t}] "GET /ws?q={PAYLOADS[s % 4].replace(chr(34), "")}'
                   f' HTTP/1.1" {status} 0 "-" "Mozilla \\"{PAYLOADS[1].replace(chr(34), "")}"')
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out)


def write_dump(path: Path, minute: int) -> None:
    """A real JDK 17 jstack dump, re-dated, one thread renamed to a payload."""
    text = (REPO / "tests/data/dumps/jstack-contention.txt").read_text()
    _, rest = text.split("\n", 1)
    when = (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:%S")
    rest = rest.replace('"main" #1', f'"{PAYLOADS[0]}" #1', 1)
    path.write_text(f"{when}\n{rest}", encoding="utf-8")


def write_evidence(root: Path) -> dict[str, int]:
    """The whole directory; returns counts the tests check the report against."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nginx").mkdir(exist_ok=True)
    counts = {"app_records": write_app_log(root / APP_NAME),
              "gc_events": write_gc_log(root / "gc.log"),
              "http": write_nginx_log(root / "nginx" / "access.log")}
    write_dump(root / "jstack-1.txt", 24)
    write_dump(root / "jstack-2.txt", 25)
    return counts


def scan_with_incident(root: Path, **kwargs: object):  # -> ScanResult
    """``logsleuth.scan`` of the evidence; the scan itself must find the incident."""
    import logsleuth

    result = logsleuth.scan(root, **kwargs)
    assert result.incident is not None, "the evidence holds an OOM flood: expected an incident"
    return result
