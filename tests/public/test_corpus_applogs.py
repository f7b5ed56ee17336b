"""Public app logs, read with no flag, against what a person sees in them.

The expectations (tests/data/public/expectations.yaml) were written from the files
before logsleuth was run on them: an independent record-start regex, the earliest
and latest instants, the exception classes. Known misses are listed in KNOWN_MISSES
with the reason; each is a strict xfail, so a fix shows up as an XPASS to flip.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public"
EXPECTATIONS: dict[str, dict[str, Any]] = yaml.safe_load(
    (PUBLIC / "expectations.yaml").read_text(encoding="utf-8"))["files"]
DAY_MS = 86_400_000

# file -> (why logsleuth misses it today, the checks that miss); each a strict xfail.
KNOWN_MISSES: dict[str, tuple[str, tuple[str, ...]]] = {
}


def file_lines(rel: str) -> list[str]:
    """The file's lines as a reader counts them (a final newline ends the last line)."""
    text = (PUBLIC / rel).read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def to_ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def tod_ms(hms: str) -> int:
    h, m, s = hms.split(":")
    return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)


@cache
def scan(rel: str) -> Any:
    """One scan per file, no layout flag; tz pinned so instants do not depend on the host."""
    import logsleuth

    return logsleuth.scan(PUBLIC / rel, tz="UTC", rules=False, analysis=False, workers=1)


def stats(rel: str) -> Any:
    result = scan(rel)
    assert len(result.inputs) == 1, f"{rel}: expected one input, got {result.inputs}"
    return result.inputs[0]


def check_kind(rel: str) -> None:
    assert stats(rel).kind == EXPECTATIONS[rel]["kind"]


def check_lines(rel: str) -> None:
    s = stats(rel)
    assert s.lines == len(file_lines(rel)), "every line of the file is accounted for"


def record_start_lines(rel: str) -> list[int]:
    """1-based numbers of the lines the independent regex calls record starts."""
    start = re.compile(EXPECTATIONS[rel]["record_start"])
    return [i for i, line in enumerate(file_lines(rel), 1) if start.match(line)]


def check_records(rel: str) -> None:
    expected = record_start_lines(rel)
    assert stats(rel).records == len(expected)
    got = sorted(int(n) for n in scan(rel).records["line"])
    assert got == expected, "records start on the lines the regex marks"


def check_times(rel: str) -> None:
    s, exp = stats(rel), EXPECTATIONS[rel]
    assert s.first_ts_ms is not None and s.last_ts_ms is not None, "no record has a timestamp"
    if "first_tod" in exp:  # the layout writes no date: only the time of day is known
        assert (s.first_ts_ms % DAY_MS, s.last_ts_ms % DAY_MS) == (
            tod_ms(exp["first_tod"]), tod_ms(exp["last_tod"]))
    else:
        assert (s.first_ts_ms, s.last_ts_ms) == (to_ms(exp["first_ts"]), to_ms(exp["last_ts"]))


def check_unparsed(rel: str) -> None:
    s, exp = stats(rel), EXPECTATIONS[rel]
    limit = exp.get("unparsed_max", math.floor(0.01 * len(file_lines(rel))))
    assert s.unparsed_lines <= limit, f"{s.unparsed_lines} unparsed, samples {s.unparsed_samples}"


def check_exceptions(rel: str) -> None:
    records = scan(rel).records
    seen = set(records["exception"].dropna()) | set(records["root_exception"].dropna())
    missing = set(EXPECTATIONS[rel]["exceptions"]) - seen
    assert not missing, f"exception classes not found in records: {sorted(missing)}"


CHECKS = {"kind": check_kind, "lines": check_lines, "records": check_records,
          "times": check_times, "unparsed": check_unparsed, "exceptions": check_exceptions}


def cases() -> list[Any]:
    out = []
    for rel, exp in EXPECTATIONS.items():
        for name in CHECKS:
            if name == "exceptions" and not exp.get("exceptions"):
                continue
            reason, misses = KNOWN_MISSES.get(rel, ("", ()))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if name in misses else []
            out.append(pytest.param(rel, name, id=f"{Path(rel).name}-{name}", marks=marks))
    return out


@pytest.mark.parametrize(("rel", "check"), cases())
def test_public_app_log(rel: str, check: str) -> None:
    CHECKS[check](rel)


def test_expectations_cover_every_app_log() -> None:
    files = sorted(p.relative_to(PUBLIC).as_posix() for p in (PUBLIC / "applogs").iterdir())
    assert files == sorted(EXPECTATIONS), "each public app log needs its expectations"


def test_expectations_are_sound() -> None:
    """The regexes and instants describe the files: guards against a typo passing as a miss."""
    for rel, exp in EXPECTATIONS.items():
        assert record_start_lines(rel), f"{rel}: record_start matches nothing"
        lines = file_lines(rel)
        allowed = exp.get("unparsed_max", 0)
        first = next(i for i, line in enumerate(lines) if re.match(exp["record_start"], line))
        assert first <= allowed, f"{rel}: {first} lines before the first record start"
        if "first_ts" in exp:
            assert to_ms(exp["first_ts"]) <= to_ms(exp["last_ts"])


def test_known_misses_name_real_cases() -> None:
    for rel, (reason, misses) in KNOWN_MISSES.items():
        assert rel in EXPECTATIONS and reason, rel
        assert set(misses) <= set(CHECKS), f"{rel}: unknown checks {set(misses) - set(CHECKS)}"
