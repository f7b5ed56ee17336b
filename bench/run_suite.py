"""The benchmark that cannot flatter us: every input shape, every tool, one run.

Usage (from the repository root)::

    python bench/run_suite.py --size 64MiB --repeat 3          # all four shapes
    python bench/run_suite.py --shapes incident,orders --dask   # + --engine dask rows

For each shape (``incident``: ``gen_incident_log``; ``orders``, ``jsonlayout``,
``publicmix``: ``gen_shapes``) it times ``logsleuth scan`` (full, ``--no-rules``,
``--no-analysis``, both) against lnav (the project's format file where one fits the
input, and lnav's defaults) and ``rg -c``/``grep -c``, round-robin, with the same
measurement as ``run_ingest.py`` (warm cache, unsampled timed rounds, sampled memory
rounds). It records the machine with a fixed pure-Python calibration loop and the
load average, checks every tool against the generator's true counts, and checks that
logsleuth's records and findings are byte-identical across rounds, across the four
variants (where they should be) and between engines. Writes ``bench/out/suite.json``
and prints one Markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gen_incident_log import generate, parse_size
from gen_shapes import GENERATORS, ORDERS_LAYOUT
from measure import calibrate, load_average, machine, warm_bytecode, warm_cache
from run_ingest import (
    HEADER_RE,
    LNAV_FORMAT,
    LNAV_INDEX_SQL,
    ROOT,
    Tool,
    Truth,
    _lnav_index_check,
    logsleuth_command,
    measure,
)

SHAPES = ("incident", "orders", "jsonlayout", "publicmix")
NEEDLES = {"incident": "OutOfDirectMemoryError", "orders": "Exception: ",
           "jsonlayout": '"thrown"', "publicmix": "Exception"}
LNAV_DEFAULT_SQL = (";SELECT count(*) AS n, sum(log_level IN ('error', 'fatal', 'critical')) "
                    "AS errors FROM all_logs")
VARIANTS = (("logsleuth scan", ()), ("logsleuth scan --no-rules", ("--no-rules",)),
            ("logsleuth scan --no-analysis", ("--no-analysis",)),
            ("logsleuth scan --no-rules --no-analysis", ("--no-rules", "--no-analysis")))
DASK = "logsleuth scan --engine dask"


@dataclass(slots=True)
class Input:
    """One generated input and what is true about it."""

    shape: str
    path: Path  # a file, or a directory for publicmix
    manifest: dict
    records: int | None  # counted by rg on the header regex; None where no regex fits
    flags: tuple[str, ...] = ()  # logsleuth flags every variant gets (e.g. --pattern)


def prepare(shape: str, size_text: str, seed: int, data: Path, pattern: bool = False) -> Input:
    """Generate (or reuse) the input of ``shape`` and count its records independently."""
    size = parse_size(size_text)
    data.mkdir(parents=True, exist_ok=True)
    path = data / (f"{shape}-{size_text}" + ("" if shape == "publicmix" else ".log"))
    mpath = Path(f"{path}.json")
    fresh = mpath.exists() and path.exists() and json.loads(mpath.read_text())["seed"] == seed
    if not fresh:
        print(f"generating {path} ...", file=sys.stderr)
        if shape == "incident":
            generate(path, size, seed)
        else:
            GENERATORS[shape](path, size, seed)
    manifest = json.loads(mpath.read_text())
    header = HEADER_RE if shape == "incident" else manifest.get("header_re")
    records = None
    if header:
        res = subprocess.run(["rg", "-c", header, str(path)], capture_output=True, text=True,
                             check=True)
        records = int(res.stdout.strip())
        if records != manifest["records"]:
            raise SystemExit(f"{path}: rg counts {records} records, manifest "
                             f"{manifest['records']}")
    # the orders layout is no built-in: layout inference must find it (tested in
    # tests/bench/test_shapes.py), so the suite gives no --pattern; with pattern=True
    # it does, to time the given layout against the inferred one
    flags = ("--pattern", ORDERS_LAYOUT) if shape == "orders" and pattern else ()
    return Input(shape, path, manifest, records, flags)


def _sum_counts(out: str) -> int:
    """``rg -c``/``grep -rc`` output: one count, or ``path:count`` per file."""
    return sum(int(x.rsplit(":", 1)[-1]) for x in out.split())


def _errors_truth(inp: Input) -> int | None:
    m = inp.manifest
    if "error_records" in m and inp.shape != "publicmix":
        return m["error_records"]
    if inp.shape == "incident":
        return m["oom_records"] + m["npe_records"]
    return None


def _lnav_default_check(inp: Input) -> Callable[[str], str]:
    def check(out: str) -> str:
        row = json.loads(out)[0]
        if inp.records is None:
            return f"{row['n']} records, {row['errors']} errors (no true count for this shape)"
        return (f"{row['n']} of {inp.records} records, {row['errors']} of "
                f"{_errors_truth(inp)} errors")
    return check


def logsleuth_check(inp: Input) -> Callable[[str], str]:
    """Totals must match the truth: every line accounted, records counted as rg counts them."""
    def check(out: str) -> str:
        totals = json.loads(out)["totals"]
        if totals["lines"] != inp.manifest["lines"]:
            raise ValueError(f"{totals['lines']} lines, file has {inp.manifest['lines']}")
        if totals["records"] + totals["unparsed_lines"] > totals["lines"]:
            raise ValueError("more records and unparsed lines than lines")
        if inp.records is not None and totals["records"] != inp.records:
            raise ValueError(f"{totals['records']} records, file has {inp.records}")
        return (f"{totals['records']} records, {totals['unparsed_lines']} unparsed lines, "
                f"{totals['diagnostics']} diagnostics")
    return check


def build_tools(inp: Input, out_dir: Path, dask: bool) -> list[Tool]:
    needle, p = NEEDLES[inp.shape], str(inp.path)
    rec = "-r" if inp.path.is_dir() else "-s"
    tools = [Tool("grep -c", ["grep", rec, "-c", needle, p], lambda o: f"{_sum_counts(o)} lines"),
             Tool("rg -c", ["rg", "-c", needle, p], lambda o: f"{_sum_counts(o)} lines")]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "dumb"}
    if inp.shape == "incident":  # the project's lnav format file fits only this layout
        home = out_dir / "lnav-home"
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(["lnav", "-i", str(LNAV_FORMAT)], env={**env, "HOME": str(home)},
                       capture_output=True, check=True)
        truth = Truth(inp.records or 0, {k: v for k, v in inp.manifest.items()
                                         if isinstance(v, int)})
        tools.append(Tool("lnav index (project format)",
                          ["lnav", "-n", "-c", LNAV_INDEX_SQL, "-c", ":write-json-to -", p],
                          _lnav_index_check(truth), {**env, "HOME": str(home)}))
    bare = out_dir / "lnav-home-defaults"
    bare.mkdir(parents=True, exist_ok=True)
    tools.append(Tool("lnav index (defaults)",
                      ["lnav", "-n", "-c", LNAV_DEFAULT_SQL, "-c", ":write-json-to -", p],
                      _lnav_default_check(inp), {**env, "HOME": str(bare)}))
    base = logsleuth_command() or ["logsleuth"]
    variants = list(VARIANTS)
    if dask:
        variants.append((DASK, ("--engine", "dask", "--workers", "2")))
    for name, flags in variants:
        tools.append(Tool(name, [*base, "scan", p, "--format", "json", "--no-progress",
                                 *inp.flags, *flags], logsleuth_check(inp)))
    return tools


def digest(doc: object) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(slots=True)
class Sameness:
    """Digests of logsleuth's output per tool and round; ``verdicts`` says what differed."""

    full: dict[str, list[str]] = field(default_factory=dict)
    records: dict[str, list[str]] = field(default_factory=dict)  # inputs + totals
    findings: dict[str, list[str]] = field(default_factory=dict)

    def see(self, tool: Tool, _round: int, stdout: Path) -> None:
        if not tool.name.startswith("logsleuth"):
            return
        doc = json.loads(stdout.read_text())
        self.full.setdefault(tool.name, []).append(digest(doc))
        self.records.setdefault(tool.name, []).append(
            digest({"inputs": doc["inputs"], "totals": doc["totals"]}))
        self.findings.setdefault(tool.name, []).append(digest(doc["findings"]))

    def verdicts(self) -> list[str]:
        """Empty when everything that must be identical is; else one line per difference."""
        bad = [f"{name}: output differs between rounds ({len(set(d))} versions)"
               for name, d in self.full.items() if len(set(d)) > 1]
        recs = {name: d[0] for name, d in self.records.items()}
        if len(set(recs.values())) > 1:
            bad.append(f"records differ between variants: {recs}")
        same_findings = ("logsleuth scan", "logsleuth scan --no-analysis", DASK)
        found = {n: self.findings[n][0] for n in same_findings if n in self.findings}
        if len(set(found.values())) > 1:
            bad.append(f"findings differ: {found}")
        if DASK in self.full and "logsleuth scan" in self.full \
                and self.full[DASK][0] != self.full["logsleuth scan"][0]:
            bad.append("--engine dask JSON differs from the local engine's")
        return bad


def paired(tools: list[Tool], num: str, den: str, cpu: bool = False) -> float | None:
    """Median of per-round ratios (wall, or user+sys CPU): round i of both ran back to back.

    On a shared machine CPU time drifts less than wall time: other work steals the
    cores but not (much) of the command's own CPU seconds.
    """
    by = {t.name: t.summary for t in tools if t.summary.available}
    if num not in by or den not in by:
        return None

    def figure(r: object) -> float | None:
        return r.cpu_s if cpu else r.wall_s  # type: ignore[attr-defined]

    pairs = [(figure(x), figure(y)) for x, y in zip(by[num].runs, by[den].runs, strict=False)]
    ratios = [x / y for x, y in pairs if x is not None and y]
    return statistics.median(ratios) if ratios else None


def baseline_name(tools: list[Tool]) -> str:
    names = {t.name for t in tools}
    return "lnav index (project format)" if "lnav index (project format)" in names \
        else "lnav index (defaults)"


def rows_for(inp: Input, tools: list[Tool], size: int) -> list[dict]:
    base = baseline_name(tools)
    rows = []
    for t in tools:
        s = t.summary
        best = s.best_s if s.available else None
        rows.append({"shape": inp.shape, "tool": t.name, "command": t.cmd,
                     "available": s.available, "note": s.note, "check": s.check,
                     "walls": [r.wall_s for r in s.runs], "best_s": best,
                     "median_s": s.median_s if s.available else None,
                     "cpu_s": s.best_cpu_s, "tree_cpu_s": s.best_tree_cpu_s,
                     "peak_rss_mib": s.peak_rss_mib, "tree_pss_mib": s.tree_pss_mib,
                     "mb_per_s": size / best / 1e6 if best else None,
                     "x_lnav": paired(tools, t.name, base),
                     "x_lnav_cpu": paired(tools, t.name, base, cpu=True), "x_lnav_of": base})
    return rows


def _f(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def table(rows: list[dict]) -> str:
    out = ["| input | tool | best s | median s | CPU s | tree CPU s | peak RSS MiB "
           "| tree PSS MiB | × lnav wall | × lnav CPU | check |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        check = r["check"] if r["available"] else f"unavailable: {r['note']}"
        out.append(f"| {r['shape']} | {r['tool']} | {_f(r['best_s'], '.2f')} | "
                   f"{_f(r['median_s'], '.2f')} | {_f(r['cpu_s'], '.2f')} | "
                   f"{_f(r['tree_cpu_s'], '.2f')} | {_f(r['peak_rss_mib'], ',.0f')} | "
                   f"{_f(r['tree_pss_mib'], ',.0f')} | {_f(r['x_lnav'], '.2f')} | "
                   f"{_f(r['x_lnav_cpu'], '.2f')} | {check} |")
    return "\n".join(out)


def targets(inp: Input, tools: list[Tool]) -> dict[str, float | None]:
    """The issue's targets, as paired ratios and the full scan's tree PSS."""
    full = next((t.summary for t in tools if t.name == "logsleuth scan"), None)
    return {"full_x_lnav": paired(tools, "logsleuth scan", baseline_name(tools)),
            "full_x_lnav_cpu": paired(tools, "logsleuth scan", baseline_name(tools), cpu=True),
            "rules_add": (r - 1 if (r := paired(tools, "logsleuth scan --no-analysis",
                                                 "logsleuth scan --no-rules --no-analysis"))
                          else None),
            "rules_add_cpu": (r - 1 if (r := paired(tools, "logsleuth scan --no-analysis",
                                                     "logsleuth scan --no-rules --no-analysis",
                                                     cpu=True)) else None),
            "analysis_adds": (r - 1 if (r := paired(tools, "logsleuth scan",
                                                     "logsleuth scan --no-analysis")) else None),
            "tree_pss_mib": full.tree_pss_mib if full else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="64MiB")
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-runs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dask", action="store_true", help="also time --engine dask --workers 2")
    ap.add_argument("--pattern", action="store_true",
                    help="give the orders layout with --pattern instead of inferring it")
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "suite.json")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args(argv)
    shapes = args.shapes.split(",")
    if unknown := set(shapes) - set(SHAPES):
        ap.error(f"unknown shapes {sorted(unknown)}; known: {', '.join(SHAPES)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out_dir = ROOT / "bench" / "out"  # scratch (scan outputs, lnav's home): never beside
    out_dir.mkdir(parents=True, exist_ok=True)  # a --out that is committed under docs/
    doc: dict = {"date_start": datetime.now(UTC).isoformat(timespec="seconds"),
                 "command": "python bench/run_suite.py " + shlex.join(
                     argv if argv is not None else sys.argv[1:]),
                 "machine": {**machine(), "calibration_s": round(calibrate(), 3)},
                 "bytecode": warm_bytecode(), "load_before": load_average(),
                 "inputs": {}, "rows": [], "targets": {}, "sameness": {}}
    for shape in shapes:
        inp = prepare(shape, args.size, args.seed, args.data, args.pattern)
        nbytes = inp.manifest["bytes"]
        for f in ([inp.path] if inp.path.is_file() else sorted(inp.path.iterdir())):
            warm_cache(f)
        tools = build_tools(inp, out_dir / shape, args.dask)
        (out_dir / shape).mkdir(parents=True, exist_ok=True)
        same = Sameness()
        print(f"{shape}: {inp.path} ({nbytes / 1e6:,.0f} MB)", file=sys.stderr)
        measure(tools, args.repeat, out_dir / shape, args.timeout, args.memory_runs, same.see)
        doc["inputs"][shape] = {"path": str(inp.path), "records": inp.records,
                                "manifest": inp.manifest, "logsleuth_flags": list(inp.flags)}
        doc["rows"] += rows_for(inp, tools, nbytes)
        doc["targets"][shape] = targets(inp, tools)
        doc["sameness"][shape] = same.verdicts() or ["identical"]
    doc["load_after"] = load_average()
    doc["date_end"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    m = doc["machine"]
    print(f"\n{doc['command']}  ({doc['date_start']} .. {doc['date_end']})\n"
          f"{m['nproc']} CPUs {m['cpu_model']}, calibration {m['calibration_s']} s, "
          f"load {doc['load_before']} -> {doc['load_after']}\n\n{table(doc['rows'])}\n")
    for shape, t in doc["targets"].items():
        print(f"{shape}: {json.dumps(t)}; sameness: {'; '.join(doc['sameness'][shape])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
