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

CLI = "import sys; from logsleuth.cli import main; sys.exit(main())"


def run(root: Path, args: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # cwd=root: ``python -c`` puts the working directory before PYTHONPATH on sys.path,
    # so run from elsewhere both sides would import the checkout found there
    subprocess.run([sys.executable, "-c", CLI, *args], env=dict(os.environ, PYTHONPATH=str(root)),
                   cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, required=True)
    ap.add_argument("--new", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    res: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    for r in range(a.rounds):
        order = [("old", a.old), ("new", a.new)]
        for name, root in order if r % 2 == 0 else order[::-1]:
            res[name].append(run(root.resolve(), args))
    for name, rows in res.items():
        print(f"{name}: wall best {min(w for w, _ in rows):.3f} median "
              f"{statistics.median(w for w, _ in rows):.3f}; CPU best "
              f"{min(c for _, c in rows):.3f} median {statistics.median(c for _, c in rows):.3f}")
    pairs = list(zip(res["old"], res["new"], strict=True))
    print(f"new/old, median of rounds: wall {statistics.median(n[0] / o[0] for o, n in pairs):.3f}"
          f" CPU {statistics.median(n[1] / o[1] for o, n in pairs):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
