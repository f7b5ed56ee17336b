"""Content classification on real files of every kind, and ``--kind`` overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from logsleuth.errors import PatternError
from logsleuth.model import Kind
from logsleuth.parsers.classify import KindOverrides, classify, resolve_tz
from logsleuth.parsers.jstack import find_dumps

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
HEAD = 8192


def _head(p: Path) -> bytes:
    return p.read_bytes()[:HEAD]


@pytest.mark.parametrize(("path", "kind"), [
    *[(f"nginx/{n}", Kind.NGINX_ACCESS) for n in (
        "access_combined.log", "access_common.log", "access_upstream.log",
        "access_upstream_quoted.log")],
    ("nginx/error.log", Kind.NGINX_ERROR),
    *[(f"jstack_extra/{n}", Kind.THREAD_DUMP) for n in (
        "jstack_l_deadlock.txt", "jcmd_thread_print.txt", "jdk8_deadlock_public.txt",
        "jdk21_carrier_public.txt")],
    ("jstack_extra/console_kill3.log", Kind.APP_LOG),
    ("nginx/README.md", Kind.UNKNOWN),
    ("nginx/nginx.conf", Kind.UNKNOWN),
])
def test_real_files(path: str, kind: Kind) -> None:
    assert classify(_head(DATA / path), name=path) is kind


def test_gc_logs_of_every_collector_and_jdk() -> None:
    files = sorted((DATA / "gc_extra").glob("*.log"))
    assert files, "gc test data missing"
    wrong = {f.name: classify(_head(f)) for f in files if classify(_head(f)) is not Kind.GC_LOG}
    assert wrong == {}


def test_app_log_layout_samples() -> None:
    """Every sample line of every built-in layout (text and JSON) reads as an app log."""
    n = 0
    for f in sorted((ROOT / "logsleuth" / "layouts" / "builtin").glob("*.yaml")):
        lines = [s if isinstance(s, str) else s["line"]
                 for s in yaml.safe_load(f.read_text())["samples"]]
        head = ("\n".join(lines) + "\n").encode()
        assert classify(head, name=f.name) is Kind.APP_LOG, f.name
        n += 1
    assert n >= 10


def test_console_log_with_kill3_dump_is_app_log_and_dump_is_found() -> None:
    data = (DATA / "jstack_extra" / "console_kill3.log").read_bytes()
    assert classify(data[:HEAD]) is Kind.APP_LOG
    assert len(find_dumps(data.decode())) == 2


def test_name_does_not_decide_and_cut_lines_are_ignored() -> None:
    head = _head(DATA / "nginx" / "error.log")
    assert classify(head, name="thread_dump.txt") is Kind.NGINX_ERROR
    data = (DATA / "nginx" / "access_upstream.log").read_bytes()
    assert len(data) > 4096 and classify(data[:4100]) is Kind.NGINX_ACCESS


def test_empty_and_binary_are_unknown() -> None:
    assert classify(b"") is Kind.UNKNOWN
    assert classify(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(100)) is Kind.UNKNOWN


def test_kind_overrides() -> None:
    ov = KindOverrides.parse(["legacy/*.out=gc-log", "*.dump=thread-dump", "*.out=app-log"])
    assert ov.lookup("legacy/jvm.out") is Kind.GC_LOG  # first match wins
    assert ov.lookup("other/jvm.out") is Kind.APP_LOG  # name-only glob
    assert ov.lookup("deep/dir/x.dump") is Kind.THREAD_DUMP
    assert ov.lookup("x.log") is None
    assert KindOverrides.parse(["*.LOG= NGINX-ACCESS "]).lookup("a.LOG") is Kind.NGINX_ACCESS


@pytest.mark.parametrize(("specs", "line", "col", "text"), [
    (["*.log=gc"], 1, 7, "unknown kind 'gc'"),
    (["*.log=gc-log", "nokind"], 2, 1, "expected GLOB=KIND"),
    (["=gc-log"], 1, 1, "expected GLOB=KIND"),
])
def test_bad_overrides_are_one_line_errors(specs: list[str], line: int, col: int,
                                           text: str) -> None:
    with pytest.raises(PatternError) as exc:
        KindOverrides.parse(specs)
    rendered = exc.value.diagnostic.render()
    assert rendered.startswith(f"--kind:{line}:{col}: error[LS-KIND]: ")
    assert text in rendered and "\n" not in rendered


def test_resolve_tz() -> None:
    assert resolve_tz(None) is None
    assert resolve_tz("UTC") is UTC
    assert resolve_tz("+0530").utcoffset(None) == timedelta(hours=5, minutes=30)
    berlin = resolve_tz("Europe/Berlin")
    assert datetime(2026, 7, 1, tzinfo=berlin).utcoffset() == timedelta(hours=2)
    with pytest.raises(PatternError):
        resolve_tz("Mars/Olympus")


CONSOLE = (
    "[0.003s][info][gc] Using G1\n"
    "[0.364s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 6M->1M(32M) 2.353ms\n"
    + "".join(f"2026-12-06 17:04:18.{i:03d} INFO  [main] c.e.Server - Request handled id={i}\n"
              for i in range(8))
    + "[1.364s][info][gc] GC(1) Pause Young (Normal) (G1 Evacuation Pause) 13M->3M(32M) 5.9ms\n")


def test_a_console_of_app_records_and_gc_lines_is_an_app_log() -> None:
    """A container's stdout: the JVM's -Xlog:gc lines (its default target) among more app
    records is an app log, whose GC lines are read where they sit (engine.embeddedgc);
    a GC log with a few odd lines stays a GC log."""
    assert classify(CONSOLE.encode()) == Kind.APP_LOG
    gc_heavy = "".join(f"[{i}.5s][info][gc] GC({i}) Pause Young (Normal) (G1 Evacuation "
                       f"Pause) 9M->3M(32M) 1.0ms\n" for i in range(20)) + CONSOLE
    assert classify(gc_heavy.encode()) == Kind.GC_LOG
