"""Generate a log4j2 application log shaped like the netty direct-memory incident.

Usage: ``python bench/gen_incident_log.py --size 1GiB --out bench/data/incident.log [--seed N]``

Layout ``%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n``. The first
70 % of the bytes is websocket traffic (connects, pushes, heartbeats, disconnects)
arriving in campaign bursts of several hundred records per second separated by quiet
stretches, so a 1 GiB file spans about two days; a monitor line every second reports
``netty_direct_memory`` growing by exactly 256 B per logged disconnect; rare
NullPointerExceptions in ``PacketEncoder.encodePacket``. The last 30 % is a flood of
ERROR records carrying ``OutOfDirectMemoryError`` stack traces.

Random draws are made per block with numpy (deterministic for a seed); the per-record
Python work is one string concatenation. Output streams to disk in ~8 MB writes, and
a ``<out>.json`` manifest records the true counts for the benchmark and the tests.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import numpy as np
from incident_traces import npe_in_encoder, oom_direct, oom_message, oom_wrapped

LAYOUT = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n"
START = datetime(2020, 4, 14, 0, 0, 0, tzinfo=UTC)
MONITOR_BASE_BYTES = 16384 * 1024
LEAK_PER_DISCONNECT = 256
FLOOD_SHARE = 0.30
SPAN_AT_1GIB_S = 2 * 86400  # the whole span scales with --size
BURST_RATE = (200, 700)  # records/s during a push campaign
QUIET_RATE = 3.0  # records/s between campaigns
BURST_MEAN_S = 300.0
FLOOD_RATE = 600.0  # OOM records/s once direct memory is exhausted
TARGET_SESSIONS = 2000
FLUSH_CHARS = 8 << 20
AVG_RECORD_BYTES = 143.0  # used only to plan quiet stretches so the span comes out right

# Record kinds of the traffic phase, with their share of non-monitor records.
PUSH, CONN, HEARTBEAT, SLOW, NPE, BATCH, OOM, MONITOR = range(8)
_TRAFFIC_P = {PUSH: 0.66, CONN: 0.16, HEARTBEAT: 0.155, SLOW: 0.018, BATCH: 0.0069,
              NPE: 0.0001}
_FLOOD_P = {OOM: 0.97, PUSH: 0.02, CONN: 0.01}

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1000, "KB": 1000, "KIB": 1024, "KI": 1024,
          "M": 10**6, "MB": 10**6, "MIB": 1 << 20, "MI": 1 << 20,
          "G": 10**9, "GB": 10**9, "GIB": 1 << 30, "GI": 1 << 30,
          "T": 10**12, "TB": 10**12, "TIB": 1 << 40, "TI": 1 << 40}


def parse_size(text: str) -> int:
    """``1GiB`` -> 1073741824, ``64MiB``, ``500MB``, ``1048576``."""
    m = _SIZE_RE.match(text)
    unit = (m.group(2) or "").upper() if m else None
    if m is None or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (use e.g. 64MiB, 1GiB)")
    return int(float(m.group(1)) * _UNITS[unit])


@dataclass(slots=True)
class Manifest:
    """True counts of what was written; the benchmark checks tools against these."""

    path: str
    seed: int
    size_requested: int
    bytes: int = 0
    lines: int = 0
    records: int = 0
    monitor_records: int = 0
    connects: int = 0
    disconnects: int = 0
    npe_records: int = 0
    oom_records: int = 0
    flood_start_line: int = 0
    flood_start_byte: int = 0
    first_ts: str = ""
    first_oom_ts: str = ""  # log time of the first OOM record: when the gauge ran out
    leak_start_ts: str = ""  # with a LeakPlan: the first record of the growth
    ceiling: int = 0  # with a LeakPlan: the stated direct-memory ceiling (bytes)
    last_ts: str = ""
    layout: str = LAYOUT


@dataclass(frozen=True, slots=True)
class LeakPlan:
    """A leak that starts late and ends at a stated ceiling (the watch benchmark's lead
    time): the gauge stays at its base until ``start_s`` of log time, then grows
    ``per_disconnect`` bytes per logged disconnect; the flood of OOM traces begins when it
    reaches ``ceiling`` and lasts ``flood_bytes``. The ceiling is stated on the first line,
    as netty's DEBUG startup line prints it. Without a plan the leak runs from the start
    and the flood is the last 30 % of the bytes (the scan benchmark's log)."""

    per_disconnect: int = LEAK_PER_DISCONNECT
    start_s: float = 0.0
    ceiling: int | None = None
    flood_bytes: int = 4 << 20


class _Writer:
    """Buffers record strings and writes them in large chunks; counts bytes and lines."""

    def __init__(self, fh: TextIO) -> None:
        self.fh = fh
        self.parts: list[str] = []
        self.pending = 0
        self.written = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pending += len(text)
        if self.pending >= FLUSH_CHARS:
            self.flush()

    @property
    def total(self) -> int:
        return self.written + self.pending

    def flush(self) -> None:
        self.fh.write("".join(self.parts))
        self.parts.clear()
        self.written += self.pending
        self.pending = 0


class _Generator:
    """One run: the random stream, live sessions and counters for a single file."""

    def __init__(self, size: int, seed: int, span_s: float, writer: _Writer, m: Manifest,
                 leak: LeakPlan | None = None):
        self.leak = leak or LeakPlan()
        self.leaked = 0  # disconnects since the leak began
        self.rng = np.random.default_rng(seed)
        self.size = size
        self.w = writer
        self.m = m
        # the file is a slice of a running service: sessions opened before it are live
        self.sessions = [f"{x:016x}" for x in
                         self.rng.integers(0, 1 << 64, TARGET_SESSIONS, dtype=np.uint64).tolist()]
        self.msg_id = 1_000_000
        self.ms = [f"{i:03d}" for i in range(1000)]
        self.t = 0  # seconds since START
        self.phase_end = 0.0
        self.phase_rate = QUIET_RATE
        self.burst = True  # toggled at t=0: the log opens on a quiet stretch
        self.quiet_mean = self._plan_quiet(size * (1 - FLOOD_SHARE), span_s)
        c = self.leak.ceiling
        self.oom = ((oom_direct(), oom_wrapped()) if c is None
                    else (oom_direct(oom_message(c)), oom_wrapped(oom_message(c))))
        self.npe = npe_in_encoder()

    @staticmethod
    def _plan_quiet(budget: float, span_s: float) -> float:
        """Mean quiet stretch so bursts plus quiet fill ``span_s`` with ``budget`` bytes."""
        n = budget / AVG_RECORD_BYTES
        burst = BURST_MEAN_S * sum(BURST_RATE) / 2
        quiet_rate = QUIET_RATE + 1  # the monitor line
        denom = n - span_s * quiet_rate
        if denom <= 0:
            return BURST_MEAN_S
        return max(BURST_MEAN_S * (span_s * burst / BURST_MEAN_S - n) / denom, 1.0)

    def _rates(self, seconds: int) -> np.ndarray:
        """Per-second record rates for the next ``seconds``, alternating quiet and bursts."""
        out = np.empty(seconds)
        for i in range(seconds):
            if self.t + i >= self.phase_end:
                self.burst = not self.burst
                mean = BURST_MEAN_S if self.burst else self.quiet_mean
                self.phase_end = self.t + i + max(30.0, self.rng.gamma(4.0, mean / 4))
                self.phase_rate = (float(self.rng.uniform(*BURST_RATE)) if self.burst
                                   else QUIET_RATE)
            out[i] = self.phase_rate
        return out

    def _stamp(self, second: int) -> str:
        return (START + timedelta(seconds=second)).strftime("%Y-%m-%d %H:%M:%S.")

    def _block(self, rates: np.ndarray, probs: dict[int, float]) -> tuple[list[int], ...]:
        """Draw one block: per record its second offset, millisecond and kind, in time order."""
        rng = self.rng
        counts = rng.poisson(rates)
        n = int(counts.sum())
        sec = np.repeat(np.arange(len(rates)), counts)
        kinds = np.array(list(probs))
        p = np.array(list(probs.values()))
        kind = kinds[np.searchsorted(np.cumsum(p) / p.sum(), rng.random(n), side="right")]
        # one monitor line per second, at a fixed phase of the reporting schedule
        sec = np.concatenate([sec, np.arange(len(rates))])
        kind = np.concatenate([kind, np.full(len(rates), MONITOR)])
        ms = np.concatenate([rng.integers(0, 1000, n), 250 + rng.integers(0, 3, len(rates))])
        order = np.argsort(sec * 1000 + ms, kind="stable")
        return sec[order].tolist(), ms[order].tolist(), kind[order].tolist()

    def _rare(self, k: int, ts: str, sid: str, nio: int, pool: int, nbytes: int,
              rand: int) -> str:
        """Text of the records that are too rare to matter for speed: errors and warnings."""
        m = self.m
        if k == OOM:
            m.oom_records += 1
            if rand % 5 < 3:
                return (f"{ts} ERROR [nioEventLoopGroup-3-{nio}] com.example.push.PushService"
                        f" - Failed to push message id={self.msg_id} to sessionId={sid}\n"
                        f"{self.oom[0]}")
            return (f"{ts} ERROR [nioEventLoopGroup-3-{nio}] "
                    "com.example.push.WebSocketServerHandler - Unexpected exception in channel "
                    f"[id: 0x{rand & 0xFFFFFFFF:08x}, L:/10.0.3.17:8080 - "
                    f"R:/203.0.113.{nbytes % 250 + 1}:{rand % 28000 + 32768}]\n{self.oom[1]}")
        if k == SLOW:
            return (f"{ts} WARN  [nioEventLoopGroup-3-{nio}] com.example.push.PushService"
                    f" - Slow consumer sessionId={sid} pending={nbytes // 16} messages\n")
        if k == BATCH:
            return (f"{ts} INFO  [pool-2-thread-{pool}] com.example.push.Campaigns"
                    f" - Campaign batch delivered: recipients={nbytes} failed={nio - 1}\n")
        m.npe_records += 1
        return (f"{ts} ERROR [nioEventLoopGroup-3-{nio}] com.example.push.PushService"
                f" - Failed to encode packet for sessionId={sid}\n{self.npe}")

    def run(self, flood: bool, stop_at: int, block_s: int) -> None:
        """Emit records until ``stop_at`` bytes are written; flood=False is the traffic phase."""
        rng, w, m, sessions, ms_s = self.rng, self.w, self.m, self.sessions, self.ms
        probs = _FLOOD_P if flood else _TRAFFIC_P
        ceiling = self.leak.ceiling
        while True:
            rates = np.full(block_s, FLOOD_RATE) if flood else self._rates(block_s)
            secs, mss, kinds = self._block(rates, probs)
            n = len(kinds)
            u = rng.random(n).tolist()
            hexes = rng.integers(0, 1 << 64, n, dtype=np.uint64).tolist()
            nio = rng.integers(1, 9, n).tolist()
            pool = rng.integers(1, 17, n).tolist()
            nbytes = rng.integers(48, 4096, n).tolist()
            stamps = [self._stamp(self.t + s) for s in range(block_s)]
            for i in range(n):
                k = kinds[i]
                ts = stamps[secs[i]] + ms_s[mss[i]]
                if k == MONITOR:
                    used = MONITOR_BASE_BYTES + self.leak.per_disconnect * self.leaked
                    if ceiling is not None:
                        used = min(used, ceiling)
                    text = (f"{ts} INFO  [pool-1-thread-1] com.example.push.DirectMemoryReporter"
                            f" - netty_direct_memory: {used // 1024}k\n")
                    m.monitor_records += 1
                elif not sessions or k == CONN:
                    n_live = len(sessions)
                    p_connect = min(0.95, max(0.05, 1.5 - n_live / TARGET_SESSIONS))
                    if n_live and u[i] >= p_connect:
                        j = hexes[i] % n_live
                        sid = sessions[j]
                        sessions[j] = sessions[-1]
                        sessions.pop()
                        m.disconnects += 1
                        if self.t + secs[i] >= self.leak.start_s:
                            self.leaked += 1
                            if not m.leak_start_ts:
                                m.leak_start_ts = ts
                        what = "Client disconnected"
                    else:
                        sid = f"{hexes[i]:016x}"
                        sessions.append(sid)
                        m.connects += 1
                        what = "Client connected"
                    text = (f"{ts} INFO  [nioEventLoopGroup-3-{nio[i]}] "
                            f"com.example.push.WebSocketServerHandler - {what}: sessionId={sid}\n")
                else:
                    sid = sessions[int(u[i] * len(sessions))]
                    self.msg_id += 1
                    if k == PUSH:
                        text = (f"{ts} DEBUG [pool-2-thread-{pool[i]}] com.example.push.PushService"
                                f" - Pushed message id={self.msg_id} to sessionId={sid}"
                                f" bytes={nbytes[i]}\n")
                    elif k == HEARTBEAT:
                        text = (f"{ts} DEBUG [nioEventLoopGroup-3-{nio[i]}] "
                                "com.example.push.HeartbeatHandler - Heartbeat from "
                                f"sessionId={sid}\n")
                    else:
                        text = self._rare(k, ts, sid, nio[i], pool[i], nbytes[i], hexes[i])
                if k == OOM and not m.first_oom_ts:
                    m.first_oom_ts = ts
                m.records += 1
                m.lines += text.count("\n") if k in (OOM, NPE) else 1
                if not m.first_ts:
                    m.first_ts = ts
                m.last_ts = ts
                w.add(text)
                if w.total >= stop_at or (k == MONITOR and not flood and ceiling is not None
                                          and used >= ceiling):
                    self.t += secs[i] + 1
                    return
            self.t += block_s


def generate(out: Path, size: int, seed: int = 1, span_s: float | None = None,
             leak: LeakPlan | None = None) -> Manifest:
    """Write the incident log to ``out`` and its manifest to ``out.json``; return the manifest.

    With a ``leak`` plan that has a ceiling, the traffic phase ends when the gauge
    reaches it (``size`` only bounds it) and the flood lasts ``leak.flood_bytes``.
    """
    if span_s is None:
        span_s = SPAN_AT_1GIB_S * size / (1 << 30)
    out.parent.mkdir(parents=True, exist_ok=True)
    m = Manifest(path=str(out), seed=seed, size_requested=size)
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="ascii", newline="\n", buffering=1 << 20) as fh:
        w = _Writer(fh)
        g = _Generator(size, seed, span_s, w, m, leak)
        ceiling = None if leak is None else leak.ceiling
        if ceiling is not None:
            m.ceiling = ceiling
            w.add(f"{g._stamp(0)}000 DEBUG [main] io.netty.util.internal.PlatformDependent"
                  f" - -Dio.netty.maxDirectMemory: {ceiling} bytes\n")
            m.records += 1
            m.lines += 1
            m.first_ts = f"{g._stamp(0)}000"
        g.run(flood=False, stop_at=int(size * (1 - FLOOD_SHARE)) if ceiling is None else size,
              block_s=60)
        w.flush()
        m.flood_start_byte = w.written
        m.flood_start_line = m.lines + 1
        g.run(flood=True, stop_at=size if leak is None or ceiling is None
              else w.total + leak.flood_bytes, block_s=5)
        w.flush()
        m.bytes = w.written
    tmp.replace(out)
    Path(str(out) + ".json").write_text(json.dumps(asdict(m), indent=2) + "\n")
    return m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="64MiB", help="target size, e.g. 1MiB, 64MiB, 1GiB")
    ap.add_argument("--out", type=Path, default=Path("bench/data/incident.log"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--span-hours", type=float, default=None,
                    help="time covered by the traffic phase (default: 48 h per GiB)")
    args = ap.parse_args(argv)
    try:
        size = parse_size(args.size)
    except ValueError as exc:
        ap.error(str(exc))
    span = None if args.span_hours is None else args.span_hours * 3600
    m = generate(args.out, size, args.seed, span)
    print(f"{m.path}: {m.bytes} bytes, {m.records} records, {m.lines} lines, "
          f"{m.oom_records} OOM records from line {m.flood_start_line}, "
          f"{m.first_ts} .. {m.last_ts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
