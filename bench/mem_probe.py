"""Where a scan's memory goes: RSS per phase and the size of every analysis structure.

Usage (from the repository root)::

    PYTHONPATH=. python bench/mem_probe.py bench/data/incident-1GiB.log [--workers 1]

Runs ``logsleuth.api.scan`` in this process (one worker by default, so every
structure lives here) with a thread sampling RSS every 20 ms, labelled with the
phase the scan is in (units, reduce, leaks, incident). At the start of the reduce
it records the size of what the analysis collector holds (template and exception
counts per bucket, warning/error rows, gauge candidate rows, miner) and of every
typed table; at the end, the pyarrow pool's high-water mark. Prints one JSON
object: the figures that grow with the evidence's *span* show up by comparing
inputs of different size (the generator's span scales with it).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil
import pyarrow as pa

import logsleuth.api as api
import logsleuth.engine.local as local
import logsleuth.timeline.scan as tscan
from logsleuth.engine.memory import prefer_compact_pool

MiB = 1 << 20


def _pss_mib(pid: int) -> float:
    """Proportional set size from ``smaps_rollup`` (0 when the process has gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Sampler(threading.Thread):
    """Peak RSS overall and per phase label; with ``tree``, also the peak PSS of this
    process plus its children (the forked workers) per phase, and this process's share
    at that moment: which phase sets the tree's peak, and who holds it."""

    def __init__(self, tree: bool = False) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process()
        self.phase = "other"
        self.peaks: dict[str, float] = {}
        self.tree = tree
        self.tree_peaks: dict[str, tuple[float, float]] = {}  # phase -> (tree, parent)
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            self.sample()
            time.sleep(0.05 if self.tree else 0.02)

    def sample(self) -> None:
        rss = self.proc.memory_info().rss / MiB
        self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), rss)
        if self.tree:
            own = _pss_mib(self.proc.pid)
            total = own + sum(_pss_mib(c.pid) for c in self.proc.children(recursive=True))
            if total > self.tree_peaks.get(self.phase, (0.0, 0.0))[0]:
                self.tree_peaks[self.phase] = (total, own)


def _nbytes(x: Any) -> int:
    try:
        return int(x.nbytes)
    except AttributeError:
        return 0


def analysis_sizes(studied: Any) -> dict[str, Any]:
    """What the merged analysis collector holds, in MiB and rows."""
    out: dict[str, Any] = {}
    for name in ("template_counts", "class_counts"):
        kc = getattr(studied, name)
        out[name] = {str(w): {"keys": sum(len(k) for k in lv.keys),
                              "MiB": sum(k.nbytes + c.nbytes
                                         for k, c in zip(lv.keys, lv.counts, strict=True)) / MiB}
                     for w, lv in kc.levels.items()}
        out[name]["res_ms"] = kc.res_ms
    notable = studied.notable
    out["notable"] = {"rows": sum(t.num_rows for t in notable),
                      "MiB": sum(t.nbytes for t in notable) / MiB}
    g = studied.gauges
    out["gauge_rows"] = {"rows": sum(t.num_rows for t in g.parts),
                         "MiB": sum(t.nbytes for t in g.parts) / MiB}
    out["miner_templates"] = len(studied.miner.templates)
    out["classes"] = len(studied.classes)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--no-rules", action="store_true")
    ap.add_argument("--no-analysis", action="store_true")
    ap.add_argument("--tree", action="store_true",
                    help="also sample the PSS of this process and its workers per phase")
    args = ap.parse_args(argv)

    prefer_compact_pool()  # as the command line does
    s = Sampler(args.tree)
    report: dict[str, Any] = {"path": args.path, "workers": args.workers}

    def phase(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*a: Any, **k: Any) -> Any:
            before, s.phase = s.phase, label
            s.sample()
            pool = pa.total_allocated_bytes()
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                s.sample()
                secs = report.setdefault("seconds", {})
                secs[label] = round(secs.get(label, 0.0) + time.perf_counter() - t0, 3)
                held = report.setdefault("arrow_held_after_MiB", {})
                held[label] = round((pa.total_allocated_bytes() - pool) / MiB, 1)
                s.phase = before
        return wrapped

    real_analyze = tscan.analyze_scan

    def analyze(result: Any, studied: Any, *a: Any, **k: Any) -> Any:
        report["analysis"] = analysis_sizes(studied)
        report["tables"] = {n: {"rows": t.num_rows, "MiB": round(t.nbytes / MiB, 2)}
                            for n, t in result.tables.items()}
        report["rss_at_analysis_MiB"] = round(s.proc.memory_info().rss / MiB, 1)
        return real_analyze(result, studied, *a, **k)

    tscan.analyze_scan = phase("incident", analyze)
    real_reduce_partials = api.reduce_partials

    def reduce_partials(ran: Any) -> Any:
        partials = real_reduce_partials(ran)
        sizes: dict[str, float] = {}
        for p in partials:  # pickled size: what a worker ships, a proxy for what it holds
            for c in p.collectors.items:
                name = c.name
                sizes[name] = sizes.get(name, 0.0) + len(pickle.dumps(c, protocol=5)) / MiB
            for name, ts in p.tables.items():
                sizes[f"table:{name}"] = sizes.get(f"table:{name}", 0.0) + sum(
                    t.nbytes for t in ts) / MiB
        report["partials_MiB"] = {k: round(v, 2) for k, v in sizes.items()}
        return partials

    api.reduce_partials = phase("reduce_partials", reduce_partials)
    api._tables = phase("concat_tables", api._tables)
    for name in ("_with_discovered", "post_gc_floor", "refine_dump_times", "ceilings_for",
                 "estimate_leaks", "explain_increments", "notable_frame", "first_symptoms",
                 "precursors", "_frame"):
        setattr(tscan, name, phase(name, getattr(tscan, name)))
    api.run_units = phase("units", api.run_units)
    # inside the units: this process's own parsing, and its merges of partials
    local.run_unit = phase("unit_parse", local.run_unit)
    local._fold_into = phase("unit_merge", local._fold_into)
    api._reduce_collectors = phase("reduce", api._reduce_collectors)
    tscan.find_leaks = phase("leaks", tscan.find_leaks)
    tscan.rank_root_causes = phase("rootcause", tscan.rank_root_causes)
    tscan.template_anomalies = phase("anomalies", tscan.template_anomalies)
    s.start()
    t0 = time.perf_counter()
    result = api.scan(args.path, workers=args.workers, rules=not args.no_rules,
                      analysis=not args.no_analysis,
                      keep_records=False)  # as `logsleuth scan` does
    report["wall_s"] = round(time.perf_counter() - t0, 2)
    s.stop = True
    s.join()
    report["peak_rss_MiB"] = {k: round(v, 1) for k, v in s.peaks.items()}
    if args.tree:
        report["peak_tree_pss_MiB"] = {k: {"tree": round(t, 1), "parent": round(o, 1)}
                                       for k, (t, o) in s.tree_peaks.items()}
    report["pyarrow_pool_max_MiB"] = round(pa.default_memory_pool().max_memory() / MiB, 1)
    report["records"] = sum(i.records for i in result.inputs)
    report["tables_after"] = {n: {"rows": t.num_rows, "MiB": round(t.nbytes / MiB, 2)}
                              for n, t in result.tables.items()}
    json.dump(report, sys.stdout, indent=1, default=str)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
