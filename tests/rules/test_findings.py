"""Findings: aggregation by rule + fingerprint, merge across workers, threshold windows."""

from __future__ import annotations

import pickle

import pytest
from textparse import splitter_parser

from logsleuth.model import Record
from logsleuth.rules.compile import RuleSet
from logsleuth.rules.findings import FindingAggregator, RuleMatch
from logsleuth.rules.loader import load_rules
from logsleuth.rules.model import Rule

LAYOUT = "%d{yyyy-MM-dd HH:mm:ss,SSS} %-5level [%t] %logger - %msg%n"
OOM = """\
{ts} WARN  [{thread}] io.netty.channel.DefaultChannelPipeline - An exceptionCaught() event
io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 64 byte(s) of direct memory \
(used: {used}, max: 2147483648)
	at io.netty.util.internal.PlatformDependent.incrementMemoryCounter(PlatformDependent.java:754)
	at io.netty.util.internal.PlatformDependent.allocateDirectNoCleaner(PlatformDependent.java:709)
	at io.netty.buffer.PoolArena$DirectArena.allocateDirect(PoolArena.java:755)
"""
# (time, thread, used): three in minute 14:00, one at 14:01, two at 14:05.
EVENTS = [("14:00:00", "nio-1", 100), ("14:00:10", "nio-2", 200), ("14:00:20", "nio-1", 300),
          ("14:01:05", "nio-3", 400), ("14:05:00", "nio-1", 500), ("14:05:30", "nio-2", 150)]


@pytest.fixture(scope="module")
def records() -> list[Record]:
    text = "".join(OOM.format(ts=f"2024-03-11 {t},000", thread=th, used=u)
                   for t, th, u in EVENTS)
    recs = splitter_parser(text, "logs/app.log", LAYOUT)
    assert len(recs) == len(EVENTS)
    return recs


def _matches(records: list[Record], rules: list[Rule]) -> list[RuleMatch]:
    compiled = RuleSet.compile(rules)
    return [m for r in records for m in compiled.evaluate(r)]


def test_aggregates_one_finding_per_fingerprint(records: list[Record]) -> None:
    agg = FindingAggregator()
    agg.add_all(_matches(records, load_rules(only=["netty-out-of-direct-memory"])))
    [f] = agg.finish()
    assert f.rule == "netty-out-of-direct-memory" and f.count == 6
    assert f.first_seen == "2024-03-11T14:00:00.000+00:00"
    assert f.last_seen == "2024-03-11T14:05:30.000+00:00"
    assert f.peak_per_minute == 3
    assert f.example == {"path": "logs/app.log", "line": 1, "text": records[0].text}
    assert f.extracted["used"] == {"min": 100, "max": 500, "last": 150, "unit": "bytes"}
    assert f.extracted["requested"]["max"] == 64
    assert f.extracted["max"]["last"] == 2147483648
    assert f.threads["count"] == 3 and f.threads["top"][0] == "nio-1"
    assert f.sources == {"count": 1, "truncated": False, "top": ["logs/app.log"]}
    assert "PlatformDependent.incrementMemoryCounter" in f.signature
    assert f.stack.startswith("io.netty.util.internal.OutOfDirectMemoryError")
    assert f.advice.startswith("Compare")
    j = f.to_json()
    assert j["severity"] == "critical" and j["example"]["line"] == 1  # type: ignore[index]


def test_merge_of_pickled_partials_equals_one_pass(records: list[Record]) -> None:
    rules = load_rules(only=["netty"])
    matches = _matches(records, rules)
    whole = FindingAggregator()
    whole.add_all(matches)
    a, b = FindingAggregator(), FindingAggregator()
    b.add_all(matches[::2])  # the later worker holds the earliest record
    a.add_all(matches[1::2])
    merged = pickle.loads(pickle.dumps(a)).merge(pickle.loads(pickle.dumps(b)))
    assert [f.to_json() for f in merged.finish()] == [f.to_json() for f in whole.finish()]
    assert len(whole.finish()) == 2  # out-of-direct-memory and the counter frame


def _threshold_rule(count: int, window: str) -> Rule:
    rule, _ = Rule.from_dict({
        "id": "ooom-flood", "title": "flood", "severity": "high",
        "threshold": {"count": count, "window": window},
        "match": {"exception": "*OutOfDirectMemoryError"}})
    assert rule is not None
    return rule


@pytest.mark.parametrize(("count", "window", "fires"), [
    (3, "1m", True),  # 14:00:00, :10, :20 fall inside one minute
    (4, "1m", False),  # no minute-long window holds four (14:00:10..14:01:05 holds three)
    (4, "2m", True),  # 14:00:00 .. 14:01:05
    (6, "5m", False),  # 14:00:00 .. 14:05:00 is exactly 5 minutes: 14:05:00 is outside
    (6, "331s", True),  # 14:00:00 .. 14:05:30 inclusive needs a 331 s window
])
def test_threshold_windows_survive_map_reduce(records: list[Record], count: int, window: str,
                                              fires: bool) -> None:
    matches = _matches(records, [_threshold_rule(count, window)])
    parts = [FindingAggregator() for _ in range(3)]
    for i, m in enumerate(matches):
        parts[i % 3].add(m)  # every worker sees too few to fire on its own
    merged = parts[0].merge(parts[1]).merge(parts[2])
    found = merged.finish()
    assert bool(found) == fires
    if fires:
        assert found[0].threshold == {"count": count, "window": window,
                                      "peak_in_window": found[0].threshold["peak_in_window"]}
        assert found[0].threshold["peak_in_window"] >= count  # type: ignore[index]


def test_message_template_fingerprint_masks_numbers_and_ids() -> None:
    text = ("2024-03-11 14:00:00,000 WARN  [w-1] c.a.Pool - session 8f3c2a10-5b7e-4d8e-9a61-"
            "0c2b9f1e7d44 from 10.2.14.77:51812 dropped after 1532 ms\n"
            "2024-03-11 14:00:01,000 WARN  [w-2] c.a.Pool - session 0c2b9f1e-5b7e-4d8e-9a61-"
            "8f3c2a107d44 from 10.9.1.3:40000 dropped after 12 ms\n"
            "2024-03-11 14:00:02,000 WARN  [w-2] c.a.Pool - session 0c2b9f1e-5b7e-4d8e-9a61-"
            "8f3c2a107d44 from 10.9.1.3:40000 kept after 12 ms\n")
    rule, _ = Rule.from_dict({"id": "sess", "title": "t", "severity": "low",
                              "match": {"message": {"contains": "session"}}})
    assert rule is not None
    agg = FindingAggregator()
    agg.add_all(_matches(splitter_parser(text, "a.log", LAYOUT), [rule]))
    counts = sorted((f.count, f.signature) for f in agg.finish())
    assert counts == [(1, "session <*> from <*> kept after <*> ms"),
                      (2, "session <*> from <*> dropped after <*> ms")]
