"""Ground truth of a matrix case, from the run itself and never from logsleuth.

Two independent sources: the server's own counters (``-Dpush.truthFile``: per monitor tick,
disconnects logged, bytes lost to the encoder NPE, netty's counter, the JDK direct pool),
and a plain line-by-line reading of the evidence files (record headers, exception lines,
JsonLayout objects). Standard library only. Also cuts a case's evidence at an instant before
its first OOM, the way the files stood on disk at that instant.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HEADER = re.compile(rb"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (?P<level>\w+) +\[([^\]]+)\] "
                    rb"(\S+) - (?P<msg>.*)$")
TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class Layout:
    """A text layout of the runs: the log4j2 pattern, and how this script reads it back."""

    pattern: str
    header: re.Pattern[bytes]  # named groups ts, level, msg
    ts_format: str  # strptime format of the ts group (local time unless it has %z)


LAYOUTS = {
    "default": Layout("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n", HEADER,
                      TS_FORMAT),
    # pipe-separated columns with a padded, truncated thread and an MDC field
    "pipe-mdc": Layout(
        "%d{yyyy-MM-dd'T'HH:mm:ss.SSS} | %-5level | %-22.22t | %c{1} | sid=%X{sid} | %msg%n",
        re.compile(rb"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) \| (?P<level>\w+) *\| "
                   rb"[^|]* \| \S+ \| sid=\S* \| (?P<msg>.*)$"),
        "%Y-%m-%dT%H:%M:%S.%f"),
    # log4j 1 habits: month name, comma before the millis, caller file and line
    "log4j1-month": Layout(
        "%d{dd MMM yyyy HH:mm:ss,SSS} %-5p [%t] %c{1} (%F:%L) - %m%n",
        re.compile(rb"^(?P<ts>\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d,\d{3}) (?P<level>\w+) +"
                   rb"\[[^\]]+\] \S+ \([^)]*\) - (?P<msg>.*)$"),
        "%d %b %Y %H:%M:%S,%f"),
    # logback's habit: thread before level, comma before the millis
    "logback-comma": Layout(
        "%d{yyyy-MM-dd HH:mm:ss,SSS} [%t] %-5level %logger{36} - %msg%n",
        re.compile(rb"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \[[^\]]+\] (?P<level>\w+) +"
                   rb"\S+ - (?P<msg>.*)$"),
        "%Y-%m-%d %H:%M:%S,%f"),
    # Spring Boot 3.3's console look: ISO time with the zone offset, pid, ---, the application
    # and the thread in brackets, the logger abbreviated to 40 columns, " : " before the message
    "spring-boot3": Layout(
        "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %5p %pid --- [push-server] [%15.15t] "
        "%-40.40c{1.} : %m%n",
        re.compile(rb"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d) +"
                   rb"(?P<level>[A-Z]+) \d+ --- \[push-server\] \[[^\]]*\] \S+ *: "
                   rb"(?P<msg>.*)$"),
        "%Y-%m-%dT%H:%M:%S.%f%z"),
}
# Container runtimes' own line formats around the app's stdout (matrix.py writes them as it
# reads the JVM's output): CRI (containerd, CRI-O) "<RFC3339Nano UTC> <stream> F <line>".
CRI_LINE = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) F (.*)$")
CRI_FILE = "0.log"
# How the leaking event is worded (-Dpush.eventStyle): its message prefix.
EVENT_PREFIXES = {"session": "Client disconnected: ", "request": "Request completed uri=",
                  "closed": "Session closed: ", "timeout": "Handshake timeout: "}
OOM_CLASSES = ("io.netty.util.internal.OutOfDirectMemoryError", "java.lang.OutOfMemoryError")
OOM_LINE = re.compile(rb"^(?:Caused by: )?(io\.netty\.util\.internal\.OutOfDirectMemoryError|"
                      rb"java\.lang\.OutOfMemoryError)\b(.*)$")
GC_TIME = re.compile(rb"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4})\]")
DISCONNECT = EVENT_PREFIXES["session"]
CAUSE = "Failed to publish offline presence for sessionId="
NPE = "java.lang.NullPointerException"


def app_log_files(root: Path) -> list[Path]:
    """Oldest first: log4j2's max-index strategy gives the highest %i to the newest archive."""
    out: list[Path] = []
    for ext in ("log", "json"):
        archives = sorted(root.glob(f"push-server-*.{ext}.gz"),
                          key=lambda p: int(p.name.rsplit("-", 1)[1].split(".")[0]))
        active = root / f"push-server.{ext}"
        out += archives + ([active] if active.exists() else [])
    cri = root / CRI_FILE  # kubelet's rotated 0.log.<YYYYmmdd-HHMMSS>[.gz] sort by their time
    rotated = sorted(root.glob(f"{CRI_FILE}.2*"), key=lambda p: p.name.removesuffix(".gz"))
    return out + rotated + ([cri] if cri.exists() else [])


def read_bytes(path: Path) -> bytes:
    return gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def local_ms(text: bytes, zone: ZoneInfo, fmt: str = TS_FORMAT) -> int:
    dt = datetime.strptime(text.decode(), fmt)
    dt = dt if dt.tzinfo is not None else dt.replace(tzinfo=zone)
    return round(dt.timestamp() * 1000)


def records(root: Path, zone: ZoneInfo,
            layout: Layout = LAYOUTS["default"]) -> list[dict[str, object]]:
    """Every app-log record: file, header line, ms, message, exception lines (class: rest)."""
    out: list[dict[str, object]] = []
    for path in app_log_files(root):
        lines = read_bytes(path).split(b"\n")
        if path.name.endswith((".json", ".json.gz")):
            for no, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                ev = json.loads(raw)
                inst = ev.get("instant", {})
                ms = inst["epochSecond"] * 1000 + inst["nanoOfSecond"] // 1_000_000
                excs, thrown = [], ev.get("thrown")
                while thrown:
                    excs.append(f"{thrown.get('name')}: {thrown.get('message')}")
                    thrown = thrown.get("cause")
                out.append({"file": path.name, "line": no, "ms": ms, "level": ev["level"],
                            "message": ev.get("message", ""), "exceptions": excs})
            continue
        cur: dict[str, object] | None = None
        if path.name.startswith(CRI_FILE):  # the app's own lines inside the runtime's
            wrapped = [CRI_LINE.match(raw) for raw in lines if raw]
            assert all(wrapped), f"{path}: a line not in the CRI format"
            lines = [w.group(2) for w in wrapped]  # type: ignore[union-attr]
        for no, raw in enumerate(lines, start=1):
            m = layout.header.match(raw)
            if m:
                cur = {"file": path.name, "line": no,
                       "ms": local_ms(m.group("ts"), zone, layout.ts_format),
                       "level": m.group("level").decode(), "message": m.group("msg").decode(),
                       "exceptions": []}
                out.append(cur)
            elif cur is not None and OOM_LINE.match(raw) is not None:
                cur["exceptions"].append(raw.decode().removeprefix("Caused by: "))  # type: ignore[attr-defined]
            elif cur is not None and raw.startswith(NPE.encode()):
                cur["exceptions"].append(raw.decode())  # type: ignore[attr-defined]
    return out


def server_ticks(csv: Path) -> list[dict[str, object]]:
    """The server's own counters, one segment per JVM (a restart appends a second one)."""
    segments: list[dict[str, object]] = []
    for line in csv.read_text().splitlines():
        if line.startswith("#"):
            meta = dict(kv.split("=", 1) for kv in line[1:].split())
            segments.append({"meta": meta, "rows": []})
        elif line and line[0].isdigit():
            ms, disc, leaked, netty, jdk, count, *held = (int(x) for x in line.split(","))
            segments[-1]["rows"].append(  # type: ignore[attr-defined]
                {"ms": ms, "disconnects": disc, "leaked_bytes": leaked, "netty_counter": netty,
                 "jdk_direct_used": jdk, "jdk_direct_count": count,
                 # what live sessions' staging buffers held then (-Dpush.sessionBufferBytes)
                 "session_held": held[0] if held else 0})
    return segments


def server_leak(segments: list[dict[str, object]], before_ms: int | None) -> dict[str, object]:
    """Bytes of the monitored gauge per disconnect, as the server's own counters show them.

    A least-squares slope of the gauge against the disconnect count over the monitor ticks
    before ``before_ms`` (the first OOM, or the cut), the first tick left out (allocator
    warm-up); a restart contributes each JVM's ticks with their own intercept. Unpooled
    buffers give exactly the packet size; the pooled allocator's pages and chunks cost a
    little more per leaked buffer, and that is what exhausts memory, so the slope is the
    truth and the packet size is reported beside it. What live sessions hold at a tick
    (``session_held``, released when they close) is taken off the gauge first: it follows
    concurrency, and the leak is what stays once every session has closed.
    """
    sxx = sxy = 0.0
    fits = []
    per_segment = []
    for seg in segments:
        rows = [r for r in seg["rows"] if before_ms is None or r["ms"] < before_ms][1:]  # type: ignore[index]
        if len(rows) < 3:
            continue
        last = rows[-1]
        gauge = "netty_counter" if last["netty_counter"] >= 0 else "jdk_direct_used"
        xs = [float(r["disconnects"]) for r in rows]
        ys = [float(r[gauge]) - float(r["session_held"]) for r in rows]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        seg_xx = sum((x - mx) ** 2 for x in xs)
        seg_xy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
        sxx, sxy = sxx + seg_xx, sxy + seg_xy
        fits.append((xs, ys, mx, my))
        per_segment.append({
            "ticks": len(rows), "disconnects": last["disconnects"],
            "leaked_bytes": last["leaked_bytes"],
            "leaked_per_disconnect": (last["leaked_bytes"] / last["disconnects"]
                                      if last["disconnects"] else None),
            "gauge": gauge,
            "gauge_bytes_per_disconnect": seg_xy / seg_xx if seg_xx else None,
        })
    slope = sxy / sxx if sxx else None
    stderr = None
    if slope is not None:
        n = sum(len(f[0]) for f in fits)
        sse = sum((y - my - slope * (x - mx)) ** 2
                  for xs, ys, mx, my in fits for x, y in zip(xs, ys, strict=True))
        stderr = (sse / max(n - 1 - len(fits), 1) / sxx) ** 0.5
    return {"gauge_bytes_per_disconnect": slope, "stderr": stderr, "segments": per_segment,
            "packet_size": int(segments[0]["meta"].get("event_leak_bytes",  # type: ignore[attr-defined]
                                                        segments[0]["meta"]["packet_size"])),  # type: ignore[index]
            "max_direct_memory": int(segments[0]["meta"]["max_direct_memory"])}  # type: ignore[index]


def case_truth(root: Path, truth_csv: Path, zone_name: str, layout: str = "default",
               event: str = "session") -> dict[str, object]:
    """Everything the test compares with, read from this case's evidence and the server."""
    zone = ZoneInfo(zone_name)
    recs = records(root, zone, LAYOUTS[layout])
    ooms = [r for r in recs if any(e.startswith(OOM_CLASSES) for e in r["exceptions"])]  # type: ignore[attr-defined]
    # Several event loops log at once, so a record can reach the file after a later-stamped
    # one: the onset is the earliest timestamp, not the first in file order.
    first = min(ooms, key=lambda r: r["ms"]) if ooms else None  # type: ignore[arg-type, return-value]
    causes = [r for r in recs if str(r["message"]).startswith(CAUSE)]
    disconnects = [r for r in recs if str(r["message"]).startswith(EVENT_PREFIXES[event])]
    starts = [r for r in recs if str(r["message"]).startswith("PushServer starting")]
    segments = server_ticks(truth_csv)
    meta = segments[0]["meta"]
    # the NPE bug, or the rare path (-Dpush.rareLeakBytes) whose events the file then counts
    leaking = meta["leak_on_disconnect"] == "true" or "event_leak_bytes" in meta  # type: ignore[operator, index]
    server = server_leak(segments, int(first["ms"]) if first else None)  # type: ignore[arg-type]
    return {
        "onset": None if first is None else {
            "ts_utc": iso(int(first["ms"])),  # type: ignore[arg-type]
            "file": first["file"], "line": first["line"],
            "exception": first["exceptions"][0],  # type: ignore[index]
            "first_in_file_order": {"ts_utc": iso(int(ooms[0]["ms"])),  # type: ignore[arg-type]
                                    "file": ooms[0]["file"], "line": ooms[0]["line"]},
        },
        "leak": None if not leaking else {
            "bytes_per_event": round(server["gauge_bytes_per_disconnect"], 2),  # type: ignore[arg-type]
            "buffer_bytes_per_event": server["packet_size"],
            "event_template_prefix": EVENT_PREFIXES[event].strip(),
            "server": server,
        },
        "ceiling": {"bytes": server["max_direct_memory"]},
        "cause": {"logged": bool(causes), "exception": NPE, "template_prefix": CAUSE,
                  "records": len(causes),
                  "first_ts_utc": iso(int(causes[0]["ms"])) if causes else None},  # type: ignore[arg-type]
        "counts": {"records": len(recs), "disconnects": len(disconnects),
                   "oom_records": len(ooms), "jvm_starts": len(starts)},
        "first_ts_utc": iso(int(recs[0]["ms"])) if recs else None,  # type: ignore[arg-type]
        "last_ts_utc": iso(int(recs[-1]["ms"])) if recs else None,  # type: ignore[arg-type]
    }


def _cut_lines(data: bytes, keep: Callable[[bytes], bool]) -> tuple[bytes, bool]:
    """Lines up to (not including) the first timestamped line past the cut; True if cut."""
    lines = data.split(b"\n")
    for i, raw in enumerate(lines):
        if not keep(raw):
            return b"".join(x + b"\n" for x in lines[:i]), True
    return data, False


def _cut_files(src: Path, dest: Path, cut_ms: int, zone: ZoneInfo) -> None:
    """The evidence files as they stood on disk at ``cut_ms``.

    Archives rolled before the instant stay byte for byte; the file that was being written
    at that instant becomes the active ``push-server.log``, cut at the last record header
    before it; ``gc.log`` is cut the same way and later thread dumps are left out.
    """
    if dest.exists():
        for f in dest.iterdir():
            f.unlink()
    dest.mkdir(parents=True, exist_ok=True)

    def app_keep(raw: bytes) -> bool:
        m = HEADER.match(raw)
        return m is None or local_ms(m.group(1), zone) <= cut_ms

    for path in app_log_files(src):
        data, was_cut = _cut_lines(read_bytes(path), app_keep)
        if was_cut:
            (dest / "push-server.log").write_bytes(data)
            break
        (dest / path.name).write_bytes(path.read_bytes())

    def gc_keep(raw: bytes) -> bool:
        m = GC_TIME.match(raw)
        if m is None:
            return True
        at = datetime.strptime(m.group(1).decode(), "%Y-%m-%dT%H:%M:%S.%f%z")
        return at.timestamp() * 1000 <= cut_ms

    for gc in sorted(src.glob("gc.log*")):
        (dest / gc.name).write_bytes(_cut_lines(gc.read_bytes(), gc_keep)[0])
    for dump in sorted(src.glob("jstack-*.txt")):
        stamp = datetime.strptime(dump.stem.split("-", 1)[1], "%Y%m%dT%H%M%S").replace(tzinfo=zone)
        if stamp.timestamp() * 1000 <= cut_ms:
            (dest / dump.name).write_bytes(dump.read_bytes())


def cut_case(src: Path, dest: Path, fraction: float, truth_csv: Path,
             zone_name: str) -> dict[str, object]:
    """The case as its files stood at an instant before the first OOM (see ``_cut_files``)."""
    zone = ZoneInfo(zone_name)
    full = case_truth(src, truth_csv, zone_name)
    assert full["onset"] is not None, "cut needs a run that failed"
    recs = records(src, zone)
    first_ms = int(recs[0]["ms"])  # type: ignore[arg-type]
    onset_ms = int(datetime.fromisoformat(full["onset"]["ts_utc"]).timestamp() * 1000)  # type: ignore[index]
    cut_ms = first_ms + int(fraction * (onset_ms - first_ms))
    _cut_files(src, dest, cut_ms, zone)
    truth = case_truth(dest, truth_csv, zone_name)
    assert truth["onset"] is None
    truth["cut"] = {"at_utc": iso(cut_ms), "fraction": fraction, "source_case": src.name,
                    "first_oom_after_cut_utc": full["onset"]["ts_utc"]}  # type: ignore[index]
    # the server's counters up to the cut, not to the (unseen) OOM
    server = server_leak(server_ticks(truth_csv), cut_ms)
    truth["leak"]["server"] = server  # type: ignore[index]
    truth["leak"]["bytes_per_event"] = round(server["gauge_bytes_per_disconnect"], 2)  # type: ignore[index, arg-type]
    return truth


def peak_cut_case(src: Path, dest: Path, truth_csv: Path, zone_name: str,
                  layout: str = "default", event: str = "session") -> dict[str, object]:
    """A run without a leak, its evidence cut at the top of its climb: the first server tick
    at which netty's counter is within 1 % of the run's maximum. What was held then is
    released later, but the cut evidence does not show the release (see ``_cut_files``)."""
    ticks = [r for seg in server_ticks(truth_csv) for r in seg["rows"]]  # type: ignore[attr-defined]
    top = max(int(r["netty_counter"]) for r in ticks)
    at = next(r for r in ticks if int(r["netty_counter"]) >= 0.99 * top)
    cut_ms = int(at["ms"])
    _cut_files(src, dest, cut_ms, ZoneInfo(zone_name))
    truth = case_truth(dest, truth_csv, zone_name, layout, event)
    assert truth["onset"] is None and truth["leak"] is None, "peak cut is for a run without a leak"
    last = ticks[-1]
    truth["cut"] = {"at_utc": iso(cut_ms), "kind": "peak", "source_case": src.name,
                    "gauge_at_cut_bytes": int(at["netty_counter"]), "gauge_max_bytes": top,
                    "gauge_at_end_of_run_bytes": int(last["netty_counter"]),
                    "end_of_run_utc": iso(int(last["ms"]))}
    return truth
