"""Ingestion benchmark: logsleuth scan against grep, ripgrep and lnav on one incident log.

Usage (from the repository root)::

    python bench/run_ingest.py                      # 1 GiB, best/median of 3
    python bench/run_ingest.py --size 64MiB         # quick mode
    python bench/run_ingest.py --with-rules --analysis   # + scan --no-rules / --no-analysis

Generates ``bench/data/incident-<size>.log`` when missing, reads it once so every
tool runs on a warm page cache, computes the true record count with ``rg -c`` on the
header regex, then runs each tool ``--repeat`` times round-robin (timed, nothing
sampling the processes) and ``--memory-runs`` more times with the process tree
sampled for PSS, checks every tool's output against the true counts, prints a
Markdown table and writes ``bench/out/ingest.json``. A tool that is missing or rejects its flags is recorded
as unavailable instead of failing the run.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gen_incident_log import generate, parse_size
from measure import Summary, machine, run_once, warm_bytecode, warm_cache

ROOT = Path(__file__).resolve().parents[1]
HEADER_RE = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} "
NEEDLE = "OutOfDirectMemoryError"
LNAV_FORMAT = ROOT / "bench" / "lnav" / "log4j2_pattern_log.json"
LNAV_INDEX_SQL = (";SELECT count(*) AS n, sum(log_level = 'error') AS errors, "
                  "min(log_time) AS first, max(log_time) AS last FROM log4j2_pattern_log")
LNAV_BODY_SQL = (";SELECT count(*) AS n FROM log4j2_pattern_log "
                 f"WHERE log_body LIKE '%{NEEDLE}%'")
PY_CLI = "import sys; from logsleuth.cli import main; sys.exit(main())"

Check = Callable[[str], str]  # stdout -> what it proved; raises ValueError when wrong


@dataclass(slots=True)
class Tool:
    name: str
    cmd: list[str]
    check: Check
    env: dict[str, str] | None = None
    summary: Summary = field(init=False)

    def __post_init__(self) -> None:
        self.summary = Summary(self.name, self.cmd)


@dataclass(slots=True)
class Truth:
    """Counts the outputs are checked against: from rg and the generator's manifest."""

    records: int
    manifest: dict[str, int]


def _count_check(truth: Truth) -> Check:
    def check(out: str) -> str:
        n = int(out.strip())
        oom = truth.manifest.get("oom_records")
        # a wrapped OOM record names the class twice (EncoderException line + Caused by)
        if oom is not None and not oom <= n <= 2 * oom:
            raise ValueError(f"{n} lines outside [{oom}, {2 * oom}]")
        return f"{n} matching lines"
    return check


def _lnav_index_check(truth: Truth) -> Check:
    def check(out: str) -> str:
        row = json.loads(out)[0]
        if row["n"] != truth.records:
            raise ValueError(f"lnav saw {row['n']} log4j2 records, file has {truth.records}")
        errors = truth.manifest.get("oom_records", 0) + truth.manifest.get("npe_records", 0)
        if truth.manifest and row["errors"] != errors:
            raise ValueError(f"lnav saw {row['errors']} ERROR records, file has {errors}")
        return f"{row['n']} log4j2 records, {row['errors']} errors, {row['first']}..{row['last']}"
    return check


def _lnav_body_check(truth: Truth) -> Check:
    def check(out: str) -> str:
        n = json.loads(out)[0]["n"]
        oom = truth.manifest.get("oom_records")
        if oom is not None and n != oom:
            raise ValueError(f"lnav found {n} OOM records, file has {oom}")
        return f"{n} OOM records"
    return check


def _find_int(data: object, keys: tuple[str, ...]) -> int | None:
    """First integer under one of ``keys`` anywhere in a JSON document."""
    if isinstance(data, dict):
        for k in keys:
            if isinstance(data.get(k), int):
                return data[k]
        data = list(data.values())
    if isinstance(data, list):
        for v in data:
            found = _find_int(v, keys)
            if found is not None:
                return found
    return None


def _logsleuth_check(truth: Truth) -> Check:
    def check(out: str) -> str:
        doc = json.loads(out)
        n = _find_int(doc, ("records", "n_records", "record_count"))
        if n is None:
            return f"valid JSON ({len(out)} B), no record count found"
        if n != truth.records:
            raise ValueError(f"logsleuth reports {n} records, file has {truth.records}")
        return f"{n} records"
    return check


def logsleuth_command() -> list[str] | None:
    """The installed console script, else the CLI module of this checkout, else None."""
    exe = shutil.which("logsleuth")
    if exe:
        return [exe]
    if (ROOT / "logsleuth" / "cli").is_dir() or (ROOT / "logsleuth" / "cli.py").is_file():
        return [sys.executable, "-c", PY_CLI]
    return None


def _logsleuth_tools(path: Path, truth: Truth, args: argparse.Namespace) -> list[Tool]:
    variants = [("logsleuth scan", [])]
    if args.with_rules:
        variants.append(("logsleuth scan --no-rules", ["--no-rules"]))
    if args.analysis:
        variants.append(("logsleuth scan --no-analysis", ["--no-analysis"]))
    if args.with_rules or args.analysis:  # the ingestion baseline both costs are measured on
        variants.append(("logsleuth scan --no-rules --no-analysis", ["--no-rules", "--no-analysis"]))
    base = logsleuth_command()
    tools = [Tool(name, [*(base or ["logsleuth"]), "scan", str(path), "--format", "json",
                         *flags], _logsleuth_check(truth)) for name, flags in variants]
    if base is None:
        for t in tools:
            t.summary.available = False
            t.summary.note = "logsleuth command not found"
        return tools
    probe = subprocess.run([*base, "scan", "--help"], capture_output=True, text=True,
                           cwd=ROOT, check=False, timeout=120)
    for (_, flags), t in zip(variants, tools, strict=True):
        if probe.returncode != 0:
            t.summary.available = False
            t.summary.note = f"`scan --help` failed: {_tail(probe.stderr or probe.stdout)}"
        elif missing := [f for f in ["--format", *flags] if f not in probe.stdout]:
            t.summary.available = False
            t.summary.note = f"`scan --help` lists no {' '.join(missing)}"
    return tools


def _tail(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1][:200] if lines else ""


def build_tools(path: Path, truth: Truth, out_dir: Path,
                args: argparse.Namespace) -> list[Tool]:
    tools = [
        Tool("grep -c", ["grep", "-c", NEEDLE, str(path)], _count_check(truth)),
        Tool("rg -c", ["rg", "-c", NEEDLE, str(path)], _count_check(truth)),
    ]
    home = out_dir / "lnav-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "dumb"}
    if shutil.which("lnav"):
        subprocess.run(["lnav", "-i", str(LNAV_FORMAT)], env=env, capture_output=True,
                       check=True)
    for name, sql, check in (("lnav index", LNAV_INDEX_SQL, _lnav_index_check(truth)),
                             ("lnav body LIKE", LNAV_BODY_SQL, _lnav_body_check(truth))):
        tools.append(Tool(name, ["lnav", "-n", "-c", sql, "-c", ":write-json-to -", str(path)],
                          check, env))
    for t in tools:
        if shutil.which(t.cmd[0]) is None:
            t.summary.available = False
            t.summary.note = f"{t.cmd[0]} not installed"
    if not args.no_logsleuth:
        tools += _logsleuth_tools(path, truth, args)
    selected = set(args.tools.split(",")) if args.tools else None
    return [t for t in tools if selected is None or t.name.split()[0] in selected]


def measure(tools: list[Tool], repeat: int, out_dir: Path, timeout_s: float,
            memory_runs: int = 2,
            on_output: Callable[[Tool, int, Path], None] | None = None) -> None:
    """Round-robin the tools so drift on a shared machine hits them all alike.

    ``repeat`` timed rounds run with nothing watching the processes; then
    ``memory_runs`` rounds sample each tool's process tree for PSS and CPU, whose wall
    times are not used (sampling slows the sampled process, see ``run_once``).
    ``on_output(tool, round, stdout)`` sees every successful run's output, so a caller
    can check that repeated rounds give identical results.
    """
    for i in range(repeat + memory_runs):
        sample = i >= repeat
        for t in tools:
            s = t.summary
            if not s.available:
                continue
            slug = t.name.replace(" ", "_").replace("-", "")
            stdout, stderr = out_dir / f"{slug}.stdout", out_dir / f"{slug}.stderr"
            run = run_once(t.cmd, stdout, stderr, env=t.env, cwd=ROOT, timeout_s=timeout_s,
                           sample=sample)
            (s.memory_runs if sample else s.runs).append(run)
            what = f"memory run {i - repeat + 1}/{memory_runs}" if sample \
                else f"run {i + 1}/{repeat}"
            print(f"  {what} {t.name}: {run.wall_s:.2f} s, "
                  f"{run.max_rss_kib / 1024:.0f} MiB, rc={run.returncode}", file=sys.stderr)
            if run.timed_out or run.returncode != 0:
                s.available = False
                why = "timed out" if run.timed_out else f"exit {run.returncode}"
                s.note = f"{why}: {_tail(stderr.read_text(errors='replace'))}"
            else:
                if on_output is not None:
                    on_output(t, i, stdout)
                if i != 0:
                    continue
                try:
                    s.check = t.check(stdout.read_text(errors="replace"))
                except (ValueError, KeyError, IndexError, TypeError) as exc:
                    s.check = f"WRONG OUTPUT: {exc}"


def _fmt(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def report(tools: list[Tool], size: int, records: int) -> tuple[str, list[dict]]:
    """Markdown table and JSON rows; ratios are against ``lnav index``."""
    lnav = next((t.summary.best_s for t in tools if t.name == "lnav index"), None)
    lines = ["| tool | best s | median s | CPU s | tree CPU s | MB/s | records/s "
             "| peak RSS MiB | tree PSS MiB | × lnav | check |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    rows = []
    for t in tools:
        s = t.summary
        best = s.best_s if s.available else None
        mb_s = size / best / 1e6 if best else None
        rec_s = records / best if best else None
        ratio = best / lnav if best and lnav else None
        check = s.check if s.available else f"unavailable: {s.note}"
        lines.append(f"| {t.name} | {_fmt(best, '.3f')} | {_fmt(s.median_s, '.3f')} | "
                     f"{_fmt(s.best_cpu_s, '.2f')} | {_fmt(s.best_tree_cpu_s, '.2f')} | "
                     f"{_fmt(mb_s, ',.0f')} | {_fmt(rec_s, ',.0f')} | "
                     f"{_fmt(s.peak_rss_mib, ',.0f')} | {_fmt(s.tree_pss_mib, ',.0f')} | "
                     f"{_fmt(ratio, '.2f')} | {check} |")
        rows.append({**asdict(s), "best_s": best, "median_s": s.median_s,
                     "best_cpu_s": s.best_cpu_s, "best_tree_cpu_s": s.best_tree_cpu_s,
                     "tree_pss_mib": s.tree_pss_mib,
                     "mb_per_s": mb_s, "records_per_s": rec_s,
                     "peak_rss_mib": s.peak_rss_mib, "ratio_vs_lnav_index": ratio})
    return "\n".join(lines), rows


# (label, numerator, denominator): the ratios the issues set targets on
PAIRED = (("rules keep (ingestion / + rules)", "logsleuth scan --no-rules --no-analysis",
           "logsleuth scan --no-analysis"),
          ("analysis adds (full scan / --no-analysis)", "logsleuth scan",
           "logsleuth scan --no-analysis"))


def paired_ratios(tools: list[Tool]) -> dict[str, dict[str, float]]:
    """Best/best, median/median, and the median of per-round ratios.

    Round *i* of two commands runs back to back, so their ratio cancels the drift
    of a shared machine that best-of and median-of each mix differently.
    """
    by = {t.name: t.summary for t in tools if t.summary.available}
    out = {}
    for label, num, den in PAIRED:
        if num not in by or den not in by:
            continue
        a = [r.wall_s for r in by[num].runs]
        b = [r.wall_s for r in by[den].runs]
        out[label] = {"best": min(a) / min(b), "median": statistics.median(a) / statistics.median(b),
                      "paired_median": statistics.median(x / y for x, y in zip(a, b,
                                                                                 strict=False))}
    return out


def true_records(path: Path) -> int:
    res = subprocess.run(["rg", "-c", HEADER_RE, str(path)], capture_output=True, text=True,
                         check=True)
    return int(res.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1GiB", help="1GiB (default) or 64MiB for a quick run")
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds")
    ap.add_argument("--memory-runs", type=int, default=2,
                    help="extra rounds sampling each process tree (PSS), not timed")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "ingest.json")
    ap.add_argument("--with-rules", action="store_true", help="also time scan --no-rules")
    ap.add_argument("--analysis", action="store_true", help="also time scan --no-analysis")
    ap.add_argument("--no-logsleuth", action="store_true", help="only grep, rg and lnav")
    ap.add_argument("--tools", help="comma list of grep,rg,lnav,logsleuth (default: all)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    args = ap.parse_args(argv)
    try:
        size = parse_size(args.size)
    except ValueError as exc:
        ap.error(str(exc))
    path = args.data / f"incident-{args.size}.log"
    mpath = Path(f"{path}.json")
    if not (path.exists() and mpath.exists()
            and json.loads(mpath.read_text())["seed"] == args.seed):
        print(f"generating {path} ...", file=sys.stderr)
        generate(path, size, args.seed)
    manifest = json.loads(mpath.read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out_dir = ROOT / "bench" / "out"  # scratch (scan outputs, lnav's home): never beside
    out_dir.mkdir(parents=True, exist_ok=True)  # a --out that is committed under docs/
    nbytes = path.stat().st_size
    warm_s = warm_cache(path)
    bytecode = warm_bytecode() if not args.no_logsleuth else "logsleuth not run"
    records = true_records(path)
    if records != manifest["records"]:
        raise SystemExit(f"rg counts {records} records, manifest says {manifest['records']}")
    truth = Truth(records, {k: v for k, v in manifest.items() if isinstance(v, int)})
    tools = build_tools(path, truth, out_dir, args)
    measure(tools, args.repeat, out_dir, args.timeout, args.memory_runs)
    table, rows = report(tools, nbytes, records)
    command = "python bench/run_ingest.py " + shlex.join(argv if argv is not None
                                                         else sys.argv[1:])
    doc = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "command": command.strip(),
           "machine": machine(), "file": {"path": str(path), "bytes": nbytes,
                                          "records": records, "manifest": manifest},
           "cache": f"warm: file read once before timing ({warm_s:.2f} s)",
           "bytecode": bytecode,
           "repeat": args.repeat, "memory_runs": args.memory_runs, "results": rows,
           "paired": paired_ratios(tools)}
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    m = doc["machine"]
    print(f"\n{command.strip()}  ({doc['date']})\n{m['nproc']} CPUs {m['cpu_model']}, "
          f"{m['mem_total_gib']} GiB; file {nbytes / 1e6:,.0f} MB, {records:,} records; "
          f"warm page cache; best/median of {args.repeat} timed rounds; tree CPU and PSS "
          f"from {args.memory_runs} sampled rounds\n\n{table}\n")
    for label, r in doc["paired"].items():
        print(f"{label}: {r['best']:.3f} best/best, {r['median']:.3f} median/median, "
              f"{r['paired_median']:.3f} median of per-round ratios")
    return 0


if __name__ == "__main__":
    sys.exit(main())
