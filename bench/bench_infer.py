"""Time layout inference per file: the planner's whole decision for a file no built-in reads.

Each case is a set of real sample lines (the shapes of tests/layouts/test_infer.py,
from loghub's Hadoop/HDFS/Spark/ZooKeeper samples, Kafka, Elasticsearch 6, Spring
Boot, Tomcat). A case's lines are repeated up to a head's worth (``--lines``, the
planner samples at most 400 header lines plus mid-file lines), then
``choose_layout`` runs as the planner calls it: built-in detection first, then
inference. Reported: median and worst of ``--repeat`` runs per file, in ms.

    PYTHONPATH=. python bench/bench_infer.py --repeat 21

``--scan SIZE`` also times the scan itself (ingestion only, one worker) on the
benchmark log of that size (``gen_incident_log.py``, a built-in layout), on the same
file with its inferred pattern forced, and on a copy rewritten into Hadoop's layout
(``%d{yyyy-MM-dd HH:mm:ss,SSS} %p [%t] %c: %m%n``), which only inference reads:
an inferred layout must run as fast as a built-in one.

    PYTHONPATH=. python bench/bench_infer.py --scan 128MiB --repeat 9

``--corpus`` times the same decision on every text file of the public corpus
(tests/data/public, JSON logs included), each from its own head as the planner reads
it (the first 64 KiB; these files are too small for mid-file samples): ``infer`` is
``infer_layout`` on the head's header-looking lines, ``choose`` the planner's whole
choice (built-in detection, inference, the further layouts of a mixed file).

    PYTHONPATH=. python bench/bench_infer.py --corpus --repeat 11
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "layouts"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--lines", type=int, default=600)
    ap.add_argument("--scan", metavar="SIZE", help="also time scans of a log of SIZE")
    ap.add_argument("--out", default="bench/data", help="where --scan writes its logs")
    ap.add_argument("--corpus", action="store_true", help="time it on the public corpus")
    args = ap.parse_args()
    if args.corpus:
        corpus_speed(args.repeat)
        return
    if args.scan:
        scan_speed(args.scan, Path(args.out), args.repeat)
        return

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


def corpus_speed(repeat: int) -> None:
    import os

    import pyarrow as pa

    from logsleuth.engine.local import HEAD_BYTES
    from logsleuth.engine.planner import LayoutChoice, _builtin_layouts, choose_layout, head_lines
    from logsleuth.layouts.detect import header_looking
    from logsleuth.layouts.infer import infer_layout

    _builtin_layouts()
    root = Path(__file__).resolve().parents[1] / "tests" / "data" / "public"
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix not in (".md", ".yaml"))
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'file':<58} {'infer ms':>9} {'worst':>7} {'choose ms':>10} {'worst':>7}  layout")
    worst: list[tuple[float, str]] = []
    medians: list[float] = []
    for path in files:
        with path.open("rb") as f:
            lines = head_lines(f.read(HEAD_BYTES))
        infer_t, choose_t = [], []
        layout = None
        for _ in range(repeat):
            t0 = time.perf_counter()
            infer_layout(header_looking(pa.array(lines, pa.string())).to_pylist())
            t1 = time.perf_counter()
            layout, _note = choose_layout(lines, LayoutChoice())
            t2 = time.perf_counter()
            infer_t.append((t1 - t0) * 1000)
            choose_t.append((t2 - t1) * 1000)
        rel = path.relative_to(root).as_posix()
        worst.append((max(choose_t), rel))
        medians.append(statistics.median(choose_t))
        shown = getattr(layout, "name", "-")
        print(f"{rel[:58]:<58} {statistics.median(infer_t):9.1f} {max(infer_t):7.1f} "
              f"{statistics.median(choose_t):10.1f} {max(choose_t):7.1f}  {shown[:70]}")
    print(f"{len(files)} files; choose median of medians {statistics.median(medians):.1f} ms, "
          f"largest median {max(medians):.1f} ms, worst single run {max(worst)[0]:.1f} ms "
          f"({max(worst)[1]})")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


_HEADER = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3}) (\w+) +\[([^\]]*)\] (\S+) - ",
                     re.M)


def _hadoop_shaped(src: Path, dst: Path) -> None:
    """Rewrite each record header of the benchmark log into Hadoop's layout."""
    with src.open(encoding="utf-8") as f, dst.open("w", encoding="utf-8") as out:
        while chunk := f.read(8 << 20):
            chunk += f.readline()  # end at a line break
            out.write(_HEADER.sub(lambda m: f"{m[1]},{m[2]} {m[3]} [{m[4]}] {m[5]}: ", chunk))


def scan_speed(size: str, out: Path, repeat: int) -> None:
    import subprocess

    from logsleuth import api

    out.mkdir(parents=True, exist_ok=True)
    log = out / f"incident-{size}.log"
    if not log.exists():
        subprocess.run([sys.executable, str(Path(__file__).with_name("gen_incident_log.py")),
                        "--size", size, "--out", str(log)], check=True)
    hadoop = out / f"hadoop-shaped-{size}.log"
    if not hadoop.exists():
        _hadoop_shaped(log, hadoop)
    cases = [("built-in (detected)", log, None),
             ("its inferred pattern, forced", log,
              "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c - %m%n"),
             ("Hadoop-shaped copy, inferred", hadoop, None)]
    times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    shown: dict[str, tuple[str, int, int]] = {}
    for _ in range(repeat):  # alternate, so load on a shared machine hits every case
        for name, path, pattern in cases:
            t0 = time.perf_counter()
            r = api.scan(path, pattern=pattern, workers=1, tz="UTC", rules=False,
                         analysis=False, keep_records=False)
            times[name].append(time.perf_counter() - t0)
            s = r.inputs[0]
            shown[name] = (s.layout or "-", s.records, s.unparsed_lines)
    print("| case | layout | records | unparsed | best s | median s |")
    print("|---|---|---:|---:|---:|---:|")
    for name, ts in times.items():
        layout, records, unparsed = shown[name]
        print(f"| {name} | `{layout}` | {records:,} | {unparsed} | {min(ts):.2f} | "
              f"{statistics.median(ts):.2f} |")


if __name__ == "__main__":
    main()
