"""A synthetic netty direct-memory incident with a known ground truth.

Clients arrive as a Poisson process whose rate follows traffic (a slow sine);
each session lasts an exponential time. Every disconnect hits the encoder NPE and
leaks exactly ``LEAK`` bytes; the direct-memory monitor samples once per second
(with jitter) the true leaked total plus pool churn noise. When the true usage
passes ``MAX - 64`` the next allocation attempt throws OutOfDirectMemoryError:
that record is the onset. Noise: connect lines, request lines, heartbeat lines
(all correlated with traffic), a traffic-independent connection-reset exception,
a GC storm five minutes before onset, a new TimeoutException three minutes
before onset, BLOCKED threads and nginx 5xx after onset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

T0 = 1_710_057_600_000  # 2024-03-10T08:00:00Z
LEAK = 256.0
BASE = 16 * 1024 * 1024
MAX = BASE + 256.0 * 17_000
NPE_FP = "java.lang.NullPointerException@WebSocketFrameEncoder.encode"
OOM_FP = "io.netty.util.internal.OutOfDirectMemoryError@PlatformDependent.incrementMemoryCounter"
RESET_FP = "java.io.IOException@SocketDispatcher.read"
TIMEOUT_FP = "java.util.concurrent.TimeoutException@RoomService.flush"
APP = "app/service.log"


@dataclass(frozen=True)
class Incident:
    records: pd.DataFrame
    metrics: pd.DataFrame
    findings: list[dict[str, object]]
    gc_events: pd.DataFrame
    thread_states: pd.DataFrame
    http_requests: pd.DataFrame
    onset_ms: int
    onset_line: int
    disconnect_ms: np.ndarray


def _poisson_times(rng: np.random.Generator, start: int, end: int, rate_per_s: float,
                   modulated: bool) -> np.ndarray:
    n = rng.poisson(rate_per_s * (end - start) / 1000 * 1.5)
    t = np.sort(rng.uniform(start, end, size=n))
    if modulated:  # thinning by a traffic curve between 0.5 and 1.5 (mean 1) of the rate
        keep = rng.uniform(0, 1.5, size=n) < 1 + 0.5 * np.sin(2 * np.pi * (t - start) / 1.2e6)
    else:
        keep = rng.uniform(0, 1.5, size=n) < 1.0
    return t[keep].astype(np.int64)


def make_incident(seed: int = 1, hours: float = 2.0, noise: float = 2048.0) -> Incident:
    rng = np.random.default_rng(seed)
    end = T0 + int(hours * 3_600_000)
    connects = _poisson_times(rng, T0, end, 3.0, modulated=True)
    disconnects = connects + rng.exponential(30_000, size=len(connects)).astype(np.int64) + 1
    disconnects = np.sort(disconnects[disconnects < end])
    # ground truth: leaked bytes after k disconnects = LEAK * k; onset at the first
    # allocation (a connect) after BASE + leak exceeds MAX - 64
    k_limit = int(np.ceil((MAX - 64 - BASE) / LEAK))
    exhausted_at = int(disconnects[k_limit]) if k_limit < len(disconnects) else end
    onset_ms = int(connects[np.searchsorted(connects, exhausted_at, side="right")])
    requests = _poisson_times(rng, T0, end, 6.0, modulated=True)
    heartbeats = _poisson_times(rng, T0, end, 1.0, modulated=True)
    resets = _poisson_times(rng, T0, end, 0.05, modulated=False)
    timeouts = np.sort(rng.integers(onset_ms - 180_000, onset_ms - 1_000, size=12))
    oom = connects[connects >= onset_ms]
    rows: list[tuple[int, str, str, str, str | None, str | None]] = []
    rows += [(int(t), "INFO", "ws.Handler", f"Client connected [id: 0x{i:08x}, L:/10.0.0.5:8080 "
              f"- R:/172.16.{i % 250}.{i % 200}:{40000 + i % 9000}]", None, None)
             for i, t in enumerate(connects)]
    rows += [(int(t), "INFO", "ws.Handler", f"Client disconnected [id: 0x{i:08x}, L:/10.0.0.5:8080 "
              f"! R:/172.16.{i % 250}.{i % 200}:{40000 + i % 9000}]", None, None)
             for i, t in enumerate(disconnects)]
    rows += [(int(t) + 1, "WARN", "io.netty.channel.ChannelOutboundBuffer",
              "Failed to encode frame", "java.lang.NullPointerException", NPE_FP)
             for t in disconnects]
    rows += [(int(t), "INFO", "api.Rooms", f"GET /api/rooms/{i % 977}/messages status=200 "
              f"took {i % 90} ms", None, None) for i, t in enumerate(requests)]
    rows += [(int(t), "DEBUG", "ws.Heartbeat", f"Heartbeat from session {i}", None, None)
             for i, t in enumerate(heartbeats)]
    rows += [(int(t), "ERROR", "ws.Handler", "Connection reset by peer", "java.io.IOException",
              RESET_FP) for t in resets]
    rows += [(int(t), "ERROR", "rooms.RoomService", "Flush timed out after 5000 ms",
              "java.util.concurrent.TimeoutException", TIMEOUT_FP) for t in timeouts]
    rows += [(int(t), "ERROR", "io.netty.util.internal.PlatformDependent",
              f"failed to allocate 64 byte(s) of direct memory (used: {int(MAX - 32)}, "
              f"max: {int(MAX)})", "io.netty.util.internal.OutOfDirectMemoryError", OOM_FP)
             for t in oom]
    rec = pd.DataFrame(rows, columns=["ts", "level", "logger", "message", "exception",
                                      "fingerprint"])
    rec = rec.sort_values("ts", kind="stable").reset_index(drop=True)
    rec["source"] = APP
    rec["line"] = np.arange(1, len(rec) + 1, dtype=np.int64) * 2  # stack lines in between
    rec["thread"] = "nioEventLoopGroup-3-1"
    rec["root_exception"] = rec["exception"]
    rec["ts"] = pd.to_datetime(rec["ts"], unit="ms", utc=True)
    onset_line = int(rec.loc[rec["fingerprint"] == OOM_FP, "line"].iloc[0])
    # monitor: once per second with jitter, true leak + churn noise, capped at MAX
    sample_t = T0 + np.arange(1, int(hours * 3600)) * 1000 + rng.integers(-50, 50, size=int(
        hours * 3600) - 1)
    leaked = LEAK * np.searchsorted(disconnects, sample_t, side="right")
    used = np.minimum(BASE + leaked + rng.normal(0, noise, size=len(sample_t)), MAX)
    metrics = pd.DataFrame({"source": APP, "line": 0, "ts": pd.to_datetime(sample_t, unit="ms",
                                                                              utc=True),
                            "metric": "netty.direct.used", "value": used, "unit": "B"})
    gc_t = np.arange(T0, end, 30_000)
    storm = np.arange(onset_ms - 300_000, end, 5_000)
    gc = pd.DataFrame({"ts": np.concatenate([gc_t, storm]),
                       "pause_ms": np.concatenate([rng.uniform(5, 25, len(gc_t)),
                                                   rng.uniform(400, 900, len(storm))]),
                       "is_full": np.concatenate([np.zeros(len(gc_t), bool),
                                                  np.ones(len(storm), bool)]),
                       "cause": "G1 Evacuation Pause", "kind": "young"})
    gc = gc.sort_values("ts").reset_index(drop=True)
    gc["ts"] = pd.to_datetime(gc["ts"], unit="ms", utc=True)
    gc["source"] = "gc/gc.log"
    dumps = np.arange(T0 + 600_000, end, 600_000)
    first_blocked = int(dumps[np.searchsorted(dumps, onset_ms + 60_000)])
    ts_rows = [(int(d), i, "BLOCKED" if (d >= first_blocked and j < 8) else "RUNNABLE")
               for i, d in enumerate(dumps) for j in range(20)]
    threads = pd.DataFrame(ts_rows, columns=["ts", "dump_index", "state"])
    threads["ts"] = pd.to_datetime(threads["ts"], unit="ms", utc=True)
    threads["source"] = "dumps/jstack.txt"
    status = np.where(requests > onset_ms + 30_000, 503, 200)
    http = pd.DataFrame({"ts": pd.to_datetime(requests, unit="ms", utc=True), "status": status,
                         "source": "nginx/access.log"})
    findings = [
        {"rule": "netty-direct-oom", "severity": "critical", "count": len(oom),
         "first_seen": onset_ms, "last_seen": int(oom[-1]), "fingerprint": OOM_FP,
         "example": {"path": APP, "line": onset_line}},
        {"rule": "npe-in-encoder", "severity": "high", "count": len(disconnects),
         "first_seen": int(disconnects[0]) + 1, "last_seen": int(disconnects[-1]) + 1,
         "fingerprint": NPE_FP, "example": {"path": APP, "line": 2}},
        {"rule": "connection-reset", "severity": "low", "count": len(resets),
         "first_seen": int(resets[0]), "last_seen": int(resets[-1]), "fingerprint": RESET_FP,
         "example": {"path": APP, "line": 2}},
    ]
    return Incident(rec, metrics, findings, gc, threads, http, onset_ms, onset_line,
                    disconnects)


@pytest.fixture(scope="session")
def incident() -> Incident:
    return make_incident()
