"""Builds the validation matrix: small real PushServer runs that vary one axis at a time.

    python3 sample_logs/repro/matrix.py [--out sample_logs/matrix] [CASE ...]

Each run is a real JVM (OpenJDK 17, netty 4.1.48, log4j2 2.19) on 127.0.0.1, driven by
client.py straight at the server (no nginx), bounded in time. The evidence of a case goes to
``<out>/<case>/`` (app logs as log4j2 rolled them, gc.log, jstack dumps) and its ground truth
to ``<out>/<case>.truth.json`` beside it, so that scanning the folder reads evidence only.
Truth comes from the run itself: the server's own counters (written by the monitor thread to
a CSV outside the evidence, ``-Dpush.truthFile``), the JVM flags this script chose, and a
stdlib reading of the written files (``truth.py``), never from logsleuth.

Standard library only. Needs (Debian): openjdk-17-jdk-headless, libnetty-java,
liblog4j2-java, libjackson2-databind-java (JsonLayout), python3.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import truth as truthlib  # sibling module, stdlib only

HERE = Path(__file__).resolve().parent
ZONE = "Europe/Berlin"
PORT = int(os.environ.get("PUSH_MATRIX_PORT", "18191"))
J = "/usr/share/java"
LIBS = [f"{J}/{n}.jar" for n in (
    "netty-common", "netty-buffer", "netty-transport", "netty-codec", "netty-codec-http",
    "netty-handler", "netty-resolver", "log4j-api", "log4j-core",
    "jackson-core", "jackson-databind", "jackson-annotations")]


@dataclass(frozen=True)
class Run:
    """One JVM run (or two, for a restart) and the cases its evidence becomes."""

    name: str
    allocator: str  # pooled | unpooled
    accounting: str  # netty (DIRECT_MEMORY_COUNTER) | jdk (Bits + Cleaner)
    leak_bytes: int  # push.packetSize: bytes lost per disconnect when the bug is on
    style: str  # push.monitorStyle: k | usedmax | bufferpool | kv
    ceiling: int  # io.netty.maxDirectMemory (netty) or -XX:MaxDirectMemorySize (jdk)
    cause_logged: bool = True
    leak: bool = True
    json_twin: bool = False  # also keep the same events as log4j2 JsonLayout (<name>-json)
    after_oom_s: float = 3.0  # keep the load on after the first OOM (the flood)
    restart_after_s: float = 0.0  # > 0: stop the first JVM after this, start a second one
    error_detail: bool = False  # push.errorDetail: the OOM's "(used: U, max: M)" in the message
    max_s: float = 75.0  # hard bound of the (second) JVM's traffic phase
    churners: int = 4
    rate: float = 40.0  # connects per second per churner
    cut_fraction: float = 0.0  # > 0: also derive "<name>-cut", evidence cut before the OOM
    # Shapes the first eleven cases do not have (issue 15, "evidence it has never seen"):
    layout: str = "default"  # truth.LAYOUTS: the log4j2 PatternLayout of the text log
    event: str = "session"  # push.eventStyle: how the leaking disconnect is worded
    burst: bool = False  # client.py --burst: the connect rate jumps between levels
    monitor_ms: int = 1000  # push.monitorPeriodMs: how often the gauge is printed
    restarts: int = 1  # with restart_after_s: JVMs that run (and stop) before the last one
    roll_size: str = "512 KB"  # push.logRollSize: log4j2's size trigger
    # s9 blind round (off unless set; earlier runs' command lines unchanged):
    rare_leak_bytes: int = 0  # push.rareLeakBytes: a rare "Handshake timeout" path leaks this
    rare_leak_percent: float = 5.0  # push.rareLeakPercent: share of connections that take it
    session_buffer: int = 0  # push.sessionBufferBytes: held per live session, freed on close
    ramp: int = 0  # client.py --ramp: subscribers that join one by one, then leave one by one
    wrap: str = ""  # "cri": the log goes to stdout, kept as a CRI runtime's 0.log would keep it
    peak_cut: bool = False  # no leak: also derive "<name>-peak", cut at the top of the climb

    @property
    def truth_event(self) -> str:
        """The event the leak follows, as truth.EVENT_PREFIXES names it."""
        return "timeout" if self.rare_leak_bytes else self.event

    @property
    def bounded_by_oom(self) -> bool:
        return self.leak or self.rare_leak_bytes > 0


RUNS = [
    Run("unpooled-netty-256-k", "unpooled", "netty", 256, "k", 1 << 20, json_twin=True,
        cut_fraction=0.6),
    Run("unpooled-netty-64-usedmax-swallowed", "unpooled", "netty", 64, "usedmax", 256 << 10,
        cause_logged=False),
    Run("pooled-netty-1024-k", "pooled", "netty", 1024, "k", 4 << 20),
    Run("pooled-jdk-1024-kv", "pooled", "jdk", 1024, "kv", 4 << 20, json_twin=True),
    Run("pooled-jdk-256-bufferpool-swallowed", "pooled", "jdk", 256, "bufferpool", 1 << 20,
        cause_logged=False),
    Run("unpooled-netty-1024-usedmax-flood", "unpooled", "netty", 1024, "usedmax", 4 << 20,
        after_oom_s=20.0, error_detail=True),
    Run("unpooled-netty-256-usedmax-restart", "unpooled", "netty", 256, "usedmax", 1 << 20,
        restart_after_s=12.0),
    Run("healthy-pooled-jdk-kv", "pooled", "jdk", 256, "kv", 4 << 20, leak=False, max_s=25.0,
        churners=2),
    # Blind cases (s8): expectations in tests/timeline/test_matrix.py BLIND_EXPECTATIONS,
    # written before the analysis was run on them.
    Run("blind-pipe-prom-3000-bursty", "unpooled", "netty", 3000, "prom", 8 << 20,
        layout="pipe-mdc", burst=True, rate=30.0),
    Run("healthy-blind-pipe-prom-bursty", "unpooled", "netty", 3000, "prom", 8 << 20,
        leak=False, layout="pipe-mdc", burst=True, rate=30.0, max_s=25.0),
    Run("blind-log4j1-mb-sparse-request-2500", "unpooled", "netty", 2500, "mb", 8 << 20,
        layout="log4j1-month", event="request", monitor_ms=10000, rate=10.0, max_s=160.0),
    Run("blind-logback-kib-restart2-2000-swallowed", "unpooled", "netty", 2000, "kib", 2 << 20,
        cause_logged=False, layout="logback-comma", rate=15.0, restart_after_s=8.0,
        restarts=2, roll_size="128 KB"),
    # Blind cases (s9): expectations in BLIND_EXPECTATIONS, committed before the analysis ran.
    Run("blind-spring-micrometer-512-closed", "unpooled", "netty", 512, "micrometer", 2 << 20,
        layout="spring-boot3", event="closed", monitor_ms=2000, rate=25.0),
    Run("blind-cri-dropwizard-1024", "unpooled", "netty", 1024, "dropwizard", 4 << 20,
        wrap="cri", rate=20.0),
    Run("blind-rare-timeout-4096", "unpooled", "netty", 256, "usedmax", 2 << 20, leak=False,
        cause_logged=False, rare_leak_bytes=4096, max_s=150.0),
    Run("healthy-ramp-session-4096", "unpooled", "netty", 256, "k", 4 << 20, leak=False,
        session_buffer=4096, ramp=150, churners=2, rate=10.0, max_s=115.0, peak_cut=True),
    # Load round (s9-ramp): is a real leak hidden as load? Expectations in BLIND_EXPECTATIONS,
    # committed before the analysis ran on them.
    Run("ramp-leak-session-512", "unpooled", "netty", 512, "k", 1 << 20,
        session_buffer=4096, ramp=150, churners=2, rate=10.0, max_s=90.0),
    Run("ramp-slow-leak-session-1024", "unpooled", "netty", 1024, "k", 2 << 20,
        session_buffer=4096, ramp=30, churners=2, rate=10.0, max_s=150.0),
    Run("healthy-ramp-closed-4096", "unpooled", "netty", 256, "usedmax", 4 << 20, leak=False,
        event="closed", session_buffer=4096, ramp=150, churners=2, rate=10.0, max_s=115.0,
        peak_cut=True),
]


def log(msg: str) -> None:
    print(f"[matrix {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def log_config(run: Run, work: Path) -> Path:
    """log4j2-matrix.xml, with the run's PatternLayout when it is not the default one."""
    if run.layout == "default" and not run.wrap:
        return HERE / "log4j2-matrix.xml"
    default = truthlib.LAYOUTS["default"].pattern
    text = (HERE / "log4j2-matrix.xml").read_text()
    assert text.count(default) == 1
    text = text.replace(default, xml_escape(truthlib.LAYOUTS[run.layout].pattern))
    if run.wrap:  # as in a container: the same layout on stdout, no file appender
        for old, new in (('<AppenderRef ref="File"/>', '<AppenderRef ref="Console"/>'),
                         ("<Appenders>", '<Appenders>\n    <Console name="Console" '
                          'target="SYSTEM_OUT"><PatternLayout pattern="${pattern}"/></Console>')):
            assert text.count(old) == 1
            text = text.replace(old, new)
    dest = work / "log4j2.xml"
    dest.write_text(text)
    return dest


def jvm_args(run: Run, app: Path, js: Path, truth_csv: Path) -> list[str]:
    """The JVM command line: everything a case varies is a flag here."""
    if run.accounting == "netty":
        direct = ["-XX:MaxDirectMemorySize=16m", f"-Dio.netty.maxDirectMemory={run.ceiling}"]
    else:  # netty leaves direct buffers to the JDK: Bits counts them, a Cleaner frees them
        direct = [f"-XX:MaxDirectMemorySize={run.ceiling}", "-Dio.netty.maxDirectMemory=0"]
    # Pooled: 8 KiB chunks, one arena and no per-thread caches, whose slow filling with released
    # buffers would otherwise add to the gauge's growth and blur the bytes lost per event.
    pool = (["-Dio.netty.allocator.pageSize=4096", "-Dio.netty.allocator.maxOrder=1",
             "-Dio.netty.allocator.tinyCacheSize=0", "-Dio.netty.allocator.smallCacheSize=0",
             "-Dio.netty.allocator.normalCacheSize=0", "-Dio.netty.allocator.numDirectArenas=1"]
            if run.allocator == "pooled" else [])
    return [
        "java", "-Xms32m", "-Xmx48m", "-XX:+UseG1GC",
        "-Xlog:gc*:file=gc.log:time,uptime,level,tags", *direct,
        f"-Dio.netty.allocator.type={run.allocator}", *pool,
        "-Dio.netty.tryReflectionSetAccessible=true",
        "--add-opens", "java.base/java.nio=ALL-UNNAMED",
        "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
        f"-Duser.timezone={ZONE}", f"-Dlog4j.configurationFile={log_config(run, truth_csv.parent)}",
        f"-Dpush.logDir={app}", f"-Dpush.jsonLogDir={js}",
        f"-Dpush.jsonLevel={'ALL' if run.json_twin else 'OFF'}",
        f"-Dpush.port={PORT}", f"-Dpush.bug.leakOnDisconnect={str(run.leak).lower()}",
        f"-Dpush.packetSize={run.leak_bytes}", f"-Dpush.logCause={str(run.cause_logged).lower()}",
        f"-Dpush.monitorStyle={run.style}", f"-Dpush.truthFile={truth_csv}",
        f"-Dpush.errorDetail={str(run.error_detail).lower()}",
        # the first eleven runs' command lines stay as they were
        *([] if run.layout == "default" else ["-Duser.language=en", "-Duser.country=US"]),
        *([] if run.event == "session" else [f"-Dpush.eventStyle={run.event}"]),
        *([] if run.monitor_ms == 1000 else [f"-Dpush.monitorPeriodMs={run.monitor_ms}"]),
        *([] if run.roll_size == "512 KB" else [f"-Dpush.logRollSize={run.roll_size}"]),
        *([] if not run.rare_leak_bytes else [f"-Dpush.rareLeakBytes={run.rare_leak_bytes}",
                                              f"-Dpush.rareLeakPercent={run.rare_leak_percent}"]),
        *([] if not run.session_buffer else [f"-Dpush.sessionBufferBytes={run.session_buffer}"]),
    ]


def wait_health(proc: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"JVM exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise SystemExit("server did not answer /health in time")


def oom_seen(app: Path) -> bool:
    """The first OOM may already sit in a freshly rolled archive: look at the newest two."""
    files = truthlib.app_log_files(app)[-2:]
    for f in files:
        try:
            data = truthlib.read_bytes(f)
        except (OSError, EOFError):
            continue  # an archive being written
        if b"OutOfDirectMemoryError" in data or b"java.lang.OutOfMemoryError" in data:
            return True
    return False


def jstack(pid: int, dest: Path) -> None:
    # named in the server's zone, like the time in the dump's own header
    f = dest / f"jstack-{datetime.now(ZoneInfo(ZONE)):%Y%m%dT%H%M%S}.txt"
    with f.open("w") as out:
        subprocess.run(["jstack", "-l", str(pid)], stdout=out, stderr=subprocess.DEVNULL,
                       timeout=30, check=False)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, wait_s: float = 10.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def client(seconds: float, run: Run) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "client.py"), "--port", str(PORT), "--seconds", str(seconds),
         "--subscribers", "4", "--churners", str(run.churners), "--rate", str(run.rate),
         *(["--burst"] if run.burst else []),
         *(["--ramp", str(run.ramp)] if run.ramp else [])],
        stdout=subprocess.PIPE)


def one_jvm(run: Run, work: Path, app: Path, js: Path, dumps: Path, *, until_oom: bool,
            seconds: float) -> dict[str, object]:
    """Start the server, drive it, stop it; returns what the client and the runner saw."""
    cmd = [*jvm_args(run, app, js, work / "truth.csv"), "-cp",
           f"{work / 'classes'}:{':'.join(LIBS)}", "com.example.push.PushServer"]
    env = dict(os.environ, TZ=ZONE)
    readers: list[threading.Thread] = []
    if run.wrap:
        proc = subprocess.Popen(cmd, cwd=app, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env)
        readers = cri_capture(proc, app / truthlib.CRI_FILE)
    else:
        with (work / "jvm.out").open("ab") as out:
            proc = subprocess.Popen(cmd, cwd=app, stdout=out, stderr=subprocess.STDOUT, env=env)
    cl = None
    seen_at = None
    try:
        wait_health(proc)
        cl = client(seconds + run.after_oom_s + 5, run)
        t0 = time.monotonic()
        dumped = False
        while time.monotonic() - t0 < seconds:
            if not dumped and time.monotonic() - t0 > 4:
                jstack(proc.pid, dumps)
                dumped = True
            if until_oom and oom_seen(app):
                seen_at = time.monotonic() - t0
                break
            time.sleep(0.25)
        if seen_at is not None:
            time.sleep(1.0)
            jstack(proc.pid, dumps)
            time.sleep(max(run.after_oom_s - 1.0, 0.0))
        cl.send_signal(signal.SIGTERM)
        summary = json.loads(cl.communicate(timeout=20)[0] or b"{}")
        cl = None
    finally:
        if cl is not None:
            cl.kill()
        stop(proc)
        for t in readers:
            t.join(10)
    return {"cmd": cmd, "oom_seen_after_s": seen_at, "client": summary, "exit": proc.returncode}


def cri_capture(proc: subprocess.Popen[bytes], dest: Path) -> list[threading.Thread]:
    """Keep the JVM's stdout and stderr as a CRI runtime does (kubelet's 0.log): each line as
    ``<RFC3339Nano UTC> <stream> F <line>``, stamped when it is read. A transformation of the
    real output in the runtime's documented format; the app's lines stay byte for byte."""
    lock = threading.Lock()
    out = dest.open("ab")

    def pump(stream: Any, name: bytes) -> None:
        for line in iter(stream.readline, b""):
            ns = time.time_ns()
            stamp = (datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
                     + f".{ns % 1_000_000_000:09d}Z").encode()
            with lock:
                out.write(stamp + b" " + name + b" F " + line.rstrip(b"\n") + b"\n")
                out.flush()

    threads = [threading.Thread(target=pump, args=(proc.stdout, b"stdout"), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, b"stderr"), daemon=True)]
    for t in threads:
        t.start()
    return threads


def kubelet_rotate(src: Path, dest: Path, max_size: int = 2 << 20) -> None:
    """Keep a CRI log as the kubelet does with ``containerLogMaxSize: 2Mi``: whenever 0.log
    passes the size it becomes ``0.log.<YYYYmmdd-HHMMSS>`` (the time of the rotation, here
    its last line's), every rotated file but the newest is gzipped, and 0.log starts anew.
    The lines are the captured ones, cut only between lines."""
    lines = src.read_bytes().splitlines(keepends=True)
    parts: list[list[bytes]] = [[]]
    size = 0
    for line in lines:
        if size + len(line) > max_size and parts[-1]:
            parts.append([])
            size = 0
        parts[-1].append(line)
        size += len(line)
    rotated = parts[:-1]
    for i, part in enumerate(rotated):
        stamp = datetime.strptime(part[-1][:19].decode(), "%Y-%m-%dT%H:%M:%S")
        name = dest / f"{truthlib.CRI_FILE}.{stamp:%Y%m%d-%H%M%S}"
        data = b"".join(part)
        if i < len(rotated) - 1:
            with gzip.open(f"{name}.gz", "wb") as gz:
                gz.write(data)
        else:
            name.write_bytes(data)
    (dest / truthlib.CRI_FILE).write_bytes(b"".join(parts[-1]))


def do_run(run: Run, out: Path, classes: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="pushmatrix.") as tmp:
        work = Path(tmp)
        app, js, dumps = work / "app", work / "json", work / "dumps"
        for d in (app, js, dumps):
            d.mkdir()
        shutil.copytree(classes, work / "classes")
        jvms = []
        t_start = time.time()
        for _ in range(run.restarts if run.restart_after_s else 0):
            jvms.append(one_jvm(run, work, app, js, dumps, until_oom=False,
                                seconds=run.restart_after_s))
            time.sleep(2.0)
        jvms.append(one_jvm(run, work, app, js, dumps, until_oom=run.bounded_by_oom,
                            seconds=run.max_s))
        log(f"{run.name}: {time.time() - t_start:.0f} s, "
            f"OOM seen after {jvms[-1]['oom_seen_after_s']} s, client {jvms[-1]['client']}")
        cases = [(run.name, app)] + ([(f"{run.name}-json", js)] if run.json_twin else [])
        for case, logs in cases:
            dest = out / case
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            if run.wrap:
                kubelet_rotate(logs / truthlib.CRI_FILE, dest)
            for f in [] if run.wrap else sorted(logs.glob("push-server*")):
                shutil.copy2(f, dest / f.name)
            for f in sorted(app.glob("gc.log*")):
                shutil.copy2(f, dest / f.name)
            for f in sorted(dumps.glob("jstack-*.txt")):
                shutil.copy2(f, dest / f.name)
            truth = truthlib.case_truth(dest, work / "truth.csv", ZONE, run.layout,
                                        run.truth_event)
            truth.update(case=case, run=asdict(run), jvms=jvms, zone=ZONE)
            write_truth(out, case, truth)
            shutil.copy2(work / "truth.csv", out / f"{case}.server.csv")
        if run.cut_fraction:
            src = out / run.name
            cut = out / f"{run.name}-cut"
            truth = truthlib.cut_case(src, cut, run.cut_fraction, work / "truth.csv", ZONE)
            truth.update(case=cut.name, run=asdict(run), jvms=jvms, zone=ZONE)
            write_truth(out, cut.name, truth)
            shutil.copy2(work / "truth.csv", out / f"{cut.name}.server.csv")
        if run.peak_cut:
            derive_peak(run, out, jvms)


def derive_peak(run: Run, out: Path, jvms: list[Any]) -> None:
    """``<name>-peak``: the kept evidence of a run without a leak, cut at its climb's top."""
    src, dest = out / run.name, out / f"{run.name}-peak"
    truth = truthlib.peak_cut_case(src, dest, out / f"{run.name}.server.csv", ZONE, run.layout,
                                   run.truth_event)
    truth.update(case=dest.name, run=asdict(run), jvms=jvms, zone=ZONE)
    write_truth(out, dest.name, truth)
    shutil.copy2(out / f"{run.name}.server.csv", out / f"{dest.name}.server.csv")


def write_truth(out: Path, case: str, truth: dict[str, object]) -> None:
    path = out / f"{case}.truth.json"
    path.write_text(json.dumps(truth, indent=2, default=str) + "\n")
    log(f"{case}: onset {truth['onset'] and truth['onset']['ts_utc']} "  # type: ignore[index]
        f"leak {truth['leak'] and truth['leak']['bytes_per_event']} -> {path}")  # type: ignore[index]


def retruth(out: Path) -> None:
    """Recompute every truth file from the kept evidence and server CSVs (no JVM runs)."""
    for path in sorted(out.glob("*.truth.json")):
        old = json.loads(path.read_text())
        case = old["case"]
        csv = out / f"{case}.server.csv"
        if old.get("cut", {}).get("kind") == "peak":
            run = next(r for r in RUNS if r.name == old["cut"]["source_case"])
            derive_peak(run, out, old["jvms"])
            continue
        if "cut" in old:
            src = out / old["cut"]["source_case"]
            full = truthlib.case_truth(src, out / f"{src.name}.server.csv", ZONE)
            new = truthlib.case_truth(out / case, csv, ZONE)
            cut_ms = round(datetime.fromisoformat(old["cut"]["at_utc"]).timestamp() * 1000)
            server = truthlib.server_leak(truthlib.server_ticks(csv), cut_ms)
            new["leak"]["server"] = server  # type: ignore[index]
            new["leak"]["bytes_per_event"] = round(server["gauge_bytes_per_disconnect"], 2)  # type: ignore[index, arg-type]
            new["cut"] = old["cut"] | {"first_oom_after_cut_utc": full["onset"]["ts_utc"]}  # type: ignore[index]
        else:
            run = old["run"]
            event = "timeout" if run.get("rare_leak_bytes") else run.get("event", "session")
            new = truthlib.case_truth(out / case, csv, ZONE, run.get("layout", "default"), event)
        new.update(case=case, run=old["run"], jvms=old["jvms"], zone=ZONE)
        write_truth(out, case, new)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=HERE.parent / "matrix")
    ap.add_argument("--retruth", action="store_true",
                    help="only recompute the truth files from the kept evidence")
    ap.add_argument("--peak-cuts", action="store_true",
                    help="only derive the peak cuts of the named runs from their kept evidence")
    ap.add_argument("runs", nargs="*", help="run names (default: all)")
    args = ap.parse_args()
    if args.retruth:
        retruth(args.out)
        return
    todo = [r for r in RUNS if not args.runs or r.name in args.runs]
    if args.runs and len(todo) != len(args.runs):
        raise SystemExit(f"unknown run; known: {[r.name for r in RUNS]}")
    if args.peak_cuts:
        for run in [r for r in todo if r.peak_cut]:
            kept = json.loads((args.out / f"{run.name}.truth.json").read_text())
            derive_peak(run, args.out, kept["jvms"])
        return
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pushmatrix-classes.") as tmp:
        classes = Path(tmp)
        subprocess.run(["javac", "-g", "-cp", ":".join(LIBS), "-d", str(classes),
                        str(HERE / "PushServer.java")], check=True)
        for run in todo:
            do_run(run, args.out, classes)


if __name__ == "__main__":
    main()
