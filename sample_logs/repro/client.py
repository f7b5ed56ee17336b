"""Load driver for the PushServer reproduction (standard library only, 127.0.0.1 only).

Runs three kinds of traffic against nginx until a deadline, a disconnect budget or SIGTERM:
long-lived subscribers that read pushes, short-lived clients that connect, maybe send one
message, and disconnect (each disconnect leaks 256 B in the buggy server), and a /health
poller. Prints a one-line JSON summary at the end so run.sh can record the counts.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"


@dataclass
class Stats:
    """Counters shared by the worker threads (guarded by lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    handshakes_ok: int = 0
    handshakes_failed: int = 0
    disconnects: int = 0
    health_ok: int = 0
    health_failed: int = 0

    def bump(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)

    def as_dict(self) -> dict[str, int]:
        with self.lock:
            return {
                k: getattr(self, k)
                for k in (
                    "handshakes_ok",
                    "handshakes_failed",
                    "disconnects",
                    "health_ok",
                    "health_failed",
                )
            }


def _masked_frame(opcode: int, payload: bytes) -> bytes:
    """Client-to-server frames must be masked (RFC 6455 5.3)."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


class WsConn:
    """A client socket plus the bytes already received but not yet consumed."""

    __slots__ = ("pending", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending = b""

    def read_until(self, marker: bytes, limit: int = 65536) -> bytes:
        """Returns everything up to and including marker; keeps the rest pending."""
        while marker not in self.pending and len(self.pending) < limit:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.pending += chunk
        head, sep, rest = self.pending.partition(marker)
        self.pending = rest
        return head + sep

    def recv_exact(self, n: int) -> bytes | None:
        while len(self.pending) < n:
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.pending += chunk
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def read_frame(self) -> tuple[int, bytes] | None:
        """Reads one unmasked server frame; None when the connection ended."""
        hdr = self.recv_exact(2)
        if hdr is None:
            return None
        opcode, length = hdr[0] & 0x0F, hdr[1] & 0x7F
        if length in (126, 127):
            ext = self.recv_exact(2 if length == 126 else 8)
            if ext is None:
                return None
            length = int.from_bytes(ext, "big")
        payload = self.recv_exact(length)
        return None if payload is None else (opcode, payload)

    def close(self) -> None:
        self.sock.close()


def ws_connect(port: int, user: str, timeout: float) -> WsConn | None:
    """Opens a websocket through nginx; returns None unless the answer is 101."""
    conn = WsConn(socket.create_connection((HOST, port), timeout=timeout))
    key = base64.b64encode(os.urandom(16)).decode()
    req = (
        f"GET /ws?user={user} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "User-Agent: push-client/1.0\r\n\r\n"
    )
    conn.sock.sendall(req.encode())
    if not conn.read_until(b"\r\n\r\n").startswith(b"HTTP/1.1 101"):
        conn.close()
        return None
    return conn


class Bursts:
    """Bursty traffic: the rate jumps between levels for phases of 0.5-3 s (seeded), like
    clients that arrive in waves, so counts per interval vary instead of staying flat."""

    LEVELS = (0.15, 0.5, 1.0, 2.5)

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed ^ 0x5EED)
        self.until = 0.0
        self.factor = 1.0

    def factor_now(self) -> float:
        now = time.monotonic()
        if now >= self.until:
            self.until = now + self.rnd.uniform(0.5, 3.0)
            self.factor = self.rnd.choice(self.LEVELS)
        return self.factor


def churn_worker(
    port: int, stop: threading.Event, stats: Stats, rate: float, budget: int, seed: int,
    burst: bool = False,
) -> None:
    """Connect, read the welcome packet, maybe send a message, disconnect; repeat."""
    rnd = random.Random(seed)
    bursts = Bursts(seed) if burst else None
    while not stop.is_set():
        rate_now = rate * bursts.factor_now() if bursts is not None else rate
        with stats.lock:
            if stats.disconnects >= budget:
                return
        user = f"u{rnd.randrange(100000):05d}"
        try:
            conn = ws_connect(port, user, timeout=3.0)
        except OSError:
            stats.bump("handshakes_failed")
            stop.wait(1.0 / rate_now)
            continue
        if conn is None:
            # Like the real mobile clients: retry a failed handshake almost at once (no backoff).
            stats.bump("handshakes_failed")
            stop.wait(0.01)
            continue
        stats.bump("handshakes_ok")
        try:
            conn.read_frame()
            if rnd.random() < 0.3:
                msg = f"subscribe ACME {rnd.randrange(1000)}".encode()
                conn.sock.sendall(_masked_frame(0x1, msg))
                conn.read_frame()
            if rnd.random() < 0.5:
                conn.sock.sendall(_masked_frame(0x8, struct.pack(">H", 1000)))
        except OSError:
            pass
        finally:
            conn.close()
            stats.bump("disconnects")
        stop.wait(1.0 / rate_now)


def subscriber_worker(port: int, stop: threading.Event, stats: Stats, idx: int) -> None:
    """Long-lived client reading pushes; reconnects (with backoff) when dropped."""
    while not stop.is_set():
        try:
            conn = ws_connect(port, f"sub{idx:02d}", timeout=5.0)
        except OSError:
            conn = None
        if conn is None:
            stats.bump("handshakes_failed")
            stop.wait(2.0)
            continue
        stats.bump("handshakes_ok")
        conn.sock.settimeout(1.0)
        try:
            while not stop.is_set():
                try:
                    frame = conn.read_frame()
                except TimeoutError:
                    continue
                if frame is None:
                    break
                if frame[0] == 0x9:  # ping -> pong with the same payload (RFC 6455 5.5.3)
                    conn.sock.sendall(_masked_frame(0xA, frame[1]))
        except OSError:
            pass
        finally:
            conn.close()
        stop.wait(1.0)


def ramp_worker(port: int, stop: threading.Event, stats: Stats, idx: int, join_at: float,
                leave_at: float) -> None:
    """A subscriber of the ramp: joins at ``join_at`` and leaves at ``leave_at`` (seconds from
    the start), so the number of live connections rises for a while and then falls."""
    t0 = time.monotonic()
    if stop.wait(join_at):
        return
    mine = threading.Event()

    def leave() -> None:
        stop.wait(max(leave_at - (time.monotonic() - t0), 0.0))
        mine.set()

    threading.Thread(target=leave, daemon=True).start()
    subscriber_worker(port, mine, stats, 100 + idx)


def health_worker(port: int, stop: threading.Event, stats: Stats, interval: float) -> None:
    """GET /health through nginx, like a load balancer probe."""
    while not stop.is_set():
        try:
            with socket.create_connection((HOST, port), timeout=5.0) as sock:
                sock.sendall(
                    f"GET /health HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: lb-probe/1.0\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                head = WsConn(sock).read_until(b"\r\n\r\n")
            stats.bump("health_ok" if head.startswith(b"HTTP/1.1 200") else "health_failed")
        except OSError:
            stats.bump("health_failed")
        stop.wait(interval)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--seconds", type=float, default=120.0, help="hard deadline")
    ap.add_argument("--subscribers", type=int, default=6)
    ap.add_argument("--churners", type=int, default=4)
    ap.add_argument("--rate", type=float, default=20.0, help="connects per second per churner")
    ap.add_argument("--budget", type=int, default=100000, help="disconnects before churn stops")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--burst", action="store_true", help="bursty churn (rate varies in phases)")
    ap.add_argument("--ramp", type=int, default=0,
                    help="extra subscribers that join one by one, then leave one by one")
    ap.add_argument("--ramp-up", type=float, default=60.0, help="seconds over which they join")
    ap.add_argument("--ramp-hold", type=float, default=10.0, help="seconds all of them stay")
    ap.add_argument("--ramp-down", type=float, default=40.0, help="seconds over which they leave")
    args = ap.parse_args()

    stop = threading.Event()
    stats = Stats()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [
        threading.Thread(target=health_worker, args=(args.port, stop, stats, 0.5), daemon=True)
    ]
    threads += [
        threading.Thread(target=subscriber_worker, args=(args.port, stop, stats, i), daemon=True)
        for i in range(args.subscribers)
    ]
    threads += [
        threading.Thread(
            target=churn_worker,
            args=(args.port, stop, stats, args.rate, args.budget, args.seed + i, args.burst),
            daemon=True,
        )
        for i in range(args.churners)
    ]
    up, hold, down = args.ramp_up, args.ramp_hold, args.ramp_down
    threads += [  # the first to join is the last to leave
        threading.Thread(
            target=ramp_worker,
            args=(args.port, stop, stats, i, up * i / args.ramp,
                  up + hold + down * (args.ramp - i) / args.ramp),
            daemon=True,
        )
        for i in range(args.ramp)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + args.seconds
    while not stop.is_set() and time.monotonic() < deadline:
        stop.wait(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=6.0)
    print(json.dumps(stats.as_dict()), flush=True)


if __name__ == "__main__":
    main()
