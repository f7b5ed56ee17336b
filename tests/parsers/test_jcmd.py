"""Saved ``jcmd`` output is read as JVM facts, not as an app log.

tests/data/jcmd/ holds real outputs of ``jcmd PID <command>`` against a JVM started
with ``-XX:MaxDirectMemorySize=64m -Xmx64m -XX:MaxMetaspaceSize=48m`` (its README says
how). Expected, from how the JVM was started and before running: each file is a
``jvm-info`` input whose every line is read (none unparsed) with no layout warning;
the ceilings its flags state are 64 MiB of direct memory, 64 MiB of heap and 48 MiB
of metaspace; VM.uptime's ``2026-12-06T16:45:31.948+0000: 4.765 s`` puts the JVM
start at 16:45:27.183 UTC. A ``PID:`` line followed by an unknown answer is not jcmd's.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from logsleuth import api
from logsleuth.model import Kind
from logsleuth.parsers.classify import classify

DATA = Path(__file__).resolve().parents[1] / "data" / "jcmd"
FILES = ("vm.uptime.txt", "vm.flags.txt", "vm.command.line.txt", "vm.system.properties.txt",
         "gc.heap.info.txt")
MiB = 2**20


@pytest.mark.parametrize("name", FILES)
def test_each_saved_output_is_jvm_info(name: str) -> None:
    assert classify((DATA / name).read_bytes()) == Kind.JVM_INFO


def test_not_jcmd_without_a_known_answer() -> None:
    assert classify(b"12334:\nhello world\nsome text\n") != Kind.JVM_INFO
    assert classify(b"2026-12-06 10:00:00 INFO 12334: started\n") != Kind.JVM_INFO


def _scan(root: Path) -> object:
    return api.scan([str(root)], keep_records=False, workers=1)


def test_read_whole_with_no_layout_warning() -> None:
    result = _scan(DATA)
    by_path = {i.path: i for i in result.inputs}  # type: ignore[attr-defined]
    for name in FILES:
        stats = by_path[name]
        written = (DATA / name).read_bytes().count(b"\n")
        assert (stats.kind, stats.lines, stats.records, stats.unparsed_lines) == (
            "jvm-info", written, written, 0), name
    assert not [d for d in result.diagnostics  # type: ignore[attr-defined]
                if d.code.startswith("layout-")]


def _limits(result: object) -> dict[str, set[float]]:
    m = result.tables["metrics"].to_pandas()  # type: ignore[attr-defined]
    lim = m[m["origin"] == "limit"]
    return {str(k): set(g["value"]) for k, g in lim.groupby("metric")}


@pytest.mark.parametrize("name", ["vm.flags.txt", "vm.command.line.txt"])
def test_flags_state_the_ceilings(tmp_path: Path, name: str) -> None:
    shutil.copy(DATA / name, tmp_path / name)
    limits = _limits(_scan(tmp_path))
    assert limits["jvm_max_direct_memory"] == {64 * MiB}
    assert limits["jvm_max_heap"] == {64 * MiB}
    assert limits["jvm_max_metaspace"] == {48 * MiB}


def test_several_commands_appended_to_one_file(tmp_path: Path) -> None:
    """``jcmd PID VM.flags >> jvm.txt; jcmd PID VM.command_line >> jvm.txt``..."""
    joined = b"".join((DATA / n).read_bytes() for n in FILES)
    (tmp_path / "jvm.txt").write_bytes(joined)
    result = _scan(tmp_path)
    (stats,) = result.inputs  # type: ignore[attr-defined]
    assert (stats.kind, stats.records, stats.unparsed_lines) == (
        "jvm-info", joined.count(b"\n"), 0)
    assert _limits(result)["jvm_max_direct_memory"] == {64 * MiB}


def test_uptime_states_the_jvm_start() -> None:
    """Read as jvm-info, VM.uptime still states the JVM start (engine.startanchor)."""
    from logsleuth.engine.startanchor import jvm_start_stated

    planned = api_planned(DATA / "vm.uptime.txt")
    assert [p.kind for p in planned] == [Kind.JVM_INFO]  # type: ignore[attr-defined]
    start = jvm_start_stated(planned, UTC, {})
    want = datetime(2026, 12, 6, 16, 45, 27, 183000, tzinfo=UTC).timestamp() * 1000
    assert start is not None and start.ms == want


def api_planned(path: Path) -> list[object]:
    from logsleuth.engine.planner import LayoutChoice, plan_inputs
    from logsleuth.sources import discover

    return plan_inputs(discover([str(path)]).sources, LayoutChoice(), None, [], None)
