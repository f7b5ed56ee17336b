"""Resource exhaustion runs (heap, metaspace, threads, pool, descriptors), each judged against truth from the run.

Every case under ``sample_logs/resources/<case>/`` is evidence only (app.log, gc.log, jstack
dumps); its truth is ``<case>.truth.json`` beside it, written by
``sample_logs/repro/resources.py`` from LeakLab's own counters and MXBean readings and a
stdlib reading of the log, never by logsleuth. These expectations were written before the
analysis ran on any case; a check missed today is xfail(strict) with what it gives instead.

Tolerances, from the measurements:
- heap per event: a leaked ``byte[16384]`` retains 16,404-16,408 B (16 B header, a 4 B list
  slot and the list's amortised growth). The GC log reports the heap after a collection in
  whole MiB (G1's summary line) or KiB, and the figure includes survivors and garbage not
  yet collected (up to a few MiB on a ~25 MiB rise), so 10 % is what the evidence supports.
- threads per event: the count per dump is exact, but jstack stamps its dump to the second
  while ~13 jobs arrive per second, so the events between two dumps are uncertain by about
  a second's worth on a ~30-job step: 10 % on the fit over all dumps.
- connections per event: one per export by construction; HikariCP's housekeeper prints
  the pool's stats every 500 ms while ~1.3 exports arrive per second: 10 %.
- descriptors per event: one stream left open per upload by construction (the MXBean's
  count rises 1.00 per upload); the monitor line reads /proc/self/fd every 500 ms while
  ~7 uploads arrive per second, and a request may hold one stored-file descriptor at the
  instant it is read (1 in a ~245 rise): 5 %.
- metaspace per event: the MXBean's used slope over the run (``per_event.jvm_reading``)
  against the GC log's used ``Metaspace:`` after-GC figure (the number before the
  parenthesis: used, not committed), printed in KiB: 10 %.
- heap per event as 128 small chunks (overhead-parallel): 128 ``byte[128]`` of 144 B and
  their ``byte[128][]`` of 528 B retain 18,960 B, plus the list slot: 18,964-18,968 B. Its
  GC log is ``-Xlog:gc`` only (whole MiB per pause, no pool lines): 10 %, as for G1's
  summary line.

Second round (the shapes the first seven do not have; expectations written before the
analysis ran on them): heap-serial-rotated (Serial, ``utctime,uptimemillis`` decorations
while the app log is local time, the GC log rotated over four files, an ISO-8601 app-log
layout with a comma before the millis and the thread before the level), heap-shenandoah
(Shenandoah, the default decorations: uptime only, no wall clock in the GC log),
overhead-parallel (``GC overhead limit exceeded``, ``-Xlog:gc`` only), undersized-parallel
(a healthy 16 MiB working set under Parallel, epoch ``timemillis`` decorations: no leak),
threads-executor (a fixed pool per job never shut down, workers named ``pool-N-thread-1``;
ten ``jcmd Thread.print`` dumps appended to one gzipped file, each stamped to the second).

Third round (expectations written and committed before the analysis ran on them; the
shape-specific checks are in test_resources_round3.py):
- heap-zgc: ZGC (JDK 17, ``-Xlog:gc*`` with time and uptime), 16 KiB per ``Session
  closed`` until ``Java heap space``. ZGC prints no pause-based after-GC heap: its cycle
  line ``Garbage Collection (...) A(x%)->B(y%)`` gives the heap at the cycle's end, which
  includes what was allocated while the cycle ran concurrently (at ~50 MB/s a few MiB), so
  the floor is noisier than a stop-the-world collector's; 10 % all the same. Ceiling 32 MiB
  (-Xmx32m, "Max Capacity: 32M"). onset, oom_records exact.
  Amended after the first run, before any analysis: at the end ZGC throws
  OutOfMemoryError to every allocation, the logger's too, so the app log holds no OOM
  record at all (LeakLab's "unlogged" count); ZGC's own log reports each one thrown as
  ``Out Of Memory (main)`` (not gc,stats' counter row "Memory: Out Of Memory ..."), with
  its wall-clock decoration. The onset is the first such GC-log line, to the ms; the heap
  OOM finding counts those lines (oom_records: app records plus these).
- console-threads: everything on one console (``console.log``, stdout and stderr as a
  container keeps them): the app's log4j2 lines, ``-Xlog:gc`` (default decorations,
  uptime only, the JDK's default target stdout), HeapDumpOnOutOfMemoryError's notice
  (``java.lang.OutOfMemoryError: Java heap space`` / ``Dumping heap to ...`` / ``Heap
  dump file created [...]``, the JVM's own lines, no record's) and a kill -3 thread dump
  every 2.5 s printed into the same stream. A parked thread per ``Job submitted`` (jobs on
  their own schedule, not a share of the requests), each holding 64 KiB, until ``Java
  heap space``. Expected: the onset is the first app record with the OOM (the JVM's own
  notice line just before it is no record and does not make the record before it an OOM
  record; nor is the JVM's "Exception: java.lang.OutOfMemoryError thrown from the
  UncaughtExceptionHandler in thread ..." line); oom_records counts the app's records only; a leak of jvm_threads_live at 1
  thread per ``Job submitted``, 10 % (dumps stamped to the second, as threads-g1); no
  ceiling (no process limit stated); the heap gauge read from the console's GC lines.
- direct-buffers: ``ByteBuffer.allocateDirect(16384)`` kept per ``Session closed`` (no
  netty), -XX:MaxDirectMemorySize=16m, until ``OutOfMemoryError: Cannot reserve 16384
  bytes of direct buffer memory (allocated: X, limit: 16777216)``. The gauge is the
  service's own health line ``NIO direct buffers: count=N memoryUsed=B totalCapacity=B``
  every 500 ms, which no built-in definition names: a discovered gauge with "direct" and
  "used" in its name leaks at 16,384 B per ``Session closed`` (memoryUsed counts the
  requested capacity exactly; the only error is the monitor's read racing one event:
  5 %), ceiling 16 MiB (the flag on the "JVM arguments" line and the OOM's limit).
  onset and oom_records (jdk-direct-buffer-oom) exact.
- step-g1: healthy and busy (G1, -Xmx96m, ~25 MB/s of short-lived garbage); at 12 s a
  24 MiB cache is loaded once and three System.gc() follow; the live set then stays flat.
  Expected: no leak (a step is not a leak), no OOM and no onset from the app log; if an
  incident is raised at all it is the GC log's own findings (the three explicit full GCs,
  which jvm-explicit-full-gc reports truthfully), with no leak in it.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from logsleuth import api

ROOT = Path(__file__).resolve().parents[2] / "sample_logs" / "resources"
CASES = sorted(p.name.removesuffix(".truth.json") for p in ROOT.glob("*.truth.json"))
GAUGE = {"heap": ("jvm_heap_after_gc", "jvm_heap_old_after_gc"),
         "metaspace": ("jvm_metaspace_after_gc",), "threads": ("jvm_threads_live",),
         "pool": (),  # discovered from HikariCP's own "stats (total=, active=, ...)" lines
         "fd": (),  # discovered from the service's "openFileDescriptors=N" monitor line
         "direct": ()}  # discovered from the service's "NIO direct buffers: ..." line
OOM_RULE = {"heap": "jvm-heap-oom", "metaspace": "jvm-metaspace-oom",
            "threads": "jvm-native-thread-oom", "fd": "too-many-open-files",
            "direct": "jdk-direct-buffer-oom"}
# a case whose failure is not its leaking resource's own: the console's threads each hold
# 64 KiB of heap, so the heap runs out first
OOM_RULE_OF_CASE = {"console-threads": "jvm-heap-oom"}
# the ceiling each run set on its command line (resources.py), as the evidence states it
CEILING = {"heap-g1": 32 << 20, "heap-parallel": 32 << 20, "metaspace-g1": 14 << 20,
           "threads-g1": None, "pool-hikari": 20,  # pool: HikariCP's maximumPoolSize line
           "fd-g1": 256,  # the maxFileDescriptors beside every open count (ulimit -n 256)
           # -Xmx32m on each command line; overhead-parallel's GC log (-Xlog:gc) states no
           # maximum, only the committed capacity (31M), so its -Xmx is the app log's
           # "JVM arguments:" line; heap-shenandoah's is "Heap Max Capacity: 32M"
           "heap-serial-rotated": 32 << 20, "heap-shenandoah": 32 << 20,
           "overhead-parallel": 32 << 20, "threads-executor": None,
           "heap-zgc": 32 << 20, "console-threads": None,  # no process limit stated
           "direct-buffers": 16 << 20}  # -XX:MaxDirectMemorySize=16m, the OOM's limit
# per-event tolerance by resource (see the module doc); 10 % where not named
TOLERANCE = {"fd": 0.05, "direct": 0.05}
CHECKS = ("onset", "oom_records", "leak", "per_event", "ceiling", "no_leak")

# Identifiability of each, measured from the run's own evidence: test_identifiability.py.
_COLLINEAR = ("not identifiable from this evidence: sessions close after 1-8 requests "
              "(uniform), so 'Session closed' and 'Request handled' counts per GC interval "
              "are correlated {corr} over {n} intervals, and the heap after GC carries "
              "~160-190 KB of residual per interval (whole MiB, garbage not yet collected) "
              "against 16 KB per session; the nested F-tests name no winner that survives "
              "leaving one interval out, and the likelier one flips with the windows: {tests}. "
              "The analysis says so (decided: ambiguous) and names ")
# heap-shenandoah's GC log has the default -Xlog decorations (uptime, level, tags): no wall
# clock, no thread dump, no --jvm-start. The scan places it by aligning its stop-the-world
# pauses with the app log's silences (engine.pausealign, validated to 1 ms on the runs whose
# GC logs print both clocks: test_pausealign.py) and says so (warning gc-anchored-by-pauses).
KNOWN_MISSES: dict[tuple[str, str], str] = {
    ("heap-zgc", "per_event"): (
        "not identified: ZGC's marked live set (Live: at mark end, whole MiB) climbs "
        "smoothly 1 -> 24 MiB, but ZGC cycles every 100-200 ms, so a gauge interval holds "
        "10-20 sessions (160-330 KB) against 1 MiB steps, and allocation stalls stop the "
        "application unevenly (its count per interval varies 68 % (cv)); the best fit over "
        "66 windows is 'Request handled' at 3,934 B per event with R2 0.10 (0.5 needed; "
        "truth 'Session closed', 16,406 B), and against a constant rate its count adds F "
        "0.0 over 132 intervals: per_event null, weak-fit"),
    ("console-threads", "onset"): (
        "no evidence states the zone: the console's app records are zone-less, its -Xlog:gc "
        "lines uptime only and its kill -3 dumps stamped in local time without a zone; the "
        "scan reads it as UTC and says so (\"The app logs carry no time zone (read as UTC; "
        "use --tz)\"): onset 17:04:49.019Z, truth 16:04:49.019Z (Europe/Berlin +01:00); the "
        "record is the first app OOM record (line 23811, not the record before the JVM's "
        "heap-dump notice) and the wall clock is exact to the ms as the log writes it "
        "(test_resources_round3.test_a_console_onset_is_the_first_app_oom_record)"),
    ("heap-shenandoah", "onset"): (
        "no evidence states the zone: the app log is zone-less and the GC log, uptime only, "
        "gives no instants to line it up with; the scan reads it as UTC and says so (\"The "
        "app logs carry no time zone (read as UTC; use --tz)\"): onset 14:32:37.085Z, truth "
        "13:32:37.085Z (the run's zone, Europe/Berlin +01:00); the wall clock is exact to "
        "the ms and the record is the first OOM (test_a_gc_log_placed_by_pause_alignment_is_said_aloud)"),
    ("heap-shenandoah", "per_event"): _COLLINEAR.format(corr=0.987, n=722, tests=(
        "'Session closed' adds F 2.1 (p 0.14, 0.51 with one interval left out) and "
        "'Request handled' F 1.3 (p 0.25)")) + (
        "'Session closed' at 18,545 B (truth 16,406 B, +13 %, R2 0.91, 36 windows) "
        "first only by its fit, with 'Request handled' at 4,150 B as the "
        "alternative (the heap placed in time by pause alignment)"),
    ("overhead-parallel", "per_event"): (
        "not identifiable from this evidence: -Xlog:gc prints the heap after each pause in "
        "whole MiB (no pool lines), and the leak ran its course in 2.1 s (1 -> 28 MiB, "
        "~1,450 sessions, 55 per MiB step) before 4.6 s of full GCs at the top: per "
        "interval the after-GC floor moves in 0-1 MiB steps against ~17 KB per session. "
        "The best fit is 'Request handled' at 4,191 B per event (R2 0.08, 0.5 needed; "
        "truth: 'Session closed', 18,966 B); against a constant rate the event's count "
        "adds F 3.3 (p 0.07) over 123 intervals: per_event null (since s9: flat-counts, the "
        "count's spread moving the gauge by 75 KB against increments spread by ~0.5 MiB, with "
        "'Session closed' at 19,747 B named as tied, not told apart by timing)"),
    ("heap-g1", "per_event"): _COLLINEAR.format(corr=0.989, n=994, tests=(
        "on the whole growth range 'Request handled' adds F 3.4 (p 0.066) and 'Session closed' "
        "nothing; with the warm-up set aside 'Session closed' adds F 7.3 (p 0.007, but 0.12 "
        "with one interval left out); read to where the floor reached the level it held at "
        "the first OOM, over 266 intervals (counts correlated 0.985), 'Session closed' adds "
        "F 0.1 (p 0.79) and 'Request handled' F 0.8 (p 0.37)")) + (
        "'Session closed' at 16,521 B (truth 16,406 B, +0.7 %) first only by its fit (R2), "
        "with 'Request handled' at 3,663 B as the alternative"),
    ("metaspace-g1", "per_event"): (
        "not identifiable from this evidence at 1 %: jvm_metaspace_after_gc is the used "
        "metaspace after GC (what the truth measures; committed, ~3x faster in 64 KiB "
        "steps, is jvm_metaspace_committed_after_gc beside it) and leaks, but G1 collects "
        "every ~60 reloads, so the 9 GC intervals of steady growth (the JVM's own class "
        "loading, 2.3 -> 9.8 MiB in 2.2 s, set aside as warm-up; the post-OOM class "
        "unloading lowers the floor of the last one) hold 58-68 reloads each (cv 6.0 %). "
        "'Plugin reloaded' fits 2,049 B per event through the origin (truth 2,194 B, "
        "-6.6 %) with R2 -0.16 (0.5 required); against a constant rate per second its "
        "count adds F 12.2 (p 0.010, 0.030 with one interval left out) and the clock adds "
        "nothing: events over time, but not decided at 1 %. per_event is null and "
        "per_event_reason says so (weak-fit; since s9 flat-counts, naming the steadier "
        "'Request handled' first at 462 B with 'Plugin reloaded' at 3,126 B as tied)"),
    ("threads-g1", "per_event"): (
        "not identified at 1 %: 'Job submitted' at 1.004 threads per event (truth 1.001) is "
        "named first by its fit, but 'Request handled' moves with it (counts correlated 0.95 "
        "over the 9 intervals between jstack dumps, 2.5 s apart; the first one read since the "
        "growth run covers its first bin's samples): what 'Job submitted' adds to 'Request "
        "handled' is F 8.2, p 0.024, and p 0.20 with one interval left out (decided: "
        "ambiguous; this check passed before it required a decided answer)"),
}


@functools.cache
def truth(case: str) -> dict[str, Any]:
    return json.loads((ROOT / f"{case}.truth.json").read_text())


@functools.cache
def scanned(case: str) -> Any:
    """One scan per case, defaults only, as a new user would run it."""
    return api.scan(ROOT / case, keep_records=False)


def _ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _resource(case: str) -> str:
    return {"heap": "heap", "undersized": "heap", "metaspace": "metaspace",
            "threads": "threads", "pool": "pool", "fd": "fd", "direct": "direct",
            "step": "heap", "console": "threads"}[truth(case)["mode"]]


def _oom_rule(case: str) -> str:
    return OOM_RULE_OF_CASE.get(case) or OOM_RULE[_resource(case)]


def applies(case: str, check: str) -> bool:
    t = truth(case)
    if check in ("leak", "per_event", "ceiling"):
        return t["leak"] is not None
    if check == "no_leak":
        return t["leak"] is None
    if check == "oom_records":
        return t["onset"] is not None and (case in OOM_RULE_OF_CASE
                                           or _resource(case) in OOM_RULE)
    return True


def _params() -> list[Any]:
    out = []
    for case in CASES:
        for check in CHECKS:
            if applies(case, check):
                marks = ([pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[(case, check)])]
                         if (case, check) in KNOWN_MISSES else [])
                out.append(pytest.param(case, check, marks=marks, id=f"{case}:{check}"))
    return out


def _leak(inc: dict[str, Any], case: str) -> dict[str, Any] | None:
    by_name = {lk["metric"]: lk for lk in inc["leaks"]}
    if _resource(case) == "pool":  # a discovered gauge: named by the key before the number
        return next((lk for lk in inc["leaks"] if "active" in lk["metric"]), None)
    if _resource(case) == "fd":  # a discovered gauge: open descriptors, whatever its key
        return next((lk for lk in inc["leaks"] if "descriptor" in lk["metric"]), None)
    if _resource(case) == "direct":  # a discovered gauge: the pool's used bytes
        return next((lk for lk in inc["leaks"] if "direct" in lk["metric"].lower()
                     and "used" in lk["metric"].lower()), None)
    return next((by_name[n] for n in GAUGE[_resource(case)] if n in by_name), None)


def test_cases_are_present_and_truth_is_consistent() -> None:
    assert {"heap-g1", "heap-parallel", "undersized-g1", "metaspace-g1", "threads-g1",
            "pool-hikari", "fd-g1", "heap-serial-rotated", "heap-shenandoah",
            "overhead-parallel", "undersized-parallel", "threads-executor", "heap-zgc",
            "console-threads", "direct-buffers", "step-g1"} <= set(CASES), (
        f"cases not generated under {ROOT}")
    for case in CASES:
        t = truth(case)
        assert not list((ROOT / case).rglob("*truth*")), f"truth inside the evidence of {case}"
        c = t["counts"]
        assert c["oom_records"] == c["oom_records_with_trace"] + c["oom_records_traceless"]
        # enough events to judge a leak (the pool's leak ends when every connection is taken)
        least = t["leak"]["pool_size"] if t["mode"] == "pool" else 200
        if t["mode"] == "fd":  # the descriptors left, less what the JVM holds itself
            least = t["leak"]["fd_limit"] // 2
        assert c["events"] >= least, "the run did not get far enough to judge a leak"
        if t["leak"] is not None and t["leak"]["resource"] == "heap":
            # the JVM's own count of leaked bytes is the payload it was told to keep
            assert t["leak"]["per_event"]["jvm_reading"] == pytest.approx(16384, rel=1e-6)
        if t["mode"] == "direct":  # memoryUsed counts the requested capacity exactly
            assert t["leak"]["per_event"]["jvm_reading"] == pytest.approx(16384, rel=1e-3)
            assert t["leak"]["direct_limit"] == 16 << 20
        if t["mode"] == "pool":  # one connection never closed per export
            assert t["leak"]["per_event"]["jvm_reading"] == pytest.approx(1.0, rel=1e-6)
        if t["mode"] == "fd":  # one stream left open per upload, none closed later
            assert t["leak"]["per_event"]["jvm_reading"] == pytest.approx(1.0, rel=0.02)
            assert t["leak"]["streams_left_open"] == c["events"]
            assert c["oom_records_with_trace"] and c["oom_records_traceless"]
        if t["leak"] is not None and t["leak"]["resource"] == "threads":
            assert t["leak"]["per_event"]["jvm_reading"] == pytest.approx(1.0, rel=0.02)
            assert t["threads_per_dump"] == sorted(t["threads_per_dump"])


# the GC log's own findings a healthy run may raise truthfully: an undersized heap's full
# GCs under a stop-the-world collector; step-g1's three System.gc() after its cache load
GC_ONLY = {"undersized": {"jvm-gc-storm"}, "step": {"jvm-gc-storm", "jvm-explicit-full-gc"}}


def _storm_only(res: Any, inc: dict[str, Any], mode: str = "undersized") -> bool:
    """The incident is the GC log's own finding, with no leak and no failure record: a
    full-GC storm (what an undersized heap under a stop-the-world collector shows), or
    for step-g1 its explicit full GCs."""
    return (not inc["leaks"] and inc["onset_evidence"] is not None
            and Path(inc["onset_evidence"]["path"]).name.startswith("gc.log")
            and {f.rule for f in res.findings} <= GC_ONLY[mode])


def _per_event_truth(case: str) -> float:
    t = truth(case)["leak"]
    if t["resource"] == "heap":
        return sum(t["retained_bytes_per_event"].values()) / 2
    return float(t["per_event"]["jvm_reading"])


@pytest.mark.parametrize(("case", "check"), _params())
def test_resource_case(case: str, check: str) -> None:
    t, res = truth(case), scanned(case)
    inc = None if res.incident is None else res.incident.to_json()
    if check == "no_leak":
        leaks = [] if inc is None else [lk["metric"] for lk in inc["leaks"]]
        assert not leaks, f"an undersized heap without a leak gave leaks: {leaks}"
        # amended after the first analysis of undersized-parallel: Parallel keeps a too-small
        # heap going with full GCs (64 in 25 s there), which jvm-gc-storm reports truthfully;
        # G1 does not, so undersized-g1 still gives no incident at all
        assert inc is None or _storm_only(res, inc, t["mode"]), (
            f"incident: {inc and inc['onset']}")
        return
    if check == "onset":
        if t["onset"] is None:
            assert inc is None or inc["onset"] is None or (
                t["mode"] in GC_ONLY and _storm_only(res, inc, t["mode"])), (
                f"onset {inc and inc['onset']}")
        else:
            assert inc is not None and inc["onset"] is not None, "the run failed: no onset"
            assert _ms(inc["onset"]) == _ms(t["onset"]["ts_utc"]), (
                f"onset {inc['onset']} != first OOM record {t['onset']['ts_utc']}")
            assert inc["onset_evidence"]["line"] == t["onset"]["line"]
        return
    if check == "oom_records":
        rule = _oom_rule(case)
        found = [f for f in res.findings if f.rule == rule]
        assert len(found) == 1, f"{rule}: {[(f.fingerprint, f.count) for f in found]}"
        assert found[0].count == t["counts"]["oom_records"], (
            f"{found[0].count} records in the finding, {t['counts']['oom_records']} in the log")
        return
    assert inc is not None, "a leak exists but the incident is null"
    leak = _leak(inc, case)
    assert leak is not None, f"no leak of {GAUGE[_resource(case)]}: {[lk['metric'] for lk in inc['leaks']]}"
    if check == "leak":
        return
    if check == "per_event":
        per = leak["per_event"]
        assert per is not None, f"{leak['metric']} not attributed to any event"
        assert per["template"].startswith(t["leak"]["event_template_prefix"]), per["template"]
        # named because the evidence decided it, not first of events it cannot tell apart
        # (amended with the collinear attribution: an ambiguous answer is honest, but it is
        # not the truth found)
        assert per["decided"] != "ambiguous", per
        assert per["amount"] == pytest.approx(_per_event_truth(case),
                                              rel=TOLERANCE.get(_resource(case), 0.10))
    elif check == "ceiling":
        want = CEILING[case]
        got = leak["projection"]["ceiling"]
        if want is None:
            assert got is None, f"a ceiling the evidence does not state: {got}"
        else:
            assert got is not None and got["value"] == want, got


@pytest.mark.parametrize("case", [c for c in CASES if truth(c)["leak"] is not None])
def test_a_leak_without_per_event_says_why(case: str) -> None:
    """per_event is never silently null: ``per_event_reason`` gives a code and the figures
    (JSON, schema, paragraph and HTML summary), and is null when an event is named."""
    import jsonschema

    from logsleuth.reports.html.summary import _leak_line
    from logsleuth.reports.narrative import incident_paragraph
    from logsleuth.timeline.incident import load_schema

    res = scanned(case)
    inc = res.incident.to_json()
    jsonschema.validate(inc, load_schema())
    text = incident_paragraph(res)
    for lk in inc["leaks"]:
        why = lk["per_event_reason"]
        assert (lk["per_event"] is None) == (why is not None), (lk["metric"], why)
        if why is None:
            continue
        assert why["code"] in ("no-samples", "no-events", "few-windows", "flat-counts",
                               "no-growth", "weak-fit", "not-significant"), why
        assert f"{why['windows']} " in why["message"] and "{event}" not in why["message"]
        if lk is inc["leaks"][0]:
            assert f"no event is named: {why['message']}" in text, text
        assert "no event is named" in _leak_line(lk)


def test_metaspace_leak_is_the_used_space_and_committed_is_named_beside_it() -> None:
    """The used gauge is listed first and says that -XX:MaxMetaspaceSize bounds committed
    space; the committed gauge says what it is."""
    inc = scanned("metaspace-g1").incident.to_json()
    names = [lk["metric"] for lk in inc["leaks"]]
    assert "jvm_metaspace_after_gc" in names
    if "jvm_metaspace_committed_after_gc" in names:
        assert names.index("jvm_metaspace_after_gc") < names.index(
            "jvm_metaspace_committed_after_gc")
        committed = inc["leaks"][names.index("jvm_metaspace_committed_after_gc")]
        assert "committed" in committed["resource"]["name"].lower()
    used = inc["leaks"][names.index("jvm_metaspace_after_gc")]
    assert "used" in used["resource"]["name"].lower()
    assert "MaxMetaspaceSize bounds the committed" in used["resource"]["name"]


@pytest.mark.parametrize("case", ["threads-g1", "heap-g1"])
def test_an_ambiguous_attribution_gives_its_test_figures(case: str) -> None:
    """Collinear candidates the evidence cannot tell apart: the JSON carries the nested
    tests (candidates named by their templates) and the paragraph says their figures."""
    from logsleuth.reports.narrative import incident_paragraph

    res = scanned(case)
    leak = _leak(res.incident.to_json(), case)
    per = leak["per_event"]
    assert per is not None and per["decided"] == "ambiguous", per
    seps = per["separations"]
    assert seps and all(per["template"] in sp["candidates"] or any(
        a in sp["candidates"] for a in per["alternatives"]) for sp in seps), seps
    first = next(sp for sp in seps if per["template"] in sp["candidates"])
    assert first["winner"] is None
    text = incident_paragraph(res)
    assert f"counts correlated {first['corr']:.2f} over {first['windows']} intervals" in text


@pytest.mark.parametrize(("case", "noun"), [("threads-g1", "threads"), ("threads-executor", "threads"),
                                            ("fd-g1", "descriptors"),
                                            ("pool-hikari", "connections")])
def test_counted_gauges_speak_their_unit(case: str, noun: str) -> None:
    """A count gauge's figures read "256 descriptors", not "256 count"."""
    from logsleuth.reports.html.summary import _leak_line
    from logsleuth.reports.narrative import incident_paragraph

    res = scanned(case)
    leak = _leak(res.incident.to_json(), case)
    assert leak is not None and leak["unit"] == "count"  # the JSON keeps the base unit
    import re

    text = incident_paragraph(res)
    assert f" {noun} per hour" in text and not re.search(r"\d count\b", text), text
    assert f" {noun} per hour" in _leak_line(leak), _leak_line(leak)
    assert not re.search(r"\d count\b", _leak_line(leak)), _leak_line(leak)
    for said in (text, _leak_line(leak)):  # 42,200 threads, not 4.22e+04
        assert not re.search(r"\de[+-]\d", said), said


NEXT_STEP = {"heap": ("dominator tree",), "metaspace": ("class-loader leak",),
             "fd": ("lsof -p", "/proc/<pid>/fd")}


@pytest.mark.parametrize("case", ["heap-g1", "metaspace-g1", "fd-g1", "heap-serial-rotated",
                                  "overhead-parallel"])
def test_report_names_the_resource_its_ceiling_and_the_next_step(case: str) -> None:
    """The paragraph says what runs out and what to do; the HTML lane of the leaking gauge
    draws the ceiling and where the gauge reaches it."""
    from logsleuth.reports.html.context import leaks_with_maximum
    from logsleuth.reports.html.metric import metric_lanes
    from logsleuth.reports.narrative import incident_paragraph

    res = scanned(case)
    inc = res.incident.to_json()
    leak = _leak(inc, case)
    assert leak is not None and leak["resource"] is not None
    text = incident_paragraph(res)
    assert leak["metric"] in text, text
    for word in NEXT_STEP[_resource(case)]:
        assert word in text, text
    leaks = leaks_with_maximum(res.incident, inc, [f.to_json() for f in res.findings])
    lanes = {lane.title: [t["name"] for t in lane.traces]
             for lane in metric_lanes(res.tables, leaks, (0, 1 << 62))}
    drawn = lanes[f"metric {leak['metric']} ({leak['unit']})"]
    want = {"known maximum", "fitted trend", "exhaustion"}
    if _resource(case) in ("heap", "metaspace"):
        want.add("floor (live set)")  # after-GC gauges only
    assert want <= set(drawn), drawn


def test_descriptor_gauge_is_discovered_with_its_ceiling() -> None:
    """The monitor's "openFileDescriptors=N maxFileDescriptors=M" line gives a counted gauge
    with no definition, capped by the constant maximum printed beside it."""
    gauges = scanned("fd-g1").tables["gauges"].to_pylist()
    fds = [g for g in gauges if "descriptor" in g["metric"] and g["leak"]]
    assert len(fds) == 1, [(g["metric"], g["leak"]) for g in gauges]
    assert fds[0]["unit"] == "count"
    assert "openFileDescriptors=" in fds[0]["example_text"]
    assert "maxFileDescriptors" not in fds[0]["metric"]  # the ceiling is no gauge of its own
    assert not [g["metric"] for g in gauges if g["leak"] and g is not fds[0]]  # threads=: flat


@pytest.mark.parametrize("case", [c for c in CASES if truth(c)["leak"] is not None])
def test_a_one_off_exception_is_not_ranked_above_the_growth(case: str) -> None:
    """Every run logs one FileNotFoundException at startup ("Optional overrides not
    loaded"), long before the growth, and never again. Its count does not grow with the
    leak, so it ranks below every exception that does, and the paragraph does not send the
    reader to it: with no logged exception tracking the growth, it names the event the
    growth follows (the cause never logged) instead."""
    from logsleuth.reports.narrative import incident_paragraph

    res = scanned(case)
    inc = res.incident.to_json()
    causes = inc["root_cause_candidates"]
    one_off = [i for i, c in enumerate(causes) if c["message"].startswith("Optional overrides")]
    tracking = [i for i, c in enumerate(causes) if c["tracks_leak"]]
    assert not one_off or not causes[one_off[0]]["tracks_leak"], causes[one_off[0]]
    assert all(i < j for i in tracking for j in one_off), [c["why"] for c in causes]
    text = incident_paragraph(res)
    assert "Optional overrides not loaded" not in text, text
    leak = _leak(inc, case)
    if not tracking and leak is not None and leak["per_event"] is not None:
        assert "never logged" in text, text
        said = text[text.index("never logged"):]
        assert f"\"{leak['per_event']['template']}\"" in said, said


def test_hikari_stats_lines_are_discovered_as_gauges() -> None:
    """HikariCP 5.1's own "Before/After cleanup stats (total=, active=, idle=, waiting=)"
    lines become gauges with no definition, each printable as a ``--metrics`` definition."""
    from logsleuth.parsers.metrics import load_metric_text

    gauges = scanned("pool-hikari").tables["gauges"].to_pylist()
    by_metric = {g["metric"]: g for g in gauges}
    assert {"stats_total", "stats_active", "stats_idle"} <= set(by_metric)
    active = by_metric["stats_active"]
    assert active["leak"] and "active=" in active["example_text"]
    assert load_metric_text(active["definition"], "<discovered>")  # loads, passes its sample


def test_the_oom_family_is_one_onset_with_or_without_a_trace(tmp_path: Path) -> None:
    """The first record of any OutOfMemoryError kind is the onset, to the ms, even when it
    carries no trace; trace-less repeats are counted in the same finding as traced ones."""
    (tmp_path / "app.log").write_text(
        "2026-01-01 10:00:00.000 INFO  [main] com.acme.App - started\n"
        "2026-01-01 10:00:01.123 ERROR [w-1] com.acme.App - failed: "
        "java.lang.OutOfMemoryError: GC overhead limit exceeded\n"
        "2026-01-01 10:00:01.500 ERROR [w-2] com.acme.App - Request failed\n"
        "java.lang.OutOfMemoryError: Java heap space\n"
        "\tat com.acme.App.handle(App.java:10)\n"
        "2026-01-01 10:00:02.000 ERROR [w-3] com.acme.App - Request failed\n"
        "java.lang.OutOfMemoryError: Java heap space\n"
        "2026-01-01 10:00:03.000 ERROR [w-4] com.acme.App - Plugin failed\n"
        "java.lang.OutOfMemoryError: Metaspace\n")
    res = api.scan(tmp_path, keep_records=False, tz="UTC")
    inc = res.incident.to_json()
    assert _ms(inc["onset"]) == _ms("2026-01-01T10:00:01.123Z")
    assert inc["onset_evidence"]["line"] == 2
    heap = [f for f in res.findings if f.rule == "jvm-heap-oom"]
    assert [f.count for f in heap] == [3]
    assert [f.count for f in res.findings if f.rule == "jvm-metaspace-oom"] == [1]


LIMITS = """\
Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             96367                96367                processes
Max open files            256                  256                  files
Max locked memory         8388608              8388608              bytes
"""


def test_a_saved_limits_file_caps_a_descriptor_gauge_that_prints_no_maximum(
        tmp_path: Path) -> None:
    """/proc/<pid>/limits saved beside the logs states the soft open-file limit: it is the
    ceiling of an open-descriptor gauge whose own line prints no maximum."""
    lines = []
    fds, upload = 12, 0
    for i in range(80):  # a monitor line every 500 ms, 1-4 uploads between two
        t = f"2026-01-01 10:00:{i // 2:02d}.{(i % 2) * 500:03d}"
        for _ in range(1 + (i * 7) % 4):
            upload += 1
            lines.append(f"{t} INFO  [main] com.acme.Uploads - Upload handled upload={upload}")
        fds += 1 + (i * 7) % 4
        lines.append(f"{t} INFO  [monitor] com.acme.Health - Resource usage: open_fds={fds}")
    lines.append("2026-01-01 10:00:40.000 ERROR [main] com.acme.Uploads - Upload failed "
                 f"upload={upload + 1}: java.io.IOException: Too many open files")
    (tmp_path / "app.log").write_text("\n".join(lines) + "\n")
    (tmp_path / "limits.txt").write_text(LIMITS)
    res = api.scan(tmp_path, keep_records=False, tz="UTC")
    assert res.incident is not None
    leak = next(lk for lk in res.incident.to_json()["leaks"] if "fds" in lk["metric"])
    ceiling = leak["projection"]["ceiling"]
    assert ceiling["value"] == 256 and ceiling["source"] == "max_open_files", ceiling
    assert ceiling["where"] == "limits.txt:4", ceiling


def test_the_descriptor_globs_agree() -> None:
    """The failure rule's gauges and the open-file limit's gauges are the same names."""
    from logsleuth.parsers.metrics import builtin_metric_defs
    from logsleuth.timeline.resources import DESCRIPTOR_GLOBS, EXHAUSTED_BY

    (limit,) = [d for d in builtin_metric_defs() if d.name == "max_open_files"]
    assert tuple(limit.values[0].caps) == DESCRIPTOR_GLOBS == EXHAUSTED_BY["too-many-open-files"]


# --- second round: shapes the first seven runs do not have -------------------------------

def _gauge_rows(case: str, metric: str) -> list[dict[str, Any]]:
    m = scanned(case).tables["metrics"]
    return [r for r in m.to_pylist() if r["metric"] == metric and r["origin"] == "gauge"]


def _within_the_app_log(case: str, rows: list[dict[str, Any]], slack_ms: int) -> None:
    """Every gauge sample lies inside the app log's span (the JVM wrote both)."""
    t = truth(case)
    lo, hi = _ms(t["first_ts_utc"]) - slack_ms, _ms(t["last_ts_utc"]) + slack_ms
    stamps = [round(r["ts"].timestamp() * 1000) for r in rows]
    assert stamps and lo <= min(stamps) and max(stamps) <= hi, (
        f"{case}: gauge {min(stamps, default=None)}..{max(stamps, default=None)} ms outside "
        f"the app log's {lo}..{hi}")


def _pause_ids(paths: list[Path]) -> set[int]:
    """GC ids of the pauses that print the heap before and after (``A->B(C)``)."""
    import gzip
    import re

    ids: set[int] = set()
    for path in paths:
        for m in re.finditer(r"GC\((\d+)\) Pause [^\n]*\d[KMG]->\d+[KMG]\(\d+[KMG]\)",
                             gzip.decompress(path.read_bytes()).decode()):
            ids.add(int(m.group(1)))
    return ids


def test_a_rotated_gc_log_is_one_gauge_on_the_app_logs_clock() -> None:
    """heap-serial-rotated: -Xlog rotation left gc.log.0-2 and gc.log; every pause of every
    file is a heap sample (one per GC id), in file order, and the GC log's UTC clock and the
    app log's local one (no zone in its records) agree: every sample lies in the app log's
    span, to the 2 s the JVM runs past its last record (exit) and before its first."""
    files = sorted((ROOT / "heap-serial-rotated").glob("gc.log*"))
    assert len(files) == 4, files
    rows = _gauge_rows("heap-serial-rotated", "jvm_heap_after_gc")
    by_file = {Path(r["source"]).name for r in rows}
    assert by_file == {f.name for f in files}, by_file
    assert len(rows) == len(_pause_ids(files)), (len(rows), len(_pause_ids(files)))
    _within_the_app_log("heap-serial-rotated", rows, 2000)


def test_an_uptime_only_gc_log_is_placed_on_the_app_logs_clock() -> None:
    """heap-shenandoah: the default -Xlog decorations give uptimes only; the gauge is placed
    in time from the evidence, not left out: every sample in the app log's span (2 s: the
    JVM starts ~0.7 s before its first record and exits 0.4 s after its last). The app
    log is zone-less and read as UTC (the onset's known miss): the gauge is on that same
    clock, one hour after the run's true UTC."""
    rows = _gauge_rows("heap-shenandoah", "jvm_heap_after_gc")
    assert len(rows) >= 100, len(rows)
    on_app_clock = [{**r, "ts": r["ts"] - timedelta(hours=1)} for r in rows]
    _within_the_app_log("heap-shenandoah", on_app_clock, 2000)


def test_jcmd_dumps_appended_to_one_file_are_one_sample_each() -> None:
    """threads-executor: ten ``jcmd <pid> Thread.print`` outputs appended to one gzipped
    file; each is one live-thread sample with the thread count truth counted, in order, at
    its own stamp (to the second, local time like the app log)."""
    import gzip
    import re
    from zoneinfo import ZoneInfo

    t = truth("threads-executor")
    rows = sorted(_gauge_rows("threads-executor", "jvm_threads_live"), key=lambda r: r["ts"])
    assert [int(r["value"]) for r in rows] == t["threads_per_dump"], [r["value"] for r in rows]
    text = gzip.decompress((ROOT / "threads-executor" / "threads.txt.gz").read_bytes()).decode()
    stamps = [datetime.strptime(m, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Europe/Berlin"))
              for m in re.findall(r"(?m)^\d+:\n(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$", text)]
    assert len(stamps) == 10
    assert [round(r["ts"].timestamp()) for r in rows] == [round(s.timestamp()) for s in stamps]


def test_gc_overhead_limit_is_the_heap_oom_onset() -> None:
    """overhead-parallel fails first with ``GC overhead limit exceeded`` (16 records; two
    ``Java heap space`` follow): that first record is the onset, and both kinds are counted
    in the one heap OOM finding (the generic checks compare the count with truth)."""
    import gzip

    t = truth("overhead-parallel")
    assert "GC overhead limit exceeded" in t["onset"]["error"]
    text = gzip.decompress((ROOT / "overhead-parallel" / "app.log.gz").read_bytes()).decode()
    first = text.index("OutOfMemoryError")
    assert text.startswith("OutOfMemoryError: GC overhead limit exceeded", first)
    res = scanned("overhead-parallel")
    inc = res.incident.to_json()
    assert inc["onset_evidence"]["line"] == t["onset"]["line"], inc["onset_evidence"]
    heap = [f for f in res.findings if f.rule == "jvm-heap-oom"]
    assert len(heap) == 1 and heap[0].count == text.count("java.lang.OutOfMemoryError: ")
    assert "GC overhead limit exceeded" in heap[0].to_json()["example"]["text"]


def test_a_gc_log_placed_by_pause_alignment_is_said_aloud() -> None:
    """heap-shenandoah: an uptime-only GC log placed by pause alignment is named in a
    warning with its uncertainty, its pauses give lead times within the run (not
    "2562048287061.8 h before onset", as unanchored ones once did), and the onset is still
    the first OOM record, exact to the ms as the zone-less log writes it. (An uptime-only
    GC log nothing anchors: test_pausealign.py, gc-unanchored.)"""
    from logsleuth.reports.narrative import incident_paragraph

    res = scanned("heap-shenandoah")
    assert "gc-unanchored" not in [d.code for d in res.diagnostics]
    warned = [d for d in res.diagnostics if d.code == "gc-anchored-by-pauses"]
    assert len(warned) == 1 and " ms) estimated by aligning " in warned[0].message, warned
    inc = res.incident.to_json()
    assert inc["precursors"] and inc["first_symptoms"], inc  # the pauses now take part
    assert all(abs(p["lead_ms"]) < 3_600_000 for p in inc["precursors"]), inc["precursors"]
    assert all(abs(s["offset_ms"]) < 3_600_000 for s in inc["first_symptoms"]), inc["first_symptoms"]
    assert " h before onset" not in incident_paragraph(res)
    t = truth("heap-shenandoah")
    assert inc["onset_evidence"]["line"] == t["onset"]["line"]
    wall = _ms(inc["onset"]) - 3_600_000  # read as UTC; the run's clock was +01:00
    assert wall == _ms(t["onset"]["ts_utc"])


def _dump_groups(case: str) -> list[dict[str, int]]:
    """Per dump, threads counted by name with every digit run masked (stdlib, from the
    evidence): what "group the threads by name prefix" gives by hand."""
    import gzip
    import re
    from collections import Counter

    texts = [p.read_text() for p in sorted((ROOT / case).glob("jstack-*.txt"))]
    appended = ROOT / case / "threads.txt.gz"
    if appended.exists():
        texts += re.split(r"(?m)^(?=Full thread dump )",
                          gzip.decompress(appended.read_bytes()).decode())[1:]
    return [Counter(re.sub(r"\d+", "<N>", m) for m in re.findall(r'(?m)^"([^"]*)"', t))
            for t in texts]


@pytest.mark.parametrize(("case", "group"), [("threads-g1", "job-worker-<N>"),
                                             ("threads-executor", "pool-<N>-thread-<N>")])
def test_a_thread_leak_names_the_name_group_that_grows(case: str, group: str) -> None:
    """Issue 19's next step for threads, done: the leak names the thread-name group (digits
    masked) that grows most from the first dump to the last, with both counts as the
    dumps hold them, and the paragraph says it."""
    from logsleuth.reports.narrative import incident_paragraph

    dumps = _dump_groups(case)
    growth = {g: dumps[-1][g] - dumps[0][g] for g in dumps[-1]}
    assert max(growth, key=growth.__getitem__) == group  # the run's own truth
    res = scanned(case)
    leak = _leak(res.incident.to_json(), case)
    groups = leak["thread_groups"]
    assert groups and groups[0] == {"name": group, "first": dumps[0][group],
                                    "last": dumps[-1][group], "dumps": len(dumps)}, groups
    assert f'"{group}" ({dumps[0][group]} -> {dumps[-1][group]}' in incident_paragraph(res)
