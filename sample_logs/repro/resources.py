"""Builds the resource-exhaustion cases: small real JVM runs of LeakLab.java, one per resource.

    python3 sample_logs/repro/resources.py [--out sample_logs/resources] [CASE ...]

Each run is one OpenJDK 17 process (log4j2 2.19 from Debian's liblog4j2-java), loop-driven,
no network, bounded by ``lab.seconds`` and killed after ``HARD_LIMIT_S`` whatever happens. The
evidence of a case goes to ``<out>/<case>/`` (app.log, gc.log, jstack dumps) and its ground
truth to ``<out>/<case>.truth.json`` beside it. Truth comes from the run itself: the counters
and MXBean readings LeakLab writes to a CSV outside the evidence, the flags chosen here, and a
stdlib reading of the written log (first OOM record, OOM record count), never from logsleuth.

Standard library only. Needs (Debian): openjdk-17-jdk-headless, liblog4j2-java, python3.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ZONE = "Europe/Berlin"
J = "/usr/share/java"
LIBS = [f"{J}/log4j-api.jar", f"{J}/log4j-core.jar"]
# HikariCP from the local Maven repository (mvn dependency:get -Dartifact=com.zaxxer:HikariCP:
# 5.1.0); the pool run logs through slf4j-simple, log4j's API bridged to it
HIKARI = str(Path.home() / ".m2/repository/com/zaxxer/HikariCP/5.1.0/HikariCP-5.1.0.jar")
POOL_LIBS = [f"{J}/log4j-api.jar", f"{J}/log4j-to-slf4j.jar", f"{J}/slf4j-api.jar",
             f"{J}/slf4j-simple.jar", HIKARI]
HARD_LIMIT_S = 60
GC_LOG = "-Xlog:gc*:file=gc.log:time,uptime,level,tags"


@dataclass(frozen=True)
class Case:
    name: str
    mode: str  # LeakLab's lab.mode
    jvm: tuple[str, ...]
    seconds: int
    event: str  # the message prefix of the event that leaks (or would)
    resource: str  # heap | metaspace | threads | pool | fd
    leaks: bool
    props: dict[str, str] = field(default_factory=dict)
    dump_every_s: float = 0.0  # jstack cadence (0: none)
    libs: tuple[str, ...] = tuple(LIBS)
    nofile: int = 0  # the process' descriptor limit (soft and hard, as `ulimit -n`), 0: inherited
    gc_log: str = GC_LOG  # the -Xlog option: decorations, selection, rotation differ by case
    log4j: str = "log4j2-resources.xml"  # the app log's layout (LAYOUTS: how truth reads it)
    dump_tool: str = "jstack"  # jstack: one file per dump; jcmd: appended to threads.txt;
    # sigquit: kill -3, the JVM prints the dump to its stdout (the console)
    console: bool = False  # the JVM's stdout and stderr are the evidence (console.log)


CASES = {c.name: c for c in (
    Case("heap-g1", "heap", ("-Xms32m", "-Xmx32m", "-XX:+UseG1GC"), 45, "Session closed",
         "heap", True, {"lab.leakBytes": "16384", "lab.rate": "400"}),
    Case("heap-parallel", "heap", ("-Xms32m", "-Xmx32m", "-XX:+UseParallelGC"), 45,
         "Session closed", "heap", True, {"lab.leakBytes": "16384", "lab.rate": "400"}),
    Case("undersized-g1", "undersized", ("-Xms32m", "-Xmx32m", "-XX:+UseG1GC"), 25,
         "Session closed", "heap", False, {"lab.cacheBytes": str(20 << 20), "lab.rate": "400"}),
    Case("metaspace-g1", "metaspace", ("-Xmx64m", "-XX:+UseG1GC", "-XX:MaxMetaspaceSize=14m"),
         50, "Plugin reloaded", "metaspace", True, {"lab.rate": "400"}),
    Case("threads-g1", "threads", ("-Xmx32m", "-XX:+UseG1GC", "-Xss256k"), 25, "Job submitted",
         "threads", True, {"lab.rate": "60"}, dump_every_s=2.5),
    Case("pool-hikari", "pool", ("-Xmx64m", "-XX:+UseG1GC"), 30, "Order exported", "pool", True,
         {"lab.rate": "20", "lab.poolSize": "20",
          "com.zaxxer.hikari.housekeeping.periodMs": "500",
          "org.slf4j.simpleLogger.defaultLogLevel": "info",
          "org.slf4j.simpleLogger.log.com.zaxxer.hikari": "debug",
          "org.slf4j.simpleLogger.showDateTime": "true",
          "org.slf4j.simpleLogger.dateTimeFormat": "yyyy-MM-dd HH:mm:ss.SSS"},
         libs=tuple(POOL_LIBS)),
    Case("fd-g1", "fd", ("-Xmx64m", "-XX:+UseG1GC"), 50, "Upload handled", "fd", True,
         {"lab.rate": "40"}, nofile=256),
    # shapes the cases above do not have (issue 19, second round): other collectors, other
    # -Xlog decorations, a rotated GC log, another app-log layout, another OOM kind, thread
    # dumps appended by jcmd to one file, threads named by an executor
    Case("heap-serial-rotated", "heap", ("-Xms32m", "-Xmx32m", "-XX:+UseSerialGC"), 45,
         "Session closed", "heap", True, {"lab.leakBytes": "16384", "lab.rate": "400"},
         gc_log="-Xlog:gc*:file=gc.log:utctime,uptimemillis,level,tags:filecount=4,filesize=256k",
         log4j="log4j2-resources-iso.xml"),
    Case("heap-shenandoah", "heap", ("-Xms32m", "-Xmx32m", "-XX:+UseShenandoahGC"), 45,
         "Session closed", "heap", True, {"lab.leakBytes": "16384", "lab.rate": "400"},
         # the default decorations (uptime, level, tags); gc+stats alone would be 9 MB
         gc_log="-Xlog:gc,gc+init,gc+metaspace:file=gc.log"),
    Case("overhead-parallel", "heap", ("-Xms32m", "-Xmx32m", "-XX:+UseParallelGC"), 50,
         "Session closed", "heap", True,
         {"lab.leakBytes": "16384", "lab.leakChunks": "128", "lab.rate": "20000"},
         gc_log="-Xlog:gc:file=gc.log:time,level,tags"),  # gc only: no heap breakdown lines
    Case("undersized-parallel", "undersized", ("-Xms32m", "-Xmx32m", "-XX:+UseParallelGC"), 25,
         "Session closed", "heap", False, {"lab.cacheBytes": str(16 << 20), "lab.rate": "400"},
         gc_log="-Xlog:gc*:file=gc.log:timemillis,uptimemillis,level,tags"),
    Case("threads-executor", "threads", ("-Xmx32m", "-XX:+UseSerialGC", "-Xss256k"), 25,
         "Job submitted", "threads", True, {"lab.rate": "60", "lab.threadStyle": "executor"},
         dump_every_s=2.5, dump_tool="jcmd", gc_log="-Xlog:gc:file=gc.log:time,uptime,level,tags"),
    # third round: ZGC's own log lines; everything on one console; JDK direct buffers
    # without netty, through a health line no definition names; a healthy busy JVM whose
    # live set steps up once
    Case("heap-zgc", "heap", ("-Xms32m", "-Xmx32m", "-XX:+UseZGC"), 45, "Session closed",
         "heap", True, {"lab.leakBytes": "16384", "lab.rate": "400"}),
    Case("console-threads", "console",
         ("-Xms32m", "-Xmx32m", "-XX:+UseG1GC", "-Xss256k", "-XX:+HeapDumpOnOutOfMemoryError",
          "-XX:HeapDumpPath={work}/oom.hprof"), 50, "Job submitted", "threads", True,
         {"lab.rate": "80", "lab.leakBytes": str(64 << 10)}, dump_every_s=2.5,
         dump_tool="sigquit", gc_log="-Xlog:gc", log4j="log4j2-resources-console.xml",
         console=True),
    Case("direct-buffers", "direct", ("-Xmx64m", "-XX:+UseG1GC", "-XX:MaxDirectMemorySize=16m"),
         45, "Session closed", "direct", True, {"lab.leakBytes": "16384", "lab.rate": "300"}),
    Case("step-g1", "step", ("-Xms96m", "-Xmx96m", "-XX:+UseG1GC"), 40, "Session closed",
         "heap", False, {"lab.rate": "400", "lab.stepAtMs": "12000",
                         "lab.cacheBytes": str(24 << 20), "lab.fullGcs": "3"}),
)}

# how truth reads each app-log layout: the record header's time and its strptime format
LAYOUTS = {
    "log4j2-resources.xml": (re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) "),
                             "%Y-%m-%d %H:%M:%S.%f"),
    "log4j2-resources-iso.xml": (re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3}) \["),
                                 "%Y-%m-%dT%H:%M:%S,%f"),
}


def compile_lab(classes: Path) -> None:
    subprocess.run(["javac", "-g", "-cp", ":".join([*LIBS, HIKARI]), "-d", str(classes),
                    str(HERE / "LeakLab.java")], check=True)


def run_case(case: Case, out: Path, classes: Path) -> dict[str, object]:
    evidence = out / case.name
    shutil.rmtree(evidence, ignore_errors=True)
    evidence.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="leaklab-") as tmp:
        work = Path(tmp)
        plugins = work / "plugins" / "com" / "example" / "leaklab"
        plugins.mkdir(parents=True)
        (work / "spool").mkdir()
        shutil.copy(classes / "com" / "example" / "leaklab" / "Plugin.class", plugins)
        props = {"lab.mode": case.mode, "lab.seconds": str(case.seconds),
                 "lab.logDir": str(evidence), "lab.truthFile": str(work / "truth.csv"),
                 "lab.pluginDir": str(work / "plugins"), "lab.spoolDir": str(work / "spool"),
                 "log4j.configurationFile": str(HERE / case.log4j), **case.props}
        if case.mode == "pool":  # slf4j-simple writes the app log
            props["org.slf4j.simpleLogger.logFile"] = str(evidence / "app.log")
        jvm = [a.replace("{work}", str(work)) for a in case.jvm]
        cmd = ["java", *jvm, case.gc_log, *(f"-D{k}={v}" for k, v in props.items()),
               "-cp", f"{classes}:{':'.join(case.libs)}", "com.example.leaklab.LeakLab"]
        env = dict(os.environ, TZ=ZONE)
        t0 = time.monotonic()
        stdout = evidence / "console.log" if case.console else work / "jvm.out"
        with stdout.open("wb") as jout:
            proc = subprocess.Popen(cmd, cwd=evidence, stdout=jout, stderr=subprocess.STDOUT,
                                    env=env, preexec_fn=_nofile(case.nofile))
        next_dump = t0 + case.dump_every_s
        while proc.poll() is None and time.monotonic() - t0 < HARD_LIMIT_S:
            if case.dump_every_s and time.monotonic() >= next_dump:
                _dump(case, evidence, proc.pid)
                next_dump += case.dump_every_s
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        rows = list(csv.DictReader((work / "truth.csv").open()))
        truth = truth_of(case, evidence, rows, cmd)
    # kept small, as log rotation would leave them (an appended dump file too)
    for path in [*evidence.glob("app.log"), *sorted(evidence.glob("gc.log*")),
                 *evidence.glob("threads.txt"), *evidence.glob("console.log")]:
        subprocess.run(["gzip", "-n", "-9", str(path)], check=True)
    return truth


def _dump(case: Case, evidence: Path, pid: int) -> None:
    """One thread dump: jstack to its own file, or jcmd appended to one file, as a loop of
    ``jcmd $pid Thread.print >> threads.txt`` leaves it (each dump opens with "<pid>:"), or
    SIGQUIT (``kill -3``): the JVM prints the dump to its own stdout, the console."""
    if case.dump_tool == "sigquit":
        os.kill(pid, signal.SIGQUIT)
        return
    if case.dump_tool == "jcmd":
        with (evidence / "threads.txt").open("a") as f:
            subprocess.run(["jcmd", str(pid), "Thread.print"], stdout=f,
                           stderr=subprocess.DEVNULL, timeout=20, check=False)
        return
    stamp = datetime.now(ZoneInfo(ZONE))
    with (evidence / f"jstack-{stamp:%H%M%S}-{stamp.microsecond // 1000:03d}.txt").open("w") as f:
        subprocess.run(["jstack", str(pid)], stdout=f, stderr=subprocess.DEVNULL, timeout=20,
                       check=False)


def _nofile(limit: int) -> Callable[[], None] | None:
    """Sets RLIMIT_NOFILE in the child, hard limit too: the JVM raises its soft limit to the
    hard one at start (-XX:+MaxFDLimit), so a soft limit alone would not hold."""
    if not limit:
        return None
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def _utc(local: str, fmt: str = "%Y-%m-%d %H:%M:%S.%f") -> str:
    t = datetime.strptime(local, fmt).replace(tzinfo=ZoneInfo(ZONE))
    return t.astimezone(ZoneInfo("UTC")).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


# what the JVM itself prints to its stdout between a console's log records: -Xlog:gc lines
# (default decorations), the heap-dump notice (HeapDumpOnOutOfMemoryError: the error's own
# line, "Dumping heap to ...", "Heap dump file created [...]") and kill -3 thread dumps (a
# time line, "Full thread dump ...", threads, "JNI global refs: ...", then the heap summary)
_JVM_LINE = re.compile(r"^(?:\[\d+\.\d+s\]\[\w+ *\]\[|Dumping heap to |Heap dump file created \["
                       r"|Exception: \S+ thrown from the UncaughtExceptionHandler in thread )")
_DUMP_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def jvm_lines(lines: list[str]) -> set[int]:
    """0-based indexes of a console's lines the JVM wrote (not any log record's)."""
    out: set[int] = set()
    in_dump = False
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _DUMP_START.match(line) and nxt.startswith("Full thread dump "):
            in_dump = True
        if in_dump:
            out.add(i)
            # the dump ends with its heap summary: "Heap", indented lines, then a record
            if line.startswith("JNI global refs:"):
                in_dump = "heap"
            elif in_dump == "heap" and line and not line.startswith((" ", "Heap")):
                in_dump = False
                out.discard(i)
        if _JVM_LINE.match(line) or (line.startswith("java.lang.OutOfMemoryError")
                                     and nxt.startswith("Dumping heap to ")):
            out.add(i)
    return out


def log_records(path: Path, header: re.Pattern[str] = LAYOUTS["log4j2-resources.xml"][0]
                ) -> list[tuple[int, str, str, list[str]]]:
    """(line, local time, level, lines) of every record of a log4j2 text log; on a console,
    the lines the JVM wrote between records belong to none (``jvm_lines``)."""
    recs: list[tuple[int, str, str, list[str]]] = []
    lines = path.read_text(errors="replace").splitlines()
    jvm = jvm_lines(lines)
    for i, line in enumerate(lines, 1):
        if i - 1 in jvm:
            continue
        m = header.match(line)
        if m:
            recs.append((i, m.group(1), "", [line]))
        elif recs:
            recs[-1][3].append(line)
    return recs


def _slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys on xs."""
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return None if sxx == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def truth_of(case: Case, evidence: Path, rows: list[dict[str, str]],
             cmd: list[str]) -> dict[str, object]:
    header, fmt = LAYOUTS.get(case.log4j, LAYOUTS["log4j2-resources.xml"])
    log = "console.log" if case.console else "app.log"
    recs = log_records(evidence / log, header)
    # the failure: an OutOfMemoryError, for the pool a connection request that timed out,
    # for descriptors any record saying the process ran out of them (with a trace or not)
    marker = {"pool": "Connection is not available",
              "fd": "Too many open files"}.get(case.resource, "java.lang.OutOfMemoryError")
    ooms = [r for r in recs if any(marker in ln for ln in r[3])]
    events = [r for r in recs if case.event in r[3][0]]
    first = ooms[0] if ooms else None
    onset = None
    if first is not None:
        kind = next(ln for ln in first[3] if marker in ln)
        onset = {"ts_utc": _utc(first[1], fmt), "file": log, "line": first[0],
                 "error": kind.strip()}
    # ZGC reports each OutOfMemoryError it throws in its own log ("Out Of Memory (main)"),
    # which is all the evidence has when the app could no longer allocate to log it
    gc_ooms = _gc_log_ooms(evidence) if case.resource == "heap" else []
    if gc_ooms and (onset is None or gc_ooms[0]["ts_utc"] < onset["ts_utc"]):
        onset = gc_ooms[0]
    # growth per event from the JVM's own readings, before the first OOM
    stop_ms = 1 << 62 if onset is None else round(datetime.fromisoformat(
        onset["ts_utc"].replace("Z", "+00:00")).timestamp() * 1000)
    column = {"heap": "leaked_bytes", "metaspace": "metaspace_used", "threads": "threads",
              "pool": "leaked_bytes",  # pool: connections taken and never closed
              "fd": "fds",  # fd: the MXBean's open descriptor count (-1 once at the limit)
              "direct": "direct_used"}  # BufferPoolMXBean "direct" memoryUsed
    before = [r for r in rows if int(r["ms"]) < stop_ms
              and (case.resource != "fd" or int(r["fds"]) >= 0)]
    xs = [float(r["events"]) for r in before]
    per_event = {
        # what the JVM saw grow, per event (the pools' own readings, between GCs for heap)
        "jvm_reading": _slope(xs, [float(r[column[case.resource]]) for r in before]),
        "old_gen_after_gc": _slope(
            [float(r["events"]) for r in before if int(r["old_after_gc"]) > 0],
            [float(r["old_after_gc"]) for r in before if int(r["old_after_gc"]) > 0]),
    }
    leak = None
    if case.leaks:
        leak = {"resource": case.resource, "event_template_prefix": case.event,
                "per_event": per_event}
        if case.resource == "pool":
            leak["pool_size"] = int(case.props["lab.poolSize"])
        if case.resource == "fd":
            leak["fd_limit"] = case.nofile
            leak["streams_left_open"] = int(rows[-1]["leaked_bytes"]) if rows else 0
        if case.resource == "direct":
            leak["direct_limit"] = _flag_bytes(case.jvm, "-XX:MaxDirectMemorySize=")
        if case.resource == "heap":
            payload = int(case.props["lab.leakBytes"])
            chunks = int(case.props.get("lab.leakChunks", "1"))
            # byte[n] costs n + 16 header bytes (8-aligned); the static list's slot 4
            # (compressed oops), amortised over its 1.5x growth, 4-8: per event 16404-16408 B
            # retained; as k chunks, k byte[n/k] and a byte[k][] of 16 + 4k (8-aligned) bytes
            one = -(-(payload + 16) // 8) * 8
            if chunks > 1:
                one = chunks * (-(-(payload // chunks + 16) // 8) * 8) + (
                    -(-(16 + 4 * chunks) // 8) * 8)
            leak["retained_bytes_per_event"] = {"min": one + 4, "max": one + 8}
    dumps = _dump_texts(evidence)
    extra: dict[str, object] = {}
    if case.mode == "step":  # the one step of the live set, from the JVM's own counters
        step = [r for r in rows if int(r["events"]) > 0]
        extra["step"] = {"bytes": int(case.props["lab.cacheBytes"]),
                         "at_utc": _utc_ms(int(step[0]["ms"])) if step else None,
                         "full_gcs": int(case.props["lab.fullGcs"])}
    if case.console:  # what else the JVM wrote to the console, counted by a stdlib reading
        text = (evidence / log).read_text(errors="replace")
        extra["console"] = {
            "gc_lines": len(re.findall(r"(?m)^\[\d+\.\d+s\]\[info *\]\[gc *\] GC\(\d+\) ",
                                       text)),
            "heap_dumps": text.count("\nHeap dump file created ["),
            "thread_dumps": len(dumps)}
    return {
        "case": case.name, "mode": case.mode, "command": " ".join(cmd),
        "onset": onset,
        "counts": {"records": len(recs), "events": len(events),
                   "oom_records": len(ooms) + len(gc_ooms), "gc_log_oom_lines": len(gc_ooms),
                   "oom_records_with_trace": sum(
                       1 for r in ooms if any(ln.startswith("\tat ") for ln in r[3])),
                   "oom_records_traceless": len(gc_ooms) + sum(
                       1 for r in ooms if not any(ln.startswith("\tat ") for ln in r[3])),
                   "jvm_events": int(rows[-1]["events"]) if rows else 0,
                   "jstack_dumps": len(dumps)},
        "leak": leak,
        "threads_per_dump": [sum(1 for ln in d.splitlines() if ln.startswith('"'))
                             for d in dumps],
        "first_ts_utc": _utc(recs[0][1], fmt) if recs else None,
        "last_ts_utc": _utc(recs[-1][1], fmt) if recs else None,
        **extra,
    }


def _gc_log_ooms(evidence: Path) -> list[dict[str, str | int]]:
    """ZGC's "Out Of Memory (<thread>)" lines (not gc,stats' counter row "Memory: Out Of
    Memory ..."), each an OutOfMemoryError thrown, by its wall-clock decoration."""
    out: list[dict[str, str | int]] = []
    rx = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4})\].*\] Out Of Memory \(")
    for path in sorted(evidence.glob("gc.log*")):
        for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = rx.match(line)
            if m:
                t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f%z")
                out.append({"ts_utc": t.astimezone(ZoneInfo("UTC")).isoformat(
                    timespec="milliseconds").replace("+00:00", "Z"), "file": path.name,
                    "line": i, "error": line.split("] ", 2)[-1].strip()})
    return sorted(out, key=lambda o: str(o["ts_utc"]))


def _flag_bytes(jvm: tuple[str, ...], flag: str) -> int | None:
    """A size flag of the command line in bytes (16m, 512k, 1g, or bytes)."""
    for a in jvm:
        if a.startswith(flag):
            v = a[len(flag):].lower()
            mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(v[-1:], 1)
            return int(v.rstrip("kmg")) * mult
    return None


def _utc_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo("UTC")).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def _dump_texts(evidence: Path) -> list[str]:
    """Each thread dump's text: one jstack file each, or the dumps of an appended file or
    of a console (up to its "JNI global refs" line: log records interleave after it)."""
    texts = [d.read_text() for d in sorted(evidence.glob("jstack-*.txt"))]
    console = evidence / "console.log"
    if console.exists():
        parts = re.split(r"(?m)^(?=Full thread dump )", console.read_text(errors="replace"))[1:]
        texts += [p.split("\nJNI global refs:", 1)[0] for p in parts]
    appended = evidence / "threads.txt"
    if appended.exists():
        texts += re.split(r"(?m)^(?=Full thread dump )", appended.read_text())[1:]
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--out", type=Path, default=HERE.parent / "resources")
    ap.add_argument("cases", nargs="*", default=list(CASES))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="leaklab-classes-") as tmp:
        classes = Path(tmp)
        compile_lab(classes)
        for name in args.cases:
            truth = run_case(CASES[name], args.out, classes)
            (args.out / f"{name}.truth.json").write_text(json.dumps(truth, indent=2) + "\n")
            print(name, json.dumps({k: truth[k] for k in ("onset", "counts")}))


if __name__ == "__main__":
    main()
