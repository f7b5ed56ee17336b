"""Rules over GC logs, thread dumps and nginx logs: the pack's own tests, the runner's
``# kind:`` sections, and threshold windows over whole real evidence files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from logsleuth.model import Kind, Record
from logsleuth.rules.compile import RuleSet
from logsleuth.rules.findings import Finding, FindingAggregator
from logsleuth.rules.loader import load_rules
from logsleuth.rules.testing import default_evidence_parse
from logsleuth.rules.testing import test_rules as run_rule_tests

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
PACKS = [REPO / "rules" / p for p in ("gc", "threads", "nginx")]
EVIDENCE_IDS = {"jvm-explicit-full-gc", "jvm-long-gc-pause", "jvm-gc-storm", "jvm-zgc-allocation-stall",
                "thread-blocked-on-logging", "jvm-deadlock", "nginx-5xx-burst",
                "nginx-upstream-errors"}


def _records(path: Path, kind: Kind) -> list[Record]:
    return default_evidence_parse(path.read_bytes(), str(path), kind)


def _findings(records: list[Record], only: list[str]) -> list[Finding]:
    compiled = RuleSet.compile(load_rules(only=only))
    agg = FindingAggregator()
    for rec in records:
        agg.add_all(compiled.evaluate(rec))
    return agg.finish()


# ---------------------------------------------------------------- the packs' own tests


def test_evidence_packs_pass_their_tests() -> None:
    report = run_rule_tests(PACKS)
    assert report.ok, report.render()
    assert not report.untested
    assert set(report.results) == EVIDENCE_IDS
    for rid, res in report.results.items():
        assert res.positives >= 2 and res.negatives >= 1, rid


def test_app_log_rules_stay_quiet_on_evidence() -> None:
    """Thread records now carry their frames: no app-log rule may fire on evidence."""
    files = [(DATA / "gc_extra" / "jdk17_g1_time_uptime_level_tags.log", Kind.GC_LOG),
             (DATA / "gc" / "g1-time_uptime_level_tags.log", Kind.GC_LOG),
             (DATA / "jstack_extra" / "jstack_l_deadlock.txt", Kind.THREAD_DUMP),
             (DATA / "dumps" / "jstack-contention.txt", Kind.THREAD_DUMP),
             (DATA / "nginx" / "access_upstream.log", Kind.NGINX_ACCESS),
             (DATA / "nginx" / "error.log", Kind.NGINX_ERROR)]
    compiled = RuleSet.compile(load_rules())
    fired = {m.rule.id for path, kind in files for r in _records(path, kind)
             for m in compiled.evaluate(r)}
    assert fired and fired <= EVIDENCE_IDS, fired - EVIDENCE_IDS


# ---------------------------------------------------------------- the runner's kind sections

RULE = """\
id: slow-pause
title: slow
severity: low
advice: a
match:
  all:
    - kind: gc-log
    - message: {contains: Pause}
    - field: pause_ms
      gt: 1
"""
# Real G1 lines (tests/data/gc/g1-time_uptime_level_tags.log): GC(8) 0.542 ms, GC(9) 2.030 ms.
G1 = """\
[2026-11-26T11:16:19.440+0100][0.054s][info][gc,start    ] GC(8) Pause Young (Normal) (G1 Evacuation Pause)
[2026-11-26T11:16:19.441+0100][0.054s][info][gc          ] GC(8) Pause Young (Normal) (G1 Evacuation Pause) 21M->4M(33M) 0.542ms
[2026-11-26T11:16:19.441+0100][0.054s][info][gc,start    ] GC(9) Pause Full (System.gc())
[2026-11-26T11:16:19.443+0100][0.057s][info][gc             ] GC(9) Pause Full (System.gc()) 6M->4M(24M) 2.030ms
"""


def _write(tmp_path: Path, test_log: str) -> str:
    (tmp_path / "slow-pause.yaml").write_text(RULE)
    (tmp_path / "slow-pause.test.log").write_text(test_log)
    return str(tmp_path / "slow-pause.test.log")


def test_kind_section_maps_records_to_original_lines(tmp_path: Path) -> None:
    g1 = G1.splitlines()
    log = _write(tmp_path, "\n".join([
        "# a comment",                # 1
        "# kind: gc-log",             # 2
        g1[0],                        # 3
        "# ruleid: slow-pause",       # 4  wrong on purpose: GC(8) paused 0.542 ms
        g1[1],                        # 5
        g1[2],                        # 6
        "# ok: slow-pause",           # 7  wrong on purpose: GC(9) paused 2.030 ms
        g1[3],                        # 8
    ]) + "\n")
    res = run_rule_tests([tmp_path]).results["slow-pause"]
    assert [str(x) for x in res.missed] == [f"{log}:5:1"]
    assert [str(x) for x in res.unexpected] == [f"{log}:8:1"]
    assert (res.positives, res.negatives) == (1, 1)


def test_kind_sections_and_layout_sections_mix(tmp_path: Path) -> None:
    g1 = G1.splitlines()
    log = _write(tmp_path, "\n".join([
        "# layout: %d{yyyy-MM-dd HH:mm:ss,SSS} %-5level [%t] %logger - %msg%n",  # 1
        "# ok: slow-pause",                                                     # 2
        "2024-03-11 14:00:00,000 WARN  [main] a.B - Pause Young 900 ms",         # 3
        "# kind: gc-log",                                                       # 4
        g1[2],                                                                  # 5
        "# ruleid: slow-pause",                                                 # 6
        g1[3],                                                                  # 7
        "# kind: gc-log",                                                       # 8
        "# ok: slow-pause",                                                     # 9
        g1[1],                                                                  # 10
    ]) + "\n")
    report = run_rule_tests([tmp_path])
    assert report.ok, report.render()
    assert (report.results["slow-pause"].positives, report.results["slow-pause"].negatives) \
        == (1, 2)
    assert log.endswith("slow-pause.test.log")


def test_unknown_kind_and_annotation_on_a_line_without_a_record(tmp_path: Path) -> None:
    g1 = G1.splitlines()
    log = _write(tmp_path, "\n".join([
        "# kind: gc",                 # 1  not a kind
        g1[1],                        # 2
        "# kind: gc-log",             # 3
        "# ok: slow-pause",           # 4  the start line reports no event...
        g1[2],                        # 5
        "# ruleid: slow-pause",       # 6  ...so both annotations name the record at 7
        g1[3],                        # 7
    ]) + "\n")
    report = run_rule_tests([tmp_path])
    diags = sorted((d.code, str(d.location)) for d in report.diagnostics)
    assert diags == [("T004", f"{log}:1:1"), ("T006", f"{log}:6:1")]
    assert not report.ok
    # the first annotation (ok) stood, so the 2.030 ms pause it landed on is unexpected
    assert [str(x) for x in report.results["slow-pause"].unexpected] == [f"{log}:7:1"]


# ---------------------------------------------------------------- thresholds on whole files


def _count(path: Path, pattern: str) -> int:
    return len(re.findall(pattern, path.read_text(encoding="utf-8"), re.M))


def test_gc_storm_fires_on_a_heap_that_no_longer_fits() -> None:
    path = DATA / "gc_extra" / "jdk17_g1_time_uptime_level_tags.log"
    fulls = _count(path, r"\[gc +\] GC\(\d+\) Pause Full ")  # one summary line per full GC
    assert fulls >= 5
    [f] = _findings(_records(path, Kind.GC_LOG), ["jvm-gc-storm"])
    assert f.count == fulls
    assert f.threshold == {"count": 5, "window": "1m", "peak_in_window": fulls}  # 0.4 s run
    assert f.signature == "collector=G1"


def test_gc_storm_quiet_on_two_explicit_full_gcs() -> None:
    path = DATA / "gc" / "g1-time_uptime_level_tags.log"
    assert _count(path, r"\[gc +\] GC\(\d+\) Pause Full ") == 2
    assert _findings(_records(path, Kind.GC_LOG), ["jvm-gc-storm"]) == []
    [f] = _findings(_records(path, Kind.GC_LOG), ["jvm-explicit-full-gc"])
    assert f.count == 2 and f.threshold is None


def test_long_gc_pause_counts_only_pauses_over_500_ms() -> None:
    path = DATA / "gc_extra" / "jdk8_cms_datestamps.log"
    # JDK 8 prints each event's own total last on its record: ", 0.9001000 secs]"
    totals = [float(x) for x in re.findall(r"(\d+\.\d+) secs\] \[Times",
                                           path.read_text(encoding="utf-8"))]
    [f] = _findings(_records(path, Kind.GC_LOG), ["jvm-long-gc-pause"])
    assert f.count == sum(t > 0.5 for t in totals) == 2


def test_5xx_burst_over_a_real_access_log() -> None:
    path = DATA / "nginx" / "access_upstream.log"
    n5xx = _count(path, r'^\S+ \S+ \S+ \[[^\]]+\] "(?:[^"\\]|\\.)*" 5\d\d ')
    assert n5xx >= 20
    [f] = _findings(_records(path, Kind.NGINX_ACCESS), ["nginx-5xx-burst"])
    assert f.count == n5xx
    assert f.threshold == {"count": 20, "window": "1m", "peak_in_window": n5xx}  # 5 s of traffic


def test_5xx_burst_quiet_below_the_threshold(tmp_path: Path) -> None:
    head = tmp_path / "access.log"
    lines = (DATA / "nginx" / "access_upstream.log").read_text().splitlines(keepends=True)
    head.write_text("".join(lines[:20]))
    assert 0 < _count(head, r'" 5\d\d ') < 20
    assert _findings(_records(head, Kind.NGINX_ACCESS), ["nginx-5xx-burst"]) == []


@pytest.mark.parametrize(("category", "phrase"), [
    ("upstream-refused", r"\[error\].*Connection refused"),
    ("upstream-prematurely-closed", r"\[error\].*upstream prematurely closed"),
    ("upstream-reset", r"\[error\].*reset by peer"),
    ("no-live-upstreams", r"\[error\].*no live upstreams"),
    ("upstream-timeout", r"\[error\].*upstream timed out"),
])
def test_upstream_errors_one_finding_per_category(category: str, phrase: str) -> None:
    path = DATA / "nginx" / "error.log"
    found = {f.signature: f for f in _findings(_records(path, Kind.NGINX_ERROR),
                                               ["nginx-upstream-errors"])}
    assert len(found) == 5
    assert found[f"category={category}"].count == _count(path, phrase) > 0


def test_same_deadlock_in_two_dumps_is_one_finding() -> None:
    path = DATA / "jstack_extra" / "jstack_l_deadlock.txt"
    assert _count(path, r"^Found one Java-level deadlock:") == 2
    [f] = _findings(_records(path, Kind.THREAD_DUMP), ["jvm-deadlock"])
    assert f.count == 2
    assert f.threads["top"] == ["deadlock-A"]
    assert str(f.example["text"]).startswith("Found one Java-level deadlock:")
    assert f.example["line"] == 272  # the section's first line in the file


def test_pause_limit_changed_by_exclude_and_copy(tmp_path: Path) -> None:
    """The way docs/rules.md documents: exclude the built-in, load a copy with a new id."""
    rule = (REPO / "rules" / "gc" / "jvm-long-gc-pause.yaml").read_text()
    assert "gt: 500" in rule
    (tmp_path / "long-gc-pause-200.yaml").write_text(
        rule.replace("id: jvm-long-gc-pause", "id: long-gc-pause-200").replace("gt: 500",
                                                                               "gt: 200"))
    rules = load_rules([tmp_path], exclude=["jvm-long-gc-pause"], only=["gc"])
    assert "jvm-long-gc-pause" not in {r.id for r in rules}
    path = DATA / "gc_extra" / "jdk8_g1_details.log"  # one 250 ms full GC, the rest shorter
    compiled = RuleSet.compile(rules)
    hits = [r.line for r in _records(path, Kind.GC_LOG)
            for m in compiled.evaluate(r) if m.rule.id == "long-gc-pause-200"]
    assert hits == [49]  # "[Full GC (System.gc())  120M->80M(256M), 0.2500000 secs]"
    assert _findings(_records(path, Kind.GC_LOG), ["jvm-long-gc-pause"]) == []
