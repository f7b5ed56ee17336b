"""`logsleuth watch` following a live append stream: CPU, memory, lag, idle, lead time.

    python bench/watch_stream.py stream --rate-mb 20 --seconds 600 --idle 300 --out R.json
    python bench/watch_stream.py stream --size 3GB --span-days 30 --rate-mb 20 --out R.json
    python bench/watch_stream.py lead --leak 1024:64 --leak 256:64 --leak 64:64 --out R.json
    python bench/watch_stream.py --quick --out R.json   # a smoke test of the whole harness

``stream``: a writer process (this file, ``writer``) appends a generated incident log
(bench/gen_incident_log.py: websocket traffic, a monitor gauge line every second growing
256 B per disconnect, OOM traces at the end) to ``logs/app.log`` at ``--rate-mb`` in
100 ms slices cut anywhere (half-written lines included); at every ``--rotate-mb`` it
rolls at a line end by rename, as log4j2's RollingFile does, and gzips the rolled file
(level 6, log4j2's default) in the background, keeping ``--keep`` archives. The real CLI
``logsleuth watch --jsonl --state`` follows ``logs/`` as another process; once a second
the harness samples its CPU (utime+stime), RSS and PSS, bytes read (``rchar``) and
context switches from /proc, and the writer's progress. The read offsets of its
checkpoints give the exact lag; then it idles for ``--idle`` seconds.

``lead``: streams with a leak that starts after ``--leak-start-h`` hours of log time and
grows AMOUNT bytes per disconnect up to a stated ceiling of CEILING MiB, written at a
speed that puts the leak into about ``--lead-wall`` seconds of wall time; the first
``forecast`` event is compared with the truth (leak start, first OOM record, the gauge).
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from gen_incident_log import START, LeakPlan, generate, parse_size  # noqa: E402
from measure import calibrate, load_average, machine  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
SLICE_S = 0.1
BURST_CPU_S = 0.05  # an idle second with this much CPU did work (an analysis): a burst
CACHE = Path(os.environ.get("WATCH_STREAM_CACHE",
                            Path(tempfile.gettempdir()) / "logsleuth-watch-stream"))
STAMP = re.compile(rb"\n(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) ")
GAUGE = re.compile(rb"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) .*netty_direct_memory: (\d+)k$",
                   re.MULTILINE)


# -- the writer process --------------------------------------------------------------
def writer(args: argparse.Namespace) -> int:
    """Append ``args.source`` to ``args.dest/app.log`` at ``args.rate`` B/s; roll and gzip."""
    dest, rate = Path(args.dest), args.rate
    live = dest / "app.log"
    out = live.open("ab")
    written = size = rolls = 0
    archives: list[Path] = []
    gz_done = [0]
    gz_threads: list[threading.Thread] = []
    log_time = ""
    t0 = time.monotonic()
    behind = 0.0

    def compress(rolled: Path, target: Path) -> None:
        with rolled.open("rb") as src, gzip.open(target, "wb", compresslevel=6) as gz:
            shutil.copyfileobj(src, gz, 4 << 20)
        rolled.unlink()
        gz_done[0] += 1

    def status(final: bool = False) -> None:
        print(json.dumps({"t": time.time(), "elapsed": round(time.monotonic() - t0, 3),
                          "written": written, "rolls": rolls,
                          "compressed": gz_done[0], "log_time": log_time, "behind_s": behind,
                          "final": final}), flush=True)

    with open(args.source, "rb") as src:
        k = 0
        while True:
            k += 1
            due = t0 + k * SLICE_S
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            else:
                behind = max(behind, -wait)
            data = src.read(int(rate * SLICE_S) if rate else 4 << 20)
            if not data:
                break
            if args.rotate and size + len(data) >= args.rotate:
                cut = data.find(b"\n", max(args.rotate - size - 1, 0)) + 1
                if cut > 0:  # roll at a line end, as the logger does between events
                    out.write(data[:cut])
                    out.close()
                    rolls += 1
                    rolled = dest / f"app-{rolls}.log"
                    os.rename(live, rolled)
                    out = live.open("ab")
                    size, written, data = 0, written + cut, data[cut:]
                    gz = dest / f"app-{rolls}.log.gz"
                    archives.append(gz)
                    t = threading.Thread(target=compress, args=(rolled, gz), daemon=True)
                    t.start()
                    gz_threads.append(t)
                    while len(archives) > args.keep and not gz_threads[0].is_alive():
                        archives.pop(0).unlink(missing_ok=True)
                        gz_threads.pop(0)
            out.write(data)
            out.flush()
            size += len(data)
            written += len(data)
            stamps = STAMP.findall(data, max(0, len(data) - 4096))
            if stamps:
                log_time = stamps[-1].decode()
            status()  # every slice: the harness knows what was written when
    out.close()
    for t in gz_threads:
        t.join()
    status(final=True)
    return 0


# -- /proc ---------------------------------------------------------------------------
def proc_sample(pid: int) -> dict[str, float] | None:
    """CPU seconds, RSS and PSS (MiB), bytes read, context switches of all threads."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        io = Path(f"/proc/{pid}/io").read_text()
        vol = invol = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/status").read_text()
            vol += int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", text, re.M)[1])
            invol += int(re.search(r"^nonvoluntary_ctxt_switches:\s+(\d+)", text, re.M)[1])
    except (OSError, TypeError):
        return None
    kib = {k: int(re.search(rf"^{k}:\s+(\d+) kB", text, re.M)[1])
           for k, text in (("VmRSS", status), ("Pss", rollup))}
    return {"cpu_s": (int(stat[11]) + int(stat[12])) / TICK,
            "rss_mib": round(kib["VmRSS"] / 1024, 1), "pss_mib": round(kib["Pss"] / 1024, 1),
            "rchar": int(re.search(r"^rchar:\s+(\d+)", io, re.M)[1]),
            "wakeups": vol, "preempted": invol, "threads": int(stat[17])}


def thread_switches(pid: int) -> dict[str, int]:
    """Voluntary context switches per thread ("tid name"): which thread wakes when idle."""
    out: dict[str, int] = {}
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/status").read_text()
            name = re.search(r"^Name:\s+(.*)$", text, re.M)[1]  # type: ignore[index]
            out[f"{task} {name}"] = int(
                re.search(r"^voluntary_ctxt_switches:\s+(\d+)", text, re.M)[1])  # type: ignore[index]
    except OSError:
        pass
    return out


def read_offsets(state: Path) -> int | None:
    """Bytes of the log the watcher's last checkpoint had read (per stream, its fullest
    copy: a rolled file and its .gz continue one stream)."""
    try:  # a zip holding state.json (state version 2), or that JSON alone (version 1)
        if zipfile.is_zipfile(state):
            with zipfile.ZipFile(state) as z:
                data = json.loads(z.read("state.json"))
        else:
            data = json.loads(state.read_text())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    best: dict[str, int] = {}
    for t in [*data["follower"]["files"], *data["follower"]["gone"]]:
        best[t["stream"]] = max(best.get(t["stream"], 0), int(t["offset"]))
    return sum(best.values())


# -- one watched stream ------------------------------------------------------------
def source_for(size: int, span_s: float, seed: int, leak: LeakPlan | None = None) -> Path:
    """The generated log, cached by its parameters (generation is not measured)."""
    key = f"{size}-{int(span_s)}-{seed}"
    if leak is not None:
        key += f"-leak{leak.per_disconnect}-{int(leak.start_s)}-{leak.ceiling}"
    path = CACHE / f"incident-{key}.log"
    if not path.exists() or not Path(f"{path}.json").exists():
        generate(path, size, seed, span_s, leak)
    return path


def watch_stream(source: Path, rate: float, *, idle: float, interval: float,
                 rotate: int, keep: int, extra: list[str] | None = None,
                 catch_up_s: float = 600.0) -> dict[str, Any]:
    """Stream ``source`` to a watched folder; sample the watcher; the run's figures."""
    with tempfile.TemporaryDirectory(prefix="watch-stream.") as tmp:
        work = Path(tmp)
        logs = work / "logs"
        logs.mkdir()
        (logs / "app.log").write_bytes(b"")
        state, events = work / "state.json", work / "events.jsonl"
        cmd = [sys.executable, "-c", "from logsleuth.cli import main; main()", "watch",
               str(logs), "--tz", "UTC", "--interval", str(interval), "--state", str(state),
               "--jsonl", str(events), "--no-live", *(extra or [])]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        err = (work / "watch.err").open("wb")
        watcher = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            return _drive(watcher, source, rate, logs, state, events, idle=idle,
                          interval=interval, rotate=rotate, keep=keep, catch_up_s=catch_up_s,
                          err=work / "watch.err")
        finally:
            if watcher.poll() is None:
                watcher.kill()
                watcher.wait()
            err.close()


def _drive(watcher: subprocess.Popen, source: Path, rate: float, logs: Path, state: Path,
           events: Path, *, idle: float, interval: float, rotate: int, keep: int,
           catch_up_s: float, err: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while not (events.exists() and events.stat().st_size) and time.monotonic() < deadline:
        if watcher.poll() is not None:
            raise RuntimeError(f"watch exited {watcher.returncode}: {err.read_text()[-2000:]}")
        time.sleep(0.2)
    time.sleep(1.0)  # its backfill of the empty file
    base = proc_sample(watcher.pid)
    assert base is not None
    load_before = load_average()
    wcmd = [sys.executable, __file__, "writer", str(source), str(logs), "--rate", str(rate),
            "--rotate", str(rotate), "--keep", str(keep)]
    w = subprocess.Popen(wcmd, stdout=subprocess.PIPE, text=True)
    progress: dict[str, Any] = {"written": 0, "log_time": "", "rolls": 0, "compressed": 0}
    lines: list[dict[str, Any]] = []

    def follow_writer() -> None:
        for line in w.stdout:  # type: ignore[union-attr]
            status = json.loads(line)
            lines.append(status)
            progress.update(status)

    reader = threading.Thread(target=follow_writer, daemon=True)
    reader.start()
    t0 = time.monotonic()
    samples: list[dict[str, Any]] = []
    checkpoints: list[dict[str, Any]] = []
    last_state = 0

    def sample(phase: str) -> None:
        nonlocal last_state
        s = proc_sample(watcher.pid)
        if s is None:
            return
        ws = proc_sample(w.pid) if w.poll() is None else None
        s.update(t=round(time.monotonic() - t0, 2), phase=phase,
                 cpu_s=round(s["cpu_s"] - base["cpu_s"], 2),
                 read=int(s["rchar"] - base["rchar"]), written=progress["written"],
                 log_time=progress["log_time"], load1=load_average()[0],
                 writer_cpu_s=None if ws is None else ws["cpu_s"])
        del s["rchar"]
        samples.append(s)
        try:
            mtime = state.stat().st_mtime_ns
        except OSError:
            return
        if mtime != last_state:
            last_state = mtime
            off = read_offsets(state)
            if off is not None:  # against what was written when the checkpoint was
                at = bisect.bisect_right([x["t"] for x in lines], mtime / 1e9) - 1
                then = lines[at] if at >= 0 else {"written": 0, "log_time": ""}
                checkpoints.append({"t": s["t"], "read": off, "written": then["written"],
                                    "log_time": then["log_time"]})

    while w.poll() is None:
        time.sleep(1.0 - (time.monotonic() - t0) % 1.0)
        sample("stream")
    reader.join(10)
    end_write = time.monotonic()
    total = progress["written"]
    while time.monotonic() - end_write < catch_up_s:
        time.sleep(1.0 - (time.monotonic() - t0) % 1.0)
        sample("catch-up")
        if checkpoints and checkpoints[-1]["read"] >= total:
            break
    caught = time.monotonic()
    i0 = len(samples)
    per_thread: list[dict[str, int]] = []  # which thread wakes, second by second
    while time.monotonic() - caught < idle:
        time.sleep(1.0 - (time.monotonic() - t0) % 1.0)
        sample("idle")
        per_thread.append(thread_switches(watcher.pid))
    watcher.send_signal(signal.SIGTERM)
    code = watcher.wait(120)
    final = read_offsets(state)
    evs = [json.loads(x) for x in events.read_text().splitlines()]
    load_after = load_average()
    return summarise(samples, i0, checkpoints, evs, lines, total=total, final=final,
                     stream_s=end_write - t0, catch_up_s=caught - end_write, code=code,
                     load=(load_before, load_after), interval=interval,
                     truth=json.loads(Path(f"{source}.json").read_text()),
                     idle_threads=per_thread)


# -- figures -------------------------------------------------------------------------
def _slope(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return None if var == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def _log_s(text: str) -> float | None:
    if not text:
        return None
    return (datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=UTC)
            - START).total_seconds()


def summarise(samples: list[dict[str, Any]], i0: int, checkpoints: list[dict[str, Any]],
              events: list[dict[str, Any]], writer_lines: list[dict[str, Any]], *,
              total: int, final: int | None, stream_s: float, catch_up_s: float, code: int,
              load: tuple[list[float], list[float]], interval: float,
              truth: dict[str, Any],
              idle_threads: list[dict[str, int]] | None = None) -> dict[str, Any]:
    busy = samples[:i0]
    idle = samples[i0:]
    kinds: dict[str, int] = {}
    for e in events:
        kinds[e["event"]] = kinds.get(e["event"], 0) + 1
    lags = [c["written"] - c["read"] for c in checkpoints if c["t"] <= stream_s]
    out: dict[str, Any] = {
        "bytes_written": total, "bytes_read_final": final,
        "all_read": final == total, "exit": code, "interval_s": interval,
        # records parsed against records written: each read once, none lost
        "records_read": next((e.get("records") for e in events if e["event"] == "stopped"),
                             None),
        "records_true": truth["records"],
        "stream_wall_s": round(stream_s, 1),
        "rate_achieved_mb_s": round(total / writer_lines[-1]["elapsed"] / 1e6, 2)
        if writer_lines and writer_lines[-1]["elapsed"] else None,
        "writer_behind_max_s": max((x.get("behind_s", 0) for x in writer_lines), default=0),
        "rolls": writer_lines[-1]["rolls"] if writer_lines else 0,
        "compressed": writer_lines[-1]["compressed"] if writer_lines else 0,
        "catch_up_s": round(catch_up_s, 1),
        "lag_max_bytes": max(lags, default=None),
        "lag_median_bytes": sorted(lags)[len(lags) // 2] if lags else None,
        # analyses (each writes a checkpoint): the longest time without one while writing
        "checkpoints_while_writing": len(lags),
        "checkpoint_gap_max_s": max((b["t"] - a["t"] for a, b in pairwise(checkpoints)
                                     if a["t"] <= stream_s), default=None),
        "load_before": load[0], "load_after": load[1], "events": kinds,
    }
    if busy:
        cpu = busy[-1]["cpu_s"]
        out.update(stream_cpu_s=cpu, stream_cpu_share=round(cpu / busy[-1]["t"], 3),
                   peak_rss_mib=max(s["rss_mib"] for s in busy),
                   peak_pss_mib=max(s["pss_mib"] for s in busy),
                   writer_cpu_s=next((s["writer_cpu_s"] for s in reversed(busy)
                                      if s["writer_cpu_s"] is not None), None))
        out.update(memory_figures(busy, truth["flood_start_byte"]))
    if len(idle) >= 2:
        span = idle[-1]["t"] - idle[0]["t"]
        out.update(idle_s=round(span, 1),
                   idle_cpu_s=round(idle[-1]["cpu_s"] - idle[0]["cpu_s"], 3),
                   idle_wakeups_per_s=round((idle[-1]["wakeups"] - idle[0]["wakeups"]) / span, 2),
                   idle_rss_mib=idle[-1]["rss_mib"], idle_pss_mib=idle[-1]["pss_mib"])
        out.update(idle_wakeups(idle, idle_threads or []))
    out["forecasts"] = [{k: e.get(k) for k in ("evidence_time", "eta", "eta_earliest",
                                                "eta_latest", "rate_source", "metric",
                                                "confidence", "last_value", "per_event")}
                        for e in events if e["event"] == "forecast"]
    out["onsets"] = [e.get("onset") for e in events if e["event"] == "onset"]
    out["event_log"] = [{k: e.get(k) for k in ("event", "wall_time", "evidence_time", "records",
                                               "eta", "rule", "metric")} for e in events]
    out["samples"] = samples
    out["checkpoints"] = checkpoints
    return out


def idle_wakeups(idle: list[dict[str, Any]], threads: list[dict[str, int]]) -> dict[str, Any]:
    """Steady wakeups apart from bursts: a mean over the idle phase hid that one second of
    work (the last record settling, then an analysis: 12,129 switches in 0.5 CPU s) made
    a watcher that switched 2 times a second read as 103.6."""
    steps = [(b["t"], b["cpu_s"] - a["cpu_s"], b["wakeups"] - a["wakeups"])
             for a, b in pairwise(idle)]
    busy = {i for i, (_, cpu, _) in enumerate(steps) if cpu >= BURST_CPU_S}
    quiet = sorted(w for i, (_, _, w) in enumerate(steps) if i not in busy)
    span = sum(1.0 for i in range(len(steps)) if i not in busy) or 1.0
    out: dict[str, Any] = {
        "idle_wakeups_median_per_s": quiet[len(quiet) // 2] if quiet else None,
        "idle_wakeups_quiet_per_s": round(sum(quiet) / span, 2),
        "idle_bursts": [{"t": t, "cpu_s": round(cpu, 2), "wakeups": w}
                        for i, (t, cpu, w) in enumerate(steps) if i in busy]}
    if len(threads) == len(idle) and len(threads) >= 2:
        quiet_by: dict[str, float] = {}
        burst_by: dict[str, int] = {}
        for i, (a, b) in enumerate(pairwise(threads)):
            for k, v in b.items():
                d = v - a.get(k, v)
                if i in busy:
                    burst_by[k] = burst_by.get(k, 0) + d
                else:
                    quiet_by[k] = quiet_by.get(k, 0) + d / span
        out["idle_threads"] = len(threads[-1])
        out["idle_quiet_wakeups_by_thread"] = {k: round(v, 2) for k, v in quiet_by.items() if v}
        out["idle_burst_wakeups_by_thread"] = {k: v for k, v in burst_by.items() if v}
    return out


def memory_figures(busy: list[dict[str, Any]], traffic_bytes: int) -> dict[str, Any]:
    """RSS against log time while writing: by log day, and the slope once warm."""
    # the traffic phase's second half, after warm-up: does memory still grow with
    # log time? (the OOM flood at the end packs gigabytes into minutes of log time)
    traffic = [s for s in busy if s["written"] <= traffic_bytes] or busy
    half = traffic[len(traffic) // 2:]
    gb = [s["written"] / 1e9 for s in half]
    days = [(_log_s(s["log_time"]) or 0) / 86400 for s in half]
    rss = [s["rss_mib"] for s in half]
    by_day: list[list[float]] = []
    for s in busy:
        day = (_log_s(s["log_time"]) or 0) / 86400
        if day >= len(by_day):
            by_day.append([round(day, 2), s["rss_mib"], s["pss_mib"]])
    return {"rss_slope_mib_per_gb": _round(_slope(gb, rss)),
            "rss_slope_mib_per_log_day": _round(_slope(days, rss)),
            "log_days": round(max((_log_s(s["log_time"]) or 0) / 86400 for s in busy), 2),
            "rss_traffic_second_half": [min(rss, default=0), max(rss, default=0)],
            "rss_by_log_day": by_day,
            "rss_flood_peak": max((s["rss_mib"] for s in busy if s["written"] > traffic_bytes),
                                  default=None)}


def _round(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


# -- lead time -------------------------------------------------------------------------
def gauge_series(path: Path) -> list[tuple[float, int]]:
    """(log seconds since START, bytes) of every monitor line of the generated log."""
    data = path.read_bytes()
    return [(_log_s(m.group(1).decode()) or 0.0, int(m.group(2)) * 1024)
            for m in GAUGE.finditer(data)]


def lead_case(amount: int, ceiling_mib: int, args: argparse.Namespace) -> dict[str, Any]:
    ceiling = ceiling_mib << 20
    start_s = args.leak_start_h * 3600
    leak = LeakPlan(per_disconnect=amount, start_s=start_s, ceiling=ceiling)
    size = parse_size(args.size)
    src = source_for(size, size * 0.7 / (args.log_kb_s * 1000), args.seed, leak)
    manifest = json.loads(Path(f"{src}.json").read_text())
    if not manifest["first_oom_ts"]:
        raise SystemExit(f"{src}: the leak does not reach its ceiling within {args.size}")
    oom_s = _log_s(manifest["first_oom_ts"])
    leak_s = _log_s(manifest["leak_start_ts"])
    assert oom_s is not None and leak_s is not None
    leak_bytes = manifest["flood_start_byte"] * (oom_s - leak_s) / oom_s
    rate = max(leak_bytes / args.lead_wall, 1e5)
    run = watch_stream(src, rate, idle=0, interval=args.interval, rotate=0, keep=0,
                       catch_up_s=120)
    series = gauge_series(src)
    base = series[0][1]
    first = next((f for f in run["forecasts"] if f["eta"]), None)
    case: dict[str, Any] = {
        "per_disconnect": amount, "ceiling": ceiling, "leak_start": manifest["leak_start_ts"],
        "first_oom": manifest["first_oom_ts"], "leak_hours": round((oom_s - leak_s) / 3600, 2),
        "growth_total": ceiling - base, "replay_speed": round(rate * (oom_s - leak_s) / leak_bytes),
        "analysis_every_log_min": round(args.interval * rate * (oom_s - leak_s)
                                        / leak_bytes / 60, 1),
        "forecasts": len(run["forecasts"]), "first_forecast": first,
        "stream_cpu_s": run.get("stream_cpu_s"), "all_read": run["all_read"],
    }
    if first is not None:
        ev = _log_s(first["evidence_time"].replace("T", " ").rstrip("Z"))
        eta = _log_s(first["eta"].replace("T", " ").rstrip("Z"))
        assert ev is not None and eta is not None
        grown = max((v for t, v in series if t <= ev), default=base) - base
        case.update(after_leak_start_h=round((ev - leak_s) / 3600, 2),
                    before_oom_h=round((oom_s - ev) / 3600, 2),
                    grown_bytes=grown, grown_pct_of_room=round(100 * grown / (ceiling - base), 1),
                    grown_pct_of_ceiling=round(100 * grown / ceiling, 1),
                    eta_error_h=round((eta - oom_s) / 3600, 2),
                    eta_error_pct_of_lead=round(100 * (eta - oom_s) / (oom_s - ev), 1))
    later = [f for f in run["forecasts"] if f["eta"]]
    case["eta_errors_pct"] = []
    for f in later:
        ev = _log_s(f["evidence_time"].replace("T", " ").rstrip("Z")) or 0.0
        eta = _log_s(f["eta"].replace("T", " ").rstrip("Z")) or 0.0
        if ev < oom_s:
            lo, hi = (_log_s((f.get(k) or "").replace("T", " ").rstrip("Z"))
                      for k in ("eta_earliest", "eta_latest"))
            held = None if lo is None or hi is None else lo <= oom_s <= hi
            case["eta_errors_pct"].append([round((ev - leak_s) / 3600, 2),
                                           round(100 * (eta - oom_s) / (oom_s - ev), 1), held])
    held = [h for *_, h in case["eta_errors_pct"] if h is not None]
    case["range_held_share"] = round(sum(held) / len(held), 2) if held else None
    within = next((e for e in case["eta_errors_pct"] if abs(e[1]) <= 10), None)
    case["first_within_10pct_after_start_h"] = None if within is None else within[0]
    return case


# -- entry ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a short smoke test of everything")
    ap.add_argument("--out", type=Path, help="write the run's JSON here")
    sub = ap.add_subparsers(dest="mode")
    wr = sub.add_parser("writer", help="(internal) the appending process")
    wr.add_argument("source")
    wr.add_argument("dest")
    wr.add_argument("--rate", type=float, required=True, help="bytes/s (0: as fast as it can)")
    wr.add_argument("--rotate", type=int, default=0)
    wr.add_argument("--keep", type=int, default=3)
    st = sub.add_parser("stream", help="follow an append stream, then idle")
    st.add_argument("--rate-mb", type=float, default=20.0)
    st.add_argument("--seconds", type=float, default=600.0)
    st.add_argument("--size", help="bytes of log (default: rate × seconds)")
    st.add_argument("--span-days", type=float, default=3.0, help="log time of the traffic")
    st.add_argument("--idle", type=float, default=300.0)
    st.add_argument("--interval", type=float, default=10.0)
    st.add_argument("--rotate-mb", type=float, default=1000.0)
    st.add_argument("--keep", type=int, default=3)
    st.add_argument("--seed", type=int, default=1)
    ld = sub.add_parser("lead", help="forecast lead time at several leak rates")
    ld.add_argument("--leak", action="append", default=[], metavar="AMOUNT:CEILING_MIB")
    ld.add_argument("--leak-start-h", type=float, default=2.0)
    ld.add_argument("--log-kb-s", type=float, default=10.0, help="mean log bytes per log second")
    ld.add_argument("--size", default="4GB", help="upper bound of each log")
    ld.add_argument("--lead-wall", type=float, default=120.0)
    ld.add_argument("--interval", type=float, default=1.0)
    ld.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if args.mode == "writer":
        return writer(args)
    if args.quick:
        # idle past the watcher's 5 s settle: its last record is held until then
        args = ap.parse_args(["stream", "--rate-mb", "10", "--seconds", "4", "--idle", "7",
                              "--interval", "1", "--rotate-mb", "15", "--span-days", "0.1"])
        args.out = ap.parse_args(argv).out
    if args.mode is None:
        ap.error("say stream, lead or --quick")
    record: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                              "argv": sys.argv[1:], "machine": machine(),
                              "calibrate_s": round(calibrate(), 3),
                              "uptime_before": _uptime()}
    if args.mode == "stream":
        rate = args.rate_mb * 1e6
        size = parse_size(args.size) if args.size else int(rate * args.seconds)
        src = source_for(size, args.span_days * 86400, args.seed)
        record["source"] = json.loads(Path(f"{src}.json").read_text())
        record["run"] = watch_stream(src, rate, idle=args.idle, interval=args.interval,
                                     rotate=int(args.rotate_mb * 1e6), keep=args.keep)
    else:
        cases = args.leak or ["1024:64", "256:64", "64:64"]
        record["cases"] = [lead_case(int(a), int(c), args)
                           for a, c in (x.split(":") for x in cases)]
    record["uptime_after"] = _uptime()
    text = render(record)
    if args.out:
        args.out.write_text(text + "\n")
    brief = {k: v for k, v in record.get("run", {}).items() if k not in ("samples", "checkpoints")}
    print(json.dumps(brief or record.get("cases"), indent=1))
    return 0


def render(record: dict[str, Any]) -> str:
    """The record as JSON, its per-second samples as columns: one short row per line."""
    run = record.get("run")
    if not run or not run.get("samples"):
        return json.dumps(record, indent=1)
    fields = list(run["samples"][0])
    rows = [[s.get(k) for k in fields] for s in run["samples"]]
    body = dict(record, run={**run, "samples": "@SAMPLES@"})
    table = (f'{{"fields": {json.dumps(fields)}, "rows": [\n'
             + ",\n".join(json.dumps(r, separators=(",", ":")) for r in rows) + "]}")
    return json.dumps(body, indent=1).replace('"@SAMPLES@"', table)


def samples(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-second samples of a rendered run, as dicts again."""
    table = run["samples"]
    return [dict(zip(table["fields"], row, strict=True)) for row in table["rows"]]


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
