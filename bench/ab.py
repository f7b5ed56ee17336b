"""Paired A/B of two checkouts on one logsleuth command: old and new code alternate.

Usage (from anywhere)::

    python bench/ab.py --old /tmp/old-checkout --new . --rounds 5 -- \
        scan "$PWD/bench/data/orders-256MiB.log" --format json

Paths in the command must be absolute: each side runs in its own checkout.

Each round runs both (the order alternates), timing wall and the CPU of the whole
process tree (``getrusage(RUSAGE_CHILDREN)`` around the run, forked workers
included). On a shared machine the medians of per-round ratios drift far less than
either side's times.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from measure import TreeSampler  # bench/ is the script's directory: on sys.path

CLI = "import sys; from logsleuth.cli import main; sys.exit(main())"


def run(root: Path, args: list[str], pss: bool = False) -> tuple[float, float, float]:
    """Wall s, tree CPU s and (with ``pss``) the tree's peak PSS in MiB, else 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # cwd=root: ``python -c`` puts the working directory before PYTHONPATH on sys.path,
    # so run from elsewhere both sides would import the checkout found there
    proc = subprocess.Popen([sys.executable, "-c", CLI, *args],
                            env=dict(os.environ, PYTHONPATH=str(root)), cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = TreeSampler(proc.pid) if pss else None
    if sampler is not None:
        sampler.start()
    code = proc.wait()
    wall = time.perf_counter() - t
    if sampler is not None:
        sampler.stop.set()
        sampler.join()
    if code:
        raise subprocess.CalledProcessError(code, args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, sampler.peak_pss_kib / 1024 if sampler is not None else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, required=True)
    ap.add_argument("--new", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pss", action="store_true",
                    help="sample the tree's PSS every 0.1 s (slows the runs: for memory)")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    res: dict[str, list[tuple[float, float, float]]] = {"old": [], "new": []}
    for r in range(a.rounds):
        order = [("old", a.old), ("new", a.new)]
        for name, root in order if r % 2 == 0 else order[::-1]:
            res[name].append(run(root.resolve(), args, a.pss))
    for name, rows in res.items():
        print(f"{name}: wall best {min(w for w, _, _ in rows):.3f} median "
              f"{statistics.median(w for w, _, _ in rows):.3f}; CPU best "
              f"{min(c for _, c, _ in rows):.3f} median "
              f"{statistics.median(c for _, c, _ in rows):.3f}"
              + (f"; tree PSS MiB {', '.join(f'{m:.0f}' for _, _, m in rows)}" if a.pss else ""))
    pairs = list(zip(res["old"], res["new"], strict=True))
    print(f"new/old, median of rounds: wall {statistics.median(n[0] / o[0] for o, n in pairs):.3f}"
          f" CPU {statistics.median(n[1] / o[1] for o, n in pairs):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
