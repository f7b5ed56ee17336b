"""Date patterns and the vectorised epoch conversion, checked against datetime arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
import re2

from logsleuth.errors import PatternError
from logsleuth.layouts import compile_date_pattern, compile_pattern, iso8601_lenient
from logsleuth.layouts.datefmt import LOG4J2_NAMED, resolve_named
from logsleuth.layouts.epoch import days_from_civil

DT = datetime(2024, 3, 11, 14, 7, 52, 117000)  # naive wall clock used in every rendering


def ms(dt: datetime) -> int:
    """Epoch ms by datetime arithmetic (independent of the code under test)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


# named format -> (rendered DT as log4j2 prints it, expected epoch ms)
NAMED = {
    "ABSOLUTE": ("14:07:52,117", ms(DT)),
    "ABSOLUTE_MICROS": ("14:07:52,117000", ms(DT)),
    "ABSOLUTE_NANOS": ("14:07:52,117000000", ms(DT)),
    "ABSOLUTE_PERIOD": ("14:07:52.117", ms(DT)),
    "COMPACT": ("20240311140752117", ms(DT)),
    "DATE": ("11 Mar 2024 14:07:52,117", ms(DT)),
    "DATE_PERIOD": ("11 Mar 2024 14:07:52.117", ms(DT)),
    "DEFAULT": ("2024-03-11 14:07:52,117", ms(DT)),
    "DEFAULT_MICROS": ("2024-03-11 14:07:52,117000", ms(DT)),
    "DEFAULT_NANOS": ("2024-03-11 14:07:52,117000000", ms(DT)),
    "DEFAULT_PERIOD": ("2024-03-11 14:07:52.117", ms(DT)),
    "ISO8601_BASIC": ("20240311T140752,117", ms(DT)),
    "ISO8601_BASIC_PERIOD": ("20240311T140752.117", ms(DT)),
    "ISO8601": ("2024-03-11T14:07:52,117", ms(DT)),
    "ISO8601_OFFSET_DATE_TIME_HH": ("2024-03-11T14:07:52,117+02", ms(DT) - 2 * 3_600_000),
    "ISO8601_OFFSET_DATE_TIME_HHMM": ("2024-03-11T14:07:52,117-0530",
                                      ms(DT) + (5 * 60 + 30) * 60_000),
    "ISO8601_OFFSET_DATE_TIME_HHCMM": ("2024-03-11T14:07:52,117+01:00", ms(DT) - 3_600_000),
    "ISO8601_PERIOD": ("2024-03-11T14:07:52.117", ms(DT)),
    "ISO8601_PERIOD_MICROS": ("2024-03-11T14:07:52.117000", ms(DT)),
    "US_MONTH_DAY_YEAR2_TIME": ("11/03/24 14:07:52.117", ms(DT)),
    "US_MONTH_DAY_YEAR4_TIME": ("11/03/2024 14:07:52.117", ms(DT)),
    "UNIX": ("1710166072", ms(DT.replace(microsecond=0))),
    "UNIX_MILLIS": ("1710166072117", ms(DT)),
}


def test_every_named_format_is_covered():
    assert set(NAMED) == set(LOG4J2_NAMED)


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_format_to_epoch(name, parse):
    text, expected = NAMED[name]
    layout = compile_pattern(f"%d{{{name}}} %-5p %m%n")
    got = parse(layout, f"{text} INFO  hello")
    assert got is not None and got["ts"] == text
    fmt = layout.timestamp
    assert fmt is not None
    base = date(2024, 3, 11) if fmt.needs_base_date else None
    assert fmt.to_epoch_ms(pa.array([text]), base_date=base).ms.to_pylist() == [expected]


def test_logback_iso8601_uses_a_space(parse):
    layout = compile_pattern("%d{ISO8601} %m%n", flavor="logback")
    assert layout.timestamp is not None
    assert layout.timestamp.pattern == "yyyy-MM-dd HH:mm:ss,SSS"
    assert parse(layout, "2024-03-11 14:07:52,117 x")["ts"] == "2024-03-11 14:07:52,117"


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2024-03-11T14:07:52.117Z", ms(DT)),
    ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2024-03-11T14:07:52.117+0100", ms(DT) - 3_600_000),
    ("yyyy-MM-dd HH:mm:ss.SSS z", "2024-03-11 14:07:52.117 UTC", ms(DT)),
    ("yyyy-MM-dd HH:mm:ss.SSS z", "2024-03-11 14:07:52.117 PDT", ms(DT) + 7 * 3_600_000),
    ("yyyy-MM-dd HH:mm:ss.SSS VV", "2024-03-11 14:07:52.117 Europe/Paris",
     ms(DT.replace(tzinfo=ZoneInfo("Europe/Paris")))),
    ("dd/MMM/yyyy:HH:mm:ss Z", "11/Mar/2024:14:07:52 -0700",
     ms(DT.replace(microsecond=0)) + 7 * 3_600_000),
    ("EEE MMM dd HH:mm:ss yyyy", "Mon Mar 11 14:07:52 2024", ms(DT.replace(microsecond=0))),
    ("MMMM d, yyyy h:mm:ss a", "March 11, 2024 2:07:52 PM", ms(DT.replace(microsecond=0))),
    ("MMMM d, yyyy h:mm:ss a", "March 11, 2024 12:07:52 AM",
     ms(DT.replace(hour=0, microsecond=0))),
    ("MMMM d, yyyy h:mm:ss a", "March 11, 2024 12:07:52 PM",
     ms(DT.replace(hour=12, microsecond=0))),
    ("yyyy-MM-dd HH:mm:ss.S", "2024-03-11 14:07:52.1", ms(DT.replace(microsecond=100000))),
    ("yyyy-MM-dd HH:mm:ss.SSSSSS", "2024-03-11 14:07:52.117999", ms(DT)),
    ("yyyy-MM-dd HH:mm:ss", "1969-12-31 23:59:59", -1000),
    ("yyyy-MM-dd HH:mm:ss", "2000-02-29 00:00:00", ms(datetime(2000, 2, 29))),
])
def test_java_patterns_to_epoch(pattern, text, expected):
    fmt = compile_date_pattern(pattern)
    assert re2.fullmatch(fmt.regex, text) is not None
    assert fmt.to_epoch_ms(pa.array([text])).ms.to_pylist() == [expected]


def test_unparsable_values_are_null():
    fmt = compile_date_pattern("yyyy-MM-dd HH:mm:ss")
    values = pa.array(["2024-02-30 10:00:00", "2023-02-29 10:00:00", "2024-13-01 10:00:00",
                       "2024-01-01 24:00:00", "garbage", None, "2024-01-01 10:00:00"])
    got = fmt.to_epoch_ms(values).ms.to_pylist()
    assert got == [None] * 6 + [ms(datetime(2024, 1, 1, 10))]


def test_default_tz_is_dst_correct():
    paris = ZoneInfo("Europe/Paris")
    fmt = compile_date_pattern("yyyy-MM-dd HH:mm:ss")
    texts = ["2024-03-31 01:30:00", "2024-03-31 03:30:00",  # spring forward at 02:00
             "2024-10-27 01:30:00", "2024-10-27 03:30:00", "2024-07-01 12:00:00"]
    got = fmt.to_epoch_ms(pa.array(texts), paris)
    expected = [ms(datetime.strptime(t, "%Y-%m-%d %H:%M:%S").replace(tzinfo=paris))
                for t in texts]
    assert got.ms.to_pylist() == expected
    assert got.offset_ms.to_pylist() == [3_600_000, 7_200_000, 7_200_000, 3_600_000,
                                         7_200_000]


def test_text_offset_beats_default_tz():
    fmt = compile_date_pattern("yyyy-MM-dd HH:mm:ss[XXX]")
    got = fmt.to_epoch_ms(pa.array(["2024-07-01 12:00:00+00:00", "2024-07-01 12:00:00"]),
                          ZoneInfo("America/New_York")).ms.to_pylist()
    assert got == [ms(datetime(2024, 7, 1, 12)), ms(datetime(2024, 7, 1, 16))]


def test_layout_zone_argument_is_used():
    layout = compile_pattern("%d{yyyy-MM-dd HH:mm:ss}{Asia/Tokyo} %m%n")
    assert layout.timestamp is not None
    got = layout.timestamp.to_epoch_ms(pa.array(["2024-03-11 09:00:00"]), ZoneInfo("UTC"))
    assert got.ms.to_pylist() == [ms(datetime(2024, 3, 11, 0))]


def test_time_only_needs_base_date_and_rolls_over_midnight():
    fmt = compile_date_pattern("HH:mm:ss.SSS")
    assert fmt.needs_base_date
    with pytest.raises(ValueError, match="base_date"):
        fmt.to_epoch_ms(pa.array(["23:59:59.000"]))
    got = fmt.to_epoch_ms(pa.array(["23:59:59.900", None, "00:00:00.100", "00:00:01.000"]),
                          base_date=date(2024, 12, 31)).ms.to_pylist()
    assert got == [ms(datetime(2024, 12, 31, 23, 59, 59, 900000)), None,
                   ms(datetime(2025, 1, 1, 0, 0, 0, 100000)), ms(datetime(2025, 1, 1, 0, 0, 1))]


def test_month_day_without_year_takes_base_year():
    fmt = compile_date_pattern("MMM dd HH:mm:ss")
    got = fmt.to_epoch_ms(pa.array(["Mar 11 14:07:52"]), base_date=date(2023, 1, 1))
    assert got.ms.to_pylist() == [ms(datetime(2023, 3, 11, 14, 7, 52))]


def test_iso_lenient_fraction_widths_and_offsets():
    fmt = iso8601_lenient()
    texts = ["2024-03-11T14:07:52Z", "2024-03-11T14:07:52.1+01:00",
             "2024-03-11T14:07:52.123456789-0200", "2024-03-11 14:07:52.117"]
    assert fmt.to_epoch_ms(pa.array(texts)).ms.to_pylist() == [
        ms(DT.replace(microsecond=0)), ms(DT.replace(microsecond=100000)) - 3_600_000,
        ms(DT.replace(microsecond=123000)) + 7_200_000, ms(DT)]


def test_days_from_civil_matches_date_ordinal():
    import numpy as np

    days = [date(1600, 3, 1), date(1969, 12, 31), date(1970, 1, 1), date(2000, 2, 29),
            date(2100, 3, 1), date(2400, 12, 31)]
    got = days_from_civil(np.array([d.year for d in days]), np.array([d.month for d in days]),
                          np.array([d.day for d in days]))
    assert got.tolist() == [(d - date(1970, 1, 1)).days for d in days]


def test_named_resolution_by_flavor():
    assert resolve_named("ISO8601", "log4j2") == "yyyy-MM-dd'T'HH:mm:ss,SSS"
    assert resolve_named("ISO8601", "logback") == "yyyy-MM-dd HH:mm:ss,SSS"
    assert resolve_named("dd.MM.yyyy", "logback") == "dd.MM.yyyy"


def test_fixed_offset_zone_from_pattern():
    fmt = compile_pattern("%d{HH:mm:ss}{GMT+02:00} %m").timestamp
    assert fmt is not None and fmt.zone == "GMT+02:00"
    got = fmt.to_epoch_ms(pa.array(["12:00:00"]), base_date=date(2024, 1, 1))
    assert got.ms.to_pylist() == [ms(datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))))]


@pytest.mark.parametrize("pattern", ["yyyy-MM-dd QQ", "yyyy-MM-dd 'open", "yyyy zzzz", "[yyyy"])
def test_bad_date_patterns(pattern):
    with pytest.raises(PatternError):
        compile_date_pattern(pattern)


def test_time_only_fixed_width_fast_path_takes_the_base_date() -> None:
    """``HH:mm:ss.SSS`` of one width reads without a regex pass when the caller
    carries the day (rollover=False); with rollover the regex path rolls midnight."""
    from logsleuth.layouts import epoch

    fmt = compile_date_pattern("HH:mm:ss.SSS")
    values = pa.array(["23:59:59.999", "00:00:00.001", "24:00:00.000"])
    fast = epoch._convert_fixed(fmt, values, None, date(2026, 11, 26))
    assert fast is not None  # the fast path took it
    day = int(datetime(2026, 11, 26, tzinfo=UTC).timestamp() * 1000)
    expected = [day + 86_399_999, day + 1, None]  # hour 24 is invalid
    assert fmt.to_epoch_ms(values, base_date=date(2026, 11, 26),
                           rollover=False).ms.to_pylist() == expected
    rolled = fmt.to_epoch_ms(values, base_date=date(2026, 11, 26)).ms.to_pylist()
    assert rolled == [day + 86_399_999, day + 86_400_001, None]
