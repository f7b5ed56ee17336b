"""Throughput of logsleuth template mining versus Drain3 on the same messages.

Usage::

    python bench/bench_templates.py --mb 64            # logsleuth only
    /tmp/drain3venv/bin/python bench/bench_templates.py --mb 64 --drain3-mb 8

Drain3 is not a dependency; when it is importable its throughput is measured on
a prefix of the same messages (``--drain3-mb``, it is slow) and reported per MB.
Messages imitate the netty websocket service of the model incident: connect and
disconnect lines with channel ids and addresses, request logs with key=value
pairs, GC/monitor lines, and exception messages.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

from logsleuth.timeline.templates import TemplateMiner

_SHAPES = (
    "Client connected [id: 0x{h8}, L:/{ip}:8080 - R:/{ip2}:{port}] user={user} session={uuid}",
    "Client disconnected [id: 0x{h8}, L:/{ip}:8080 ! R:/{ip2}:{port}] after {n}ms",
    "GET /api/v1/rooms/{n}/messages status={status} bytes={n2} took {n3} ms",
    "POST /api/v1/rooms/{n}/send status={status} bytes={n2} took {n3} ms",
    "Direct memory monitor: used={n2} max=268435456 arenas={n4}",
    "failed to allocate 64 byte(s) of direct memory (used: {n2}, max: 268435456)",
    "Exception in encoder for channel 0x{h8}: null",
    "Room {n} now has {n4} members",
    "Scheduled flush of {n3} frames to {n4} subscribers completed in {n3}ms",
    "Cache 'rooms' hit ratio {f}% size={n2}",
    "User {user} joined room {n} from {ip2}",
    "Heartbeat timeout for session {uuid}, closing",
)


def make_messages(target_bytes: int, seed: int = 7) -> pa.Array:
    """Realistic messages totalling about ``target_bytes`` (vectorised generation)."""
    rng = np.random.default_rng(seed)
    n = max(1, target_bytes // 95)
    shape = rng.choice(len(_SHAPES), size=n, p=_shape_weights())
    users = [f"user{i}" for i in range(500)]
    out: list[str] = []
    h8 = rng.integers(0, 2**32, size=n)
    ips = rng.integers(1, 255, size=(n, 4))
    num = rng.integers(0, 100_000, size=(n, 5))
    uu = rng.integers(0, 2**63, size=(n, 2))
    for i in range(n):
        a = ips[i]
        out.append(_SHAPES[shape[i]].format(
            h8=f"{h8[i]:08x}", ip=f"10.0.{a[0]}.{a[1]}", ip2=f"172.16.{a[2]}.{a[3]}",
            port=1024 + num[i, 0] % 60000, user=users[num[i, 1] % 500],
            uuid=f"{uu[i, 0]:016x}"[:8] + "-" + f"{uu[i, 0]:016x}"[8:12] + "-4"
                 + f"{uu[i, 1]:016x}"[:3] + "-a" + f"{uu[i, 1]:016x}"[3:6] + "-"
                 + f"{uu[i, 1]:016x}"[4:16],
            n=num[i, 0], n2=num[i, 1] * 256, n3=num[i, 2] % 900, n4=num[i, 3] % 64,
            status=(200, 200, 200, 404, 503)[num[i, 4] % 5], f=f"{num[i, 4] / 1000:.1f}",
        ))
    return pa.array(out, type=pa.string())


def _shape_weights() -> np.ndarray:
    w = np.array([10, 10, 20, 8, 2, 3, 3, 5, 5, 2, 5, 2], dtype=float)
    return w / w.sum()


def bench_logsleuth(messages: pa.Array, chunk_rows: int = 1_000_000) -> tuple[float, int]:
    miner = TemplateMiner()
    t0 = time.perf_counter()
    for off in range(0, len(messages), chunk_rows):
        miner.add(messages.slice(off, chunk_rows))
    return time.perf_counter() - t0, len(miner)


def bench_drain3(messages: list[str]) -> tuple[float, int]:
    from drain3 import TemplateMiner as Drain3Miner  # optional, see module docstring
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    cfg = TemplateMinerConfig()
    cfg.masking_instructions = [
        MaskingInstruction(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                           r"[0-9a-fA-F]{12}\b", "UUID"),
        MaskingInstruction(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d{1,5})?\b", "IP"),
        MaskingInstruction(r"\b(?:0[xX][0-9a-fA-F]+|[0-9a-f]{8,})\b", "HEX"),
        MaskingInstruction(r"-?\b\d+(?:[.,]\d+)*(?:[a-zA-Z%]{1,5})?\b", "NUM"),
    ]
    cfg.profiling_enabled = False
    miner = Drain3Miner(config=cfg)
    t0 = time.perf_counter()
    for m in messages:
        miner.add_log_message(m)
    return time.perf_counter() - t0, len(miner.drain.clusters)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=64.0, help="MB of messages for logsleuth")
    ap.add_argument("--drain3-mb", type=float, default=8.0, help="MB prefix for Drain3")
    args = ap.parse_args()
    messages = make_messages(int(args.mb * 1e6))
    mb = pa.compute.sum(pa.compute.binary_length(messages)).as_py() / 1e6
    secs, n_tpl = bench_logsleuth(messages)
    print(f"logsleuth: {mb:.1f} MB, {len(messages):,} msgs, {secs:.2f} s, "
          f"{mb / secs:.1f} MB/s, {n_tpl} templates")
    try:
        import drain3  # noqa: F401
    except ImportError:
        print("drain3 not importable: skipped")
        return
    k = int(len(messages) * min(1.0, args.drain3_mb / mb))
    prefix = messages.slice(0, k)
    pmb = pa.compute.sum(pa.compute.binary_length(prefix)).as_py() / 1e6
    dsecs, d_tpl = bench_drain3(prefix.to_pylist())
    print(f"drain3:    {pmb:.1f} MB, {k:,} msgs, {dsecs:.2f} s, {pmb / dsecs:.2f} MB/s, "
          f"{d_tpl} clusters")
    print(f"speedup per MB: {(mb / secs) / (pmb / dsecs):.1f}x")


if __name__ == "__main__":
    main()
