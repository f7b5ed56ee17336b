"""Two date formats at the same place in one file are two candidate layouts (issue 13).

A console capture of Elasticsearch's ``gradlew run`` writes Gradle's ``[BUILD]`` lines
(``[2023-12-18T13:31:10.882688Z] [BUILD] ...``: micros, ``Z``, a space after ``]``) and
then Elasticsearch's records (``[2023-12-18T14:31:15,025][INFO ][o.e.n.Node ...] ...``:
millis after a comma, ``][``). Both are a bracketed ISO date first; inference once pooled
them into one candidate (``[%d{...,SSS}] %m%n``) that read none of the lines it was built
from, so a short head of that file (what a watcher plans a new file on) was not read at
all, although the whole file reads as two layouts. The expectations below were written
from the lines themselves before the fix.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from logsleuth import api
from logsleuth.layouts.infer import header_hits, infer_layout
from logsleuth.layouts.tstamp import date_family, find_stamp

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public"
CONSOLE = PUBLIC / "applogs" / "elasticsearch-8.13-gradle-run-console.log"

ES = re.compile(r"\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2},\d{3}\]\[")  # independent of logsleuth
BUILD = re.compile(r"\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\] \[BUILD\] ")
JUL = re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M \S+ ")  # JUL SimpleFormatter

ES_PATTERN = "[%d{yyyy-MM-dd'T'HH:mm:ss,SSS}][%-5p][%-25c] [%t] %m%n"
BUILD_PATTERN = "[%d{yyyy-MM-dd'T'HH:mm:ss.SSSSSSX}] [%t] %m%n"


def _es(n: int) -> list[str]:
    return [f"[2023-12-18T14:31:17,{100 + i:03d}][INFO ][o.e.p.PluginsService     ] "
            f"[runTask-0] loaded module [m{i}]" for i in range(n)]


def _build(n: int) -> list[str]:
    return [f"[2023-12-18T13:31:1{i % 10}.88268{i % 10}Z] [BUILD] step {i}" for i in range(n)]


def test_the_console_heads_fifty_lines_read_as_elasticsearch_and_build(
        tmp_path: Path) -> None:
    """The first 50 lines (the watcher's first piece of the file): the ES records by the
    dominant layout, the 7 [BUILD] lines by an inferred further one, the one
    java.util.logging two-line record (line 25) by the built-in beside them; only the
    undated lines before the first record are unparsed (the CompileCommand lines continue
    the last [BUILD] record, as in the whole file's scan)."""
    lines = CONSOLE.read_text(encoding="utf-8").split("\n")[:50]
    es = [i + 1 for i, ln in enumerate(lines) if ES.match(ln)]
    build = [i + 1 for i, ln in enumerate(lines) if BUILD.match(ln)]
    jul = [i + 1 for i, ln in enumerate(lines) if JUL.match(ln)]
    assert len(build) == 7 and len(es) >= 20 and len(jul) == 1  # the cut the docstring says
    (tmp_path / "x.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = api.scan([str(tmp_path)], workers=1, tz="UTC", rules=False, analysis=False)
    (stats,) = result.inputs
    dominant, *further = str(stats.layout).split(" + ")
    assert dominant.startswith("inferred: [%d{yyyy-MM-dd'T'HH:mm:ss,SSS}][%-5p][")
    assert sorted(further) == sorted(["inferred: " + BUILD_PATTERN, "jul-simpleformatter"])
    assert list(result.records["line"]) == sorted(es + build + jul)
    assert stats.records == len(es) + 7 + 1
    assert stats.unparsed_lines == min(build) - 1 == 15
    assert int(result.records["n_lines"].sum()) + stats.unparsed_lines == stats.lines == 50
    notes = {d.code: str(d.level) for d in result.diagnostics if d.code.startswith("layout")}
    assert notes == {"layout-mixed": "info"}  # every dated line is read by one of them


@pytest.mark.parametrize(("n_es", "n_build"), [(20, 7), (24, 8), (10, 10), (7, 20)])
def test_each_date_format_is_its_own_candidate(n_es: int, n_build: int) -> None:
    """Neither format on 80 % of the lines: the larger one (of equal ones, the first in
    the file) is the dominant layout, the other a further one, and each reads every line
    of its own format."""
    es, build = _es(n_es), _build(n_build)
    got = infer_layout(build + es)
    big, small = (ES_PATTERN, BUILD_PATTERN) if n_es > n_build else (BUILD_PATTERN,
                                                                      ES_PATTERN)
    assert got.pattern == big, got.evidence
    assert [o.layout.pattern for o in got.others] == [small]
    assert got.explained == max(n_es, n_build)
    assert got.others[0].lines == min(n_es, n_build)
    assert got.mixed


def test_a_candidate_reads_the_lines_it_was_built_from() -> None:
    """Whatever the mix, the dominant candidate reads the lines of its own format: it is
    never a shape none of them has."""
    es, build = _es(12), _build(9)
    got = infer_layout(es + build)
    assert got.layout is not None
    assert all(header_hits(got.layout, es)) and not any(header_hits(got.layout, build))


@pytest.mark.parametrize(("a", "b", "same"), [
    ("2023-12-18T13:31:10.882688Z", "2023-12-18T13:31:10.88Z", True),  # Instant.toString
    ("2023-12-18 13:31:10,882", "2023-12-18 13:31:10,8", True),
    ("2024-01-15T10:23:45.678+01:00", "2024-01-15T09:23:47.500Z", True),  # XXX at UTC
    ("Dec 8, 2023 9:31:14 AM", "Dec 18, 2023 10:31:14 AM", True),  # JUL's d and h
    ("2023-12-18T13:31:10.882688Z", "2023-12-18T14:31:15,025", False),  # the console's two
    ("2023-12-18T13:31:10,882", "2023-12-18 13:31:10,882", False),
    ("2023-12-18 13:31:10,882", "2023-12-18 13:31:10,882+01:00", False),
])
def test_date_family_ignores_only_the_fields_widths(a: str, b: str, same: bool) -> None:
    """Lines of one layout may differ in the widths of their fields (trailing zeros
    dropped, ``Z`` for ``+00:00``, a one-digit day); a different separator, a ``T`` or
    an offset (or a fraction) where the other has none is another layout's date."""
    sa, sb = find_stamp(a, 0), find_stamp(b, 0)
    assert sa is not None and sb is not None and sa.java != sb.java
    assert (date_family(sa.java) == date_family(sb.java)) is same


APPLOGS = sorted(p for p in (PUBLIC / "applogs").iterdir() if p.is_file())
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_every_public_candidate_reads_most_lines_it_was_built_from() -> None:
    """The general rule behind the console's miss: of the sample lines whose date sits
    where the candidate's does, in its format, the candidate reads most; for every public
    app log's head as a watcher first sees it (50 lines) and for its first 2000 lines.
    Two-line layouts read line pairs (their date lines alone are not records): left out."""
    from logsleuth.layouts.infer import USABLE_TS_SHARE, date_place, tokens

    checked, missed = 0, []
    for path in APPLOGS:
        text = path.read_text(encoding="utf-8", errors="replace").split("\n")
        for n in (50, 2000):
            lines = [ln for ln in text[:n] if ln.strip()]
            got = infer_layout(lines)
            if got.layout is None or "%n%p" in (got.pattern or ""):
                continue
            places = [date_place(tokens(ANSI.sub("", ln))) for ln in lines]
            top = Counter(p for p in places if p).most_common(1)[0][0]
            voters = [ln for ln, p in zip(lines, places, strict=True) if p == top]
            read = sum(header_hits(got.layout, voters))
            checked += 1
            if read < USABLE_TS_SHARE * len(voters):
                missed.append(f"{path.name}[:{n}]: '{got.pattern}' reads {read} of "
                              f"{len(voters)}")
    assert checked >= 2 * 30, checked  # nearly every file is read by an inferred layout
    assert not missed, missed
