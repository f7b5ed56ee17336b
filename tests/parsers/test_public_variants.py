"""Evidence variants from other people's files (tests/data/public, see SOURCES.md).

Every expectation below was written from reading the file itself (what a person
sees: the threads and their states, the deadlock cycle, status counts, pause
counts and heap figures), before the parsers were changed to read it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest

from logsleuth.model import Kind
from logsleuth.parsers.classify import classify
from logsleuth.parsers.gc import parse_gc_log
from logsleuth.parsers.jstack import parse_thread_dumps
from logsleuth.parsers.nginx import parse_nginx_access, parse_nginx_error

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public"
DUMPS, NGINX, GC = PUBLIC / "dumps", PUBLIC / "nginx", PUBLIC / "gc"


def _kind(path: Path) -> Kind:
    return classify(path.read_bytes()[:65536], name=path.name)


def _dump(name: str):
    res = parse_thread_dumps((DUMPS / name).read_bytes(), name)
    assert res.parsed_lines + res.unparsed_lines == res.lines
    return res


def _threads(res) -> dict[str, dict]:
    return {r["thread"]: r for r in res.tables["thread_states"].to_pylist()}


# ---------------------------------------------------------------- thread dumps


def test_windows_console_jdk8_dump_padded_lines_and_prompt() -> None:
    path = DUMPS / "jdk8-windows-console-padded-deadlock.txt"
    assert _kind(path) is Kind.THREAD_DUMP
    res = _dump(path.name)
    assert res.unparsed_lines == 0  # the `λ jstack 15256` prompt is part of the capture
    t = _threads(res)
    assert len(t) == 22
    assert all(name == name.strip() for name in t)
    assert Counter(r["state"] for r in t.values()) == {
        "RUNNABLE": 8, "BLOCKED": 2, "WAITING": 2, None: 10}
    assert t["Thread-1"]["blocked_on_lock"] == "0x0000000740cfd400"
    assert t["Thread-1"]["locks_held"] == ["0x0000000740cfd3f0"]
    assert t["Thread-0"]["blocked_on_lock"] == "0x0000000740cfd3f0"
    assert t["Thread-0"]["locks_held"] == ["0x0000000740cfd400"]
    assert t["Thread-1"]["top_frame"] == (
        "com.qinchy.deadlock.EasyJstackResource.read(EasyJstackResource.java:19)")
    assert t["Thread-0"]["nid"] == 0x123C
    assert t["Thread-1"]["ts"] == datetime(2023, 9, 19, 16, 16, 4, tzinfo=UTC)
    dl = res.tables["deadlocks"].to_pylist()
    assert len(dl) == 1
    assert dl[0]["threads"] == ["Thread-1", "Thread-0"]
    assert dl[0]["locks"] == ["0x0000000740cfd400", "0x0000000740cfd3f0"]


def test_sap_jvm_dump_three_line_thread_headers() -> None:
    path = DUMPS / "sapjvm-threaddump-head.txt"
    assert _kind(path) is Kind.THREAD_DUMP
    res = _dump(path.name)
    assert res.unparsed_lines == 0
    t = _threads(res)
    assert len(t) == 15
    main = t["main"]
    assert main["state"] == "RUNNABLE"
    assert main["top_frame"] == "java.io.FileInputStream.readBytes([BII)I(Native Method)"
    assert (main["tid"], main["nid"], main["thread_no"]) == ("0x0000019255649000", 0x81F4, 1)
    assert (main["cpu_ms"], main["elapsed_s"], main["daemon"]) == (62.5, 396.66, False)
    assert main["locks_held"] == ["0x00000000eaf0a148", "0x00000000eaf0a5c8"]
    assert t["Finalizer"]["state"] == "WAITING"
    assert t["Finalizer"]["waiting_on_lock"] == "0x00000000eaf2e248"
    assert t["Finalizer"]["daemon"] is True
    assert (t["RMI Scheduler(0)"]["state"], t["RMI Scheduler(0)"]["state_detail"]) == (
        "TIMED_WAITING", "parking")
    assert main["ts"] == datetime(2026, 1, 27, 20, 45, 13, tzinfo=UTC)
    assert res.tables["deadlocks"].num_rows == 0


def test_openj9_javacore_threads_blocked_in_a_cycle() -> None:
    path = DUMPS / "javacore-deadlock-threads.txt"
    assert _kind(path) is Kind.THREAD_DUMP
    res = _dump(path.name)
    assert res.lines == 32
    assert res.unparsed_lines == 2  # the two `...` elisions of the excerpt
    t = _threads(res)
    assert sorted(t) == ["Worker Thread 1", "Worker Thread 2", "Worker Thread 3"]
    assert {r["state"] for r in t.values()} == {"BLOCKED"}
    w1 = t["Worker Thread 1"]
    assert (w1["blocked_on_lock"], w1["locks_held"]) == ("0xB5666688", ["0xB5666678"])
    assert w1["top_frame"] == "WorkerThread.run(DeadLockTest.java:35)"
    assert (w1["nid"], w1["thread_no"], w1["daemon"]) == (0x52CF, 0x13, False)
    locks = {r["lock"]: r for r in res.tables["locks"].to_pylist()}
    assert locks["0xB5666688"]["owner"] == "Worker Thread 2"
    assert locks["0xB5666688"]["waiters"] == ["Worker Thread 1"]
    dl = res.tables["deadlocks"].to_pylist()
    assert len(dl) == 1
    assert sorted(dl[0]["threads"]) == ["Worker Thread 1", "Worker Thread 2", "Worker Thread 3"]


def test_openj9_javacore_deadlock_section() -> None:
    path = DUMPS / "javacore-deadlock-locks.txt"
    assert _kind(path) is Kind.THREAD_DUMP
    res = _dump(path.name)
    assert res.unparsed_lines == 0
    dl = res.tables["deadlocks"].to_pylist()
    assert len(dl) == 1
    assert dl[0]["threads"] == ["Worker Thread 2", "Worker Thread 3", "Worker Thread 1"]
    assert dl[0]["locks"] == ["0xB5666698", "0xB5666678", "0xB5666688"]


def test_jdk21_json_thread_dump() -> None:
    path = DUMPS / "jdk21-jcmd-threaddump.json"
    assert _kind(path) is Kind.THREAD_DUMP
    res = _dump(path.name)
    assert res.unparsed_lines == 0
    t = _threads(res)
    assert len(t) == 8
    assert t["Attach Listener"]["top_frame"] == "java.lang.Thread.getStackTrace(Thread.java:2451)"
    assert t["Reference Handler"]["thread_no"] == 9
    assert t["Signal Dispatcher"]["frames"] == []
    assert t["Finalizer"]["ts"] == datetime(2026, 1, 25, 15, 46, 4, 439000, tzinfo=UTC)


# ---------------------------------------------------------------- nginx


def test_nginx_forwarded_for_chains_before_the_address() -> None:
    path = NGINX / "beats-access-xff.log"
    assert _kind(path) is Kind.NGINX_ACCESS
    res = parse_nginx_access(path.read_bytes(), path.name)
    assert (res.lines, res.unparsed_lines) == (7, 0)
    rows = res.tables["http_requests"].to_pylist()
    assert Counter(r["status"] for r in rows) == {200: 4, 404: 2, 400: 1}
    assert (rows[0]["remote_addr"], rows[0]["forwarded_for"]) == ("127.0.0.1", "10.0.0.2, 10.0.0.1")
    assert (rows[4]["remote_addr"], rows[4]["forwarded_for"]) == (
        "10.2.1.185", "10.5.102.222, 199.96.1.1, 204.246.1.1")
    assert (rows[5]["remote_addr"], rows[5]["forwarded_for"]) == (
        "10.2.2.121", "2a03:0000:10ff:f00f:0000:0000:0:8000, 10.225.192.17")
    assert rows[3]["forwarded_for"] is None
    assert (rows[6]["method"], rows[6]["status"]) == (None, 400)
    assert rows[0]["ts"] == datetime(2016, 12, 7, 10, 5, 7, tzinfo=UTC)


def test_nginx_ingress_upstreaminfo_fields_after_the_user_agent() -> None:
    path = NGINX / "beats-ingress-upstreaminfo.log"
    assert _kind(path) is Kind.NGINX_ACCESS
    res = parse_nginx_access(path.read_bytes(), path.name)
    assert (res.lines, res.unparsed_lines) == (29, 0)
    t = res.tables["http_requests"]
    rows = t.to_pylist()
    assert Counter(r["status"] for r in rows) == {200: 25, 400: 2, 502: 2}
    assert pc.sum(pc.greater_equal(t["status"], 500)).as_py() == 2
    first = rows[0]
    assert (first["request_time_s"], first["upstream_time_s"], first["upstream_status"],
            first["upstream_addr"]) == (0.001, 0.0, 200, "172.17.0.5:8080")
    two_tries = rows[22]
    assert two_tries["upstream_tries"] == 2
    assert two_tries["upstream_status"] == 203
    assert two_tries["upstream_time_s"] == pytest.approx(0.104)
    bad_gateway = next(r for r in rows if r["status"] == 502)
    assert bad_gateway["line"] == 26
    assert (bad_gateway["status"], bad_gateway["upstream_status"],
            bad_gateway["upstream_tries"]) == (502, 502, 2)
    assert bad_gateway["upstream_addr"] == "[2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000"
    assert rows[4]["upstream_addr"] is None and rows[4]["upstream_status"] is None


INGRESS_CONF = """\
http {
    log_format upstreaminfo
        '$remote_addr - $remote_user [$time_local] "$request" '
        '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
        '$request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] '
        '$upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id';
    access_log /var/log/nginx/access.log upstreaminfo;
}
"""


def test_nginx_log_format_from_a_conf_gives_the_same_requests() -> None:
    from logsleuth.parsers.nginx_format import read_log_formats

    path = NGINX / "beats-ingress-upstreaminfo.log"
    formats = read_log_formats(INGRESS_CONF)
    assert set(formats) >= {"upstreaminfo", "combined"}
    res = parse_nginx_access(path.read_bytes(), path.name, log_formats=formats)
    assert res.unparsed_lines == 0
    assert any("upstreaminfo" in n for n in res.notes)
    inferred = parse_nginx_access(path.read_bytes(), path.name).tables["http_requests"]
    got = res.tables["http_requests"]
    for col in ("status", "request_time_s", "upstream_status", "upstream_addr",
                "upstream_tries"):
        assert got[col].to_pylist() == inferred[col].to_pylist(), col


def test_nginx_error_log_continuation_lines_belong_to_their_record() -> None:
    path = NGINX / "beats-error-multiline.log"
    assert _kind(path) is Kind.NGINX_ERROR
    res = parse_nginx_error(path.read_bytes(), path.name)
    assert (res.lines, res.unparsed_lines) == (6, 0)
    rows = res.tables["nginx_errors"].to_pylist()
    assert len(rows) == 4
    assert {r["level"] for r in rows} == {"error"}
    php = rows[2]
    assert (php["line"], php["pid"], php["tid"], php["connection"]) == (3, 205860, 205860, 180289)
    assert "FEE_Field_Category::wrap" in php["message"]
    assert (rows[0]["client"], rows[0]["request"]) == ("127.0.0.1", "GET /favicon.ico HTTP/1.1")
    assert rows[3]["line"] == 6


# ---------------------------------------------------------------- GC logs


def _gc(name: str):
    res = parse_gc_log((GC / name).read_bytes(), name)
    assert res.parsed_lines + res.unparsed_lines == res.lines
    assert res.parsed_lines / res.lines >= 0.995, res.unparsed_samples
    return res, res.tables["gc_events"]


def _pauses(t):
    return t.filter(pc.is_valid(t["pause_ms"])).to_pylist()


def test_jdk8_g1_tenuring_distribution_crlf() -> None:
    assert _kind(GC / "jdk8-g1-cause-tenuring.log") is Kind.GC_LOG
    _, t = _gc("jdk8-g1-cause-tenuring.log")
    (p,) = _pauses(t)
    assert (p["kind"], p["cause"], p["collector"]) == ("young", "G1 Evacuation Pause", "G1")
    assert p["pause_ms"] == pytest.approx(16757.8613)
    assert (p["heap_before_kb"], p["heap_after_kb"], p["heap_capacity_kb"]) == (
        round(21.5 * 1024 * 1024), round(14.5 * 1024 * 1024), 80 * 1024 * 1024)
    assert p["uptime_ms"] == pytest.approx(26214)


def test_jdk7_g1_tenuring_remark_cleanup_mixed_full() -> None:
    _, t = _gc("jdk7-g1-tenuring.log")
    pauses = _pauses(t)
    assert [p["kind"] for p in pauses] == [
        "young", "young", "remark", "cleanup", "mixed", "young", "full"]
    assert pauses[0]["ts"] == datetime(2013, 11, 2, 9, 20, 35, 960000, tzinfo=UTC)
    assert pauses[-1]["ts"] == datetime(2013, 11, 2, 9, 21, 4, 181000, tzinfo=UTC)
    assert (pauses[0]["heap_before_kb"], pauses[0]["heap_after_kb"]) == (5120, 5024)
    assert pauses[5]["pause_ms"] == pytest.approx(27.9974)
    assert (pauses[-1]["heap_before_kb"], pauses[-1]["heap_after_kb"],
            pauses[-1]["heap_capacity_kb"]) == (131072, 65536, 131072)
    assert pc.sum(t["is_full"]).as_py() == 1
    assert pc.sum(pc.equal(t["kind"], "concurrent")).as_py() == 2


def test_jdk7_g1_adaptive_size_policy_lines_inside_pauses() -> None:
    res, t = _gc("jdk7-g1-adaptive-size-policy.log")
    assert res.unparsed_lines == 0
    pauses = _pauses(t)
    assert len(pauses) == 7
    assert [p["phase"] for p in pauses].count("Pause Young (Concurrent Start)") == 1
    assert pauses[0]["pause_ms"] == pytest.approx(158.757)
    assert (pauses[0]["heap_before_kb"], pauses[0]["heap_after_kb"]) == (
        round(65.0 * 1024 * 1024), round(64.3 * 1024 * 1024))
    assert pauses[-1]["ts"] == datetime(2013, 5, 10, 12, 15, 50, 912000, tzinfo=UTC)
    assert pauses[-1]["pause_ms"] == pytest.approx(123.321)
    conc = t.filter(pc.equal(t["kind"], "concurrent")).to_pylist()
    assert [c["duration_ms"] for c in conc] == [pytest.approx(190.572)]


def test_jdk7_g1_mixed_line_with_date_inside_the_event() -> None:
    _, t = _gc("jdk7-g1-datestamp-mixedline.log")
    (p,) = _pauses(t)
    assert p["phase"] == "Pause Young (Concurrent Start)"
    assert p["pause_ms"] == pytest.approx(280.312)
    assert p["ts"] == datetime(2012, 2, 24, 11, 50, 8, 274000, tzinfo=UTC)
    assert (p["heap_before_kb"], p["heap_after_kb"], p["heap_capacity_kb"]) == (
        20701 * 1024, 20017 * 1024, 25936 * 1024)


def test_jdk7_cms_promotion_failure_with_interleaved_concurrent_sweep() -> None:
    res, t = _gc("jdk7-cms-tenuring-promotion-failure.log")
    assert res.unparsed_lines == 0
    (p,) = _pauses(t)
    assert (p["kind"], p["is_full"], p["collector"]) == ("full", True, "CMS")
    assert p["pause_ms"] == pytest.approx(129946.822)
    assert (p["heap_before_kb"], p["heap_after_kb"], p["heap_capacity_kb"]) == (
        30431568, 23342845, 32098112)
    assert p["ts"] == datetime(2014, 3, 13, 2, 18, 26, 29000, tzinfo=UTC)
    conc = t.filter(pc.equal(t["kind"], "concurrent")).to_pylist()
    assert [(c["phase"], c["duration_ms"]) for c in conc] == [
        ("Concurrent sweep", pytest.approx(20725))]
    sp = res.tables["safepoints"]
    assert sp.num_rows == 5
    assert max(sp["total_ms"].to_pylist()) == pytest.approx(129953.135)


def test_jdk8_parallel_tenuring_split_events() -> None:
    _, t = _gc("jdk8-parallel-tenuring-cause.log")
    pauses = _pauses(t)
    assert [p["cause"] for p in pauses] == [
        "Allocation Failure", "GCLocker Initiated GC", "Last ditch collection",
        "Metadata GC Threshold", "System.gc()"]
    assert {p["kind"] for p in pauses} == {"young"}
    assert (pauses[0]["heap_before_kb"], pauses[0]["heap_after_kb"],
            pauses[0]["heap_capacity_kb"]) == (24571, 22186, 94208)
    assert pauses[0]["pause_ms"] == pytest.approx(19.9218)
    assert pauses[0]["collector"] == "Parallel"


def test_unified_logging_with_safepoint_and_os_cpu_tags() -> None:
    res, t = _gc("ujl-serial-safepoint-os-cpu.log")
    assert res.unparsed_lines == 0
    pauses = _pauses(t)
    assert [(p["gc_id"], p["kind"]) for p in pauses] == [
        (0, "young"), (1, "young"), (3, "full"), (2, "young")]
    assert pauses[0]["pause_ms"] == pytest.approx(9.814)
    assert (pauses[2]["heap_before_kb"], pauses[2]["heap_after_kb"]) == (74 * 1024, 10 * 1024)
    assert res.tables["safepoints"].num_rows == 4


# ---------------------------------------------------------------- whole scans


def test_scan_of_the_variants_reads_each_file_as_its_kind() -> None:
    from logsleuth import api

    res = api.scan([DUMPS, NGINX, GC], tz="UTC", workers=1)
    folder = {p.name: d.name for d in (DUMPS, NGINX, GC) for p in d.iterdir()}
    want = {"dumps": "thread-dump", "gc": "gc-log", "nginx": "nginx-access"}
    assert len(res.inputs) == len(folder)
    for st in res.inputs:
        name = Path(st.path).name
        assert st.kind == ("nginx-error" if "error" in name else want[folder[name]]), name
    deadlocks = res.table("deadlocks").to_pylist()
    assert sorted(len(d["threads"]) for d in deadlocks) == [2, 3, 3]
    fired = {src for f in res.findings if f.rule == "jvm-deadlock" for src in f.sources["top"]}
    assert fired == {"jdk8-windows-console-padded-deadlock.txt", "javacore-deadlock-locks.txt",
                     "javacore-deadlock-threads.txt"}
    http = res.table("http_requests")
    assert pc.sum(pc.greater_equal(http["status"], 500)).as_py() == 2
    assert all(s.unparsed_lines == 0 for s in res.inputs
               if not Path(s.path).name.startswith("javacore-deadlock-threads"))


def test_scan_reads_the_log_format_of_an_nginx_conf_kept_with_the_log(tmp_path: Path) -> None:
    from logsleuth import api

    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "access.log").write_bytes(
        (NGINX / "beats-ingress-upstreaminfo.log").read_bytes())
    (tmp_path / "nginx.conf").write_text(INGRESS_CONF)
    res = api.scan(tmp_path / "logs", tz="UTC", workers=1)
    (st,) = [s for s in res.inputs if s.path.endswith("access.log")]
    assert (st.kind, st.unparsed_lines) == ("nginx-access", 0)
    assert any("'upstreaminfo'" in n for n in st.notes)
    assert res.table("http_requests")["upstream_tries"].to_pylist().count(2) == 5


def test_jdk8_cms_with_gc_ids_on_every_line() -> None:
    res, t = _gc("jdk8-cms-printgcid.log")
    assert res.unparsed_lines == 0
    pauses = _pauses(t)
    assert [p["kind"] for p in pauses] == (
        ["young"] * 2 + ["pause-other", "young", "young", "young", "remark"] + ["young"] * 3)
    assert (pauses[0]["heap_before_kb"], pauses[0]["heap_after_kb"],
            pauses[0]["heap_capacity_kb"]) == (8678, 8064, 31680)
    assert pauses[0]["pause_ms"] == pytest.approx(10.6548)
    assert pauses[6]["pause_ms"] == pytest.approx(3.9463)
    conc = t.filter(pc.equal(t["kind"], "concurrent")).to_pylist()
    assert [(c["phase"], c["duration_ms"], c["uptime_ms"]) for c in conc] == [
        ("Concurrent mark", pytest.approx(13), pytest.approx(212)),
        ("Concurrent preclean", pytest.approx(1), pytest.approx(221)),
        ("Concurrent sweep", pytest.approx(0), pytest.approx(234)),
        ("Concurrent reset", pytest.approx(18), pytest.approx(253))]
    assert conc[0]["ts"] == datetime(2022, 8, 1, 17, 16, 33, 213000, tzinfo=UTC)


def test_jdk8_g1_concurrent_cycle_uptime_only() -> None:
    assert _kind(GC / "jdk8-g1-concurrent-cycle-ergonomics.log") is Kind.GC_LOG
    res, t = _gc("jdk8-g1-concurrent-cycle-ergonomics.log")
    assert res.unparsed_lines == 0
    pauses = _pauses(t)
    assert [(p["kind"], p["uptime_ms"]) for p in pauses] == [
        ("young", pytest.approx(290)), ("remark", pytest.approx(303)),
        ("cleanup", pytest.approx(304)), ("young", pytest.approx(307))]
    assert pauses[0]["phase"] == "Pause Young (Concurrent Start)"
    assert pauses[0]["pause_ms"] == pytest.approx(11.5587)
    assert (pauses[0]["heap_before_kb"], pauses[0]["heap_after_kb"],
            pauses[0]["heap_capacity_kb"]) == (round(71.1 * 1024), round(71.2 * 1024), 103 * 1024)
    assert (pauses[2]["heap_before_kb"], pauses[2]["heap_after_kb"]) == (75 * 1024, 25 * 1024)
    assert all(p["ts"] is None for p in pauses)
    conc = t.filter(pc.equal(t["kind"], "concurrent"))["duration_ms"].to_pylist()
    assert conc == [pytest.approx(0.1729), pytest.approx(1.1728), pytest.approx(0.095)]


def test_unified_g1_concurrent_cycle_with_safepoint_and_os_cpu_tags() -> None:
    res, t = _gc("ujl-g1-safepoint-os-cpu.log")
    assert res.unparsed_lines == 0
    pauses = _pauses(t)
    assert len(pauses) == 13
    assert [p["gc_id"] for p in pauses] == [0, 1, 2, 3, 4, 5, 7, 8, 9, 6, 10, 11, 6]
    assert pauses[5]["phase"].startswith("Pause Initial Mark")
    remark, cleanup = pauses[9], pauses[12]
    assert (remark["kind"], remark["pause_ms"]) == ("remark", pytest.approx(0.939))
    assert (cleanup["kind"], cleanup["heap_before_kb"], cleanup["heap_after_kb"]) == (
        "cleanup", 114 * 1024, 70 * 1024)
    assert (pauses[11]["heap_before_kb"], pauses[11]["heap_after_kb"],
            pauses[11]["heap_capacity_kb"]) == (122 * 1024, 113 * 1024, 128 * 1024)
    assert pc.sum(t["is_full"]).as_py() == 0
    assert res.tables["safepoints"].num_rows == 14
    assert pauses[0]["uptime_ms"] == pytest.approx(207)


@pytest.mark.parametrize("prompt", [
    "C:\\>jstack -l 15256", "PS C:\\Users\\dev> jstack 15256",
    "C:\\Program Files\\Java\\jdk1.8.0_181\\bin>jstack.exe 15256",
    "[root@app01 ~]# jstack 15256", "$ sudo -u app jcmd 15256 Thread.print"])
def test_the_prompt_a_dump_was_typed_at_is_part_of_it(prompt: str) -> None:
    """The public dump with its own `λ` prompt swapped for other consoles' prompts."""
    data = (DUMPS / "jdk8-windows-console-padded-deadlock.txt").read_bytes()
    first_end = data.index(b"\n")
    variant = prompt.encode() + data[first_end:]
    assert classify(variant[:65536]) is Kind.THREAD_DUMP
    res = parse_thread_dumps(variant, "v.txt")
    assert (res.unparsed_lines, res.tables["deadlocks"].num_rows) == (0, 1)


def test_a_line_merely_naming_jstack_is_not_a_prompt() -> None:
    data = (DUMPS / "jdk8-windows-console-padded-deadlock.txt").read_bytes()
    first_end = data.index(b"\n")
    res = parse_thread_dumps(b"we should run jstack more often" + data[first_end:], "v.txt")
    assert res.unparsed_lines == 1


def test_jcmd_thread_print_typed_at_a_prompt_with_its_pid_line() -> None:
    """`jcmd <pid> Thread.print` prints `<pid>:` before the time: the same public dump."""
    data = (DUMPS / "jdk8-windows-console-padded-deadlock.txt").read_bytes()
    first_end = data.index(b"\n")
    variant = b"C:\\>jcmd 15256 Thread.print\r\n15256:\r\n" + data[first_end + 1:].replace(
        b"\n", b"\r\n")
    assert classify(variant[:65536]) is Kind.THREAD_DUMP
    res = parse_thread_dumps(variant, "v.txt")
    assert (res.unparsed_lines, res.tables["thread_states"].num_rows) == (0, 22)
    assert res.tables["deadlocks"]["threads"].to_pylist() == [["Thread-1", "Thread-0"]]
