"""Drains the server's stdout at a bounded rate, like a container log driver that falls behind.

The JVM's console appender writes synchronously; when this reader lags, the pipe fills, the
writing thread blocks in write(2) while holding log4j2's appender lock, and the other event
loops show up BLOCKED in jstack. Usage: console_sink.py BYTES_PER_SECOND OUTFILE < fifo
"""

from __future__ import annotations

import sys
import time


def drain(rate: int, out_path: str) -> None:
    """Copies stdin to out_path through a token bucket (rate bytes/s, burst of one second)."""
    burst = float(rate)
    tokens = burst
    last = time.monotonic()
    src = sys.stdin.buffer
    with open(out_path, "wb") as out:
        while True:
            data = src.read1(16 * 1024)
            if not data:
                return
            now = time.monotonic()
            tokens = min(burst, tokens + (now - last) * rate)
            last = now
            if tokens < len(data):
                time.sleep((len(data) - tokens) / rate)
                tokens = float(len(data))
                last = time.monotonic()
            tokens -= len(data)
            out.write(data)


if __name__ == "__main__":
    drain(int(sys.argv[1]), sys.argv[2])
