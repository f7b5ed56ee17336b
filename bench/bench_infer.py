"""Time layout inference per file: the planner's whole decision for a file no built-in reads.

Each case is a set of real sample lines (the shapes of tests/layouts/test_infer.py,
from loghub's Hadoop/HDFS/Spark/ZooKeeper samples, Kafka, Elasticsearch 6, Spring
Boot, Tomcat). A case's lines are repeated up to a head's worth (``--lines``, the
planner samples at most 400 header lines plus mid-file lines), then
``choose_layout`` runs as the planner calls it: built-in detection first, then
inference. Reported: median and worst of ``--repeat`` runs per file, in ms.

    PYTHONPATH=. python bench/bench_infer.py --repeat 21
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "layouts"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--lines", type=int, default=600)
    args = ap.parse_args()

    from test_infer import OTHER_SHAPES, SHAPES  # the real sample lines

    from logsleuth.engine.planner import LayoutChoice, _builtin_layouts, choose_layout
    from logsleuth.layouts.infer import infer_layout

    _builtin_layouts()  # loaded once per process, as in a scan
    cases = {**{k: v[0] for k, v in SHAPES.items()}, **{k: v[0] for k, v in OTHER_SHAPES.items()}}
    print(f"{'file':<18} {'layout':<60} {'infer ms':>9} {'worst':>7} {'choose ms':>10} {'worst':>7}")
    for name, text in cases.items():
        base = text.splitlines()
        lines = (base * (args.lines // len(base) + 1))[: args.lines]
        infer_t, choose_t = [], []
        layout = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            infer_layout(lines)
            t1 = time.perf_counter()
            layout, _note = choose_layout(lines, LayoutChoice())
            t2 = time.perf_counter()
            infer_t.append((t1 - t0) * 1000)
            choose_t.append((t2 - t1) * 1000)
        shown = getattr(layout, "name", "-")
        print(f"{name:<18} {shown[:60]:<60} {statistics.median(infer_t):9.1f} "
              f"{max(infer_t):7.1f} {statistics.median(choose_t):10.1f} {max(choose_t):7.1f}")


if __name__ == "__main__":
    main()
