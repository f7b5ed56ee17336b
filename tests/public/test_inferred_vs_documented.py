"""Inference against the layouts people documented for the public corpus.

``expectations.yaml`` names, for many files, the layout the file was written with
(read off the project's configuration or the file by a person, before logsleuth ran).
Where that is a PatternLayout logsleuth compiles, scanning with it as ``--pattern``
and scanning with no flag (a built-in or an inferred layout) must find the same
records: same first lines, line counts, instants and levels. Thread and logger may be
named differently (a bracket read as a thread that the project calls a node name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from logsleuth import api
from logsleuth.errors import PatternError
from logsleuth.layouts import compile_pattern

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public"
EXPECTATIONS: dict[str, dict[str, Any]] = yaml.safe_load(
    (PUBLIC / "expectations.yaml").read_text(encoding="utf-8"))["files"]
COLUMNS = ["line", "n_lines", "ts", "level"]


def _compiles(pattern: str) -> bool:
    """A PatternLayout with a date; not prose ("JULI OneLineFormatter: ...") nor %s."""
    if "%d" not in pattern:
        return False
    try:
        compile_pattern(pattern)
    except PatternError:
        return False
    return True


# documented layouts that are no reference, and why
NOT_A_REFERENCE = {
    "applogs/lavalink-spring-boot3.log": "Spring Boot 3.2 writes `[app] ` only when the"
    " application name is set; as written, %applicationName's optional group then takes"
    " the thread's brackets and the pattern reads no line",
    "applogs/lnav-mux-zookeeper.log": "prose around a pattern (a collector prefix and a"
    " key=value tail), not a PatternLayout",
    "applogs/sonarqube-5.6-wrapper-sonar.log": "prose after the pattern (`, inside Tanuki"
    " wrapper console output`): each line carries the wrapper's prefix first",
    "applogs/beats-elasticsearch-8-testcluster-stdout.log": "prose naming two layouts",
    "applogs/elasticsearch-8.13-gradle-run-console.log": "prose naming three layouts",
}
DOCUMENTED = sorted(rel for rel, exp in EXPECTATIONS.items()
                    if rel.startswith("applogs/") and _compiles(exp.get("layout") or "")
                    and rel not in NOT_A_REFERENCE)


def _records(rel: str, pattern: str | None) -> Any:
    result = api.scan(PUBLIC / rel, pattern=pattern, workers=1, tz="UTC", rules=False,
                      analysis=False)
    return result.records[COLUMNS].astype(str)


def test_the_corpus_documents_enough_layouts() -> None:
    assert len(DOCUMENTED) >= 20


@pytest.mark.parametrize("rel", DOCUMENTED)
def test_no_flag_reads_the_records_the_documented_layout_reads(rel: str) -> None:
    documented = _records(rel, EXPECTATIONS[rel]["layout"])
    assert not documented.empty, "the documented pattern reads nothing: no reference"
    got = _records(rel, None)
    assert got.values.tolist() == documented.values.tolist()
