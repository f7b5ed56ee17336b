"""Vectorised conversion of rendered timestamps to UTC epoch milliseconds.

One ``extract_regex`` splits the strings into calendar components, Arrow casts
them to integers, and numpy does the civil-date arithmetic (Howard Hinnant's
days-from-civil). Time-zone rules are consulted in Python once per distinct
local hour (or distinct zone id), never per value.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from logsleuth.layouts.datefmt import EpochMs, TimestampFormat

_HOUR = 3_600_000
_DAY = 86_400_000
_MONTHS = pa.array(["jan", "feb", "mar", "apr", "may", "jun",
                    "jul", "aug", "sep", "oct", "nov", "dec"])
_DIM = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
# Common abbreviations that are not IANA keys (IST is ambiguous: India is assumed).
_ABBREV_MIN = {
    "PST": -480, "PDT": -420, "MST": -420, "MDT": -360, "CST": -360, "CDT": -300,
    "EST": -300, "EDT": -240, "AKST": -540, "AKDT": -480, "HST": -600,
    "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120, "EET": 120, "EEST": 180,
    "MSK": 180, "IST": 330, "SGT": 480, "HKT": 480, "JST": 540, "KST": 540,
    "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780, "UTC": 0, "GMT": 0, "UT": 0, "Z": 0,
}


def zone_from_name(name: str) -> tzinfo | None:
    """A tzinfo for a zone id, abbreviation or ``GMT+01:00`` form; None when unknown."""
    key = name.strip()
    if key in _ABBREV_MIN:
        return timezone(timedelta(minutes=_ABBREV_MIN[key]))
    up = key.upper()
    for prefix in ("GMT", "UTC", "UT"):
        if up.startswith(prefix) and key[len(prefix):len(prefix) + 1] in ("+", "-"):
            rest = key[len(prefix) + 1:].replace(":", "")
            if not rest.isdigit() or len(rest) > 4:
                return None
            hh, mm = (rest, "0") if len(rest) <= 2 else (rest[:-2], rest[-2:])
            sign = -1 if key[len(prefix)] == "-" else 1
            return timezone(sign * timedelta(hours=int(hh), minutes=int(mm)))
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _ints(col: pa.Array, default: int = 0) -> np.ndarray:
    """Digit strings to int64 (empty or null -> default)."""
    col = pc.if_else(pc.equal(col, ""), None, col)
    return pc.fill_null(pc.cast(col, pa.int64()), default).to_numpy(zero_copy_only=False)


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (vectorised)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = np.where(m > 2, m - 3, m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def local_offsets_ms(local_ms: np.ndarray, valid: np.ndarray, tz: tzinfo) -> np.ndarray:
    """UTC offset (ms) of each local wall-clock time in ``tz``, looked up per distinct hour.

    Ambiguous hours (clocks going back) resolve to the first occurrence (fold=0).
    """
    out = np.zeros(len(local_ms), dtype=np.int64)
    if not valid.any():
        return out
    buckets = np.floor_divide(local_ms, _HOUR)
    vb = buckets[valid]
    lo, hi = int(vb.min()), int(vb.max())
    epoch = datetime(1970, 1, 1)

    def off(h: int) -> int:
        dt = (epoch + timedelta(hours=h)).replace(tzinfo=tz)
        delta = dt.utcoffset()
        return 0 if delta is None else int(delta.total_seconds() * 1000)

    if hi - lo <= 20_000:
        table = np.array([off(h) for h in range(lo, hi + 1)], dtype=np.int64)
        out[valid] = table[vb - lo]
    else:
        uniq, inv = np.unique(vb, return_inverse=True)
        out[valid] = np.array([off(int(h)) for h in uniq], dtype=np.int64)[inv]
    return out


_FIXED_GROUP = re.compile(r"\(\?P<(Y|Mo|D|H|Mi|S|F)>\\d\{(\d)\}\)")
_FIXED_LIT = re.compile(r"\\?[^\\()\[\]{}*+?|^$]|\[[^\]]+\]")


@lru_cache(maxsize=64)
def _fixed_positions(parts_regex: str) -> tuple[tuple[tuple[str, int, int], ...], int] | None:
    """(group, offset, width) when every part is a fixed-width digit group or one char."""
    body = parts_regex
    if not (body.startswith("^") and body.endswith("$")):
        return None
    body = body[1:-1]
    pos = i = 0
    fields: list[tuple[str, int, int]] = []
    while i < len(body):
        m = _FIXED_GROUP.match(body, i)
        if m is not None:
            width = int(m.group(2))
            fields.append((m.group(1), pos, width))
            pos += width
            i = m.end()
            continue
        m = _FIXED_LIT.match(body, i)
        if m is None:
            return None
        pos += 1
        i = m.end()
    names = {f[0] for f in fields}
    time_only = "H" in names and not names & {"Y", "Mo", "D"}  # the day comes from base_date
    if not {"Y", "Mo", "D"} <= names and not time_only:
        return None
    return tuple(fields), pos


def _convert_fixed(fmt: TimestampFormat, values: pa.Array, default_tz: tzinfo | None,
                   base_date: date | None = None) -> EpochMs | None:
    """Fast path for fixed-width numeric timestamps (``yyyy-MM-dd HH:mm:ss.SSS`` ...).

    The strings are viewed as an n x width byte matrix and the digits summed with
    numpy: no regex pass. Returns None to fall back when any value differs.
    """
    from logsleuth.layouts.datefmt import EpochMs

    plan = _fixed_positions(fmt.parts_regex)
    n = len(values)
    if plan is None or n == 0 or values.null_count or fmt.zone:
        return None
    fields, width = plan
    lengths = pc.binary_length(values)
    lo, hi = pc.min_max(lengths).values()
    if lo.as_py() != width or hi.as_py() != width:
        return None
    off_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], dtype=off_type)[values.offset:]
    start = int(offsets[0])
    raw = np.frombuffer(values.buffers()[2], dtype=np.uint8)[start : start + n * width]
    mat = raw.reshape(n, width)
    cols = [at + k for _, at, w in fields for k in range(w)]
    digits = mat[:, cols] - np.uint8(48)  # wraps below '0', so one bound check suffices
    if (digits > 9).any():
        return None
    nums: dict[str, np.ndarray] = {}
    k = 0
    for name, _, w in fields:  # int32 is plenty for any field of up to 9 digits
        value = digits[:, k].astype(np.int32)
        for j in range(1, w):
            value *= 10
            value += digits[:, k + j]
        nums[name] = value
        k += w
    if "Y" not in nums:  # time of day only: every value on base_date (no rollover here)
        if base_date is None:
            return None
        for name, part in (("Y", base_date.year), ("Mo", base_date.month), ("D", base_date.day)):
            nums[name] = np.full(n, part, dtype=np.int32)
    zeros = np.zeros(n, dtype=np.int32)
    hour, minute, second = (nums.get(k, zeros) for k in ("H", "Mi", "S"))
    millis = zeros
    for name, _, w in fields:
        if name == "F":
            millis = nums["F"] * 10 ** (3 - w) if w <= 3 else nums["F"] // 10 ** (w - 3)
    # dates repeat for hours on end: the calendar arithmetic runs per distinct date
    dates, inverse = np.unique(nums["Y"] * 10000 + nums["Mo"] * 100 + nums["D"],
                               return_inverse=True)
    year, month, day = dates // 10000, dates // 100 % 100, dates % 100
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    mclip = np.clip(month, 1, 12)
    dim = _DIM[mclip - 1] + ((mclip == 2) & leap)
    date_ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= dim)
    days = days_from_civil(year.astype(np.int64), mclip.astype(np.int64),
                           np.clip(day, 1, 31).astype(np.int64))
    valid = date_ok[inverse] & (hour <= 23) & (minute <= 59) & (second <= 60)
    local = days[inverse] * _DAY + (((hour * 60 + minute) * 60 + second) * 1000 + millis)
    offset = np.zeros(n, dtype=np.int64)
    if default_tz is not None and default_tz is not UTC:
        offset = local_offsets_ms(local, valid, default_tz)
    mask = ~valid
    return EpochMs(pa.array(local - offset, type=pa.int64(), mask=mask),
                   pa.array(offset, type=pa.int64(), mask=mask))


def _unix(fmt: TimestampFormat, values: pa.Array) -> EpochMs:
    from logsleuth.layouts.datefmt import EpochMs

    parts = pc.extract_regex(values, fmt.parts_regex)
    num = pc.cast(parts.flatten()[0], pa.int64())
    ms = pc.multiply(num, 1000) if fmt.kind == "unix_s" else num
    return EpochMs(ms, pc.if_else(pc.is_null(ms), None, pa.scalar(0, pa.int64())))


def convert(
    fmt: TimestampFormat,
    values: pa.Array | pa.ChunkedArray,
    default_tz: tzinfo | None,
    *,
    base_date: date | None = None,
    rollover: bool = True,
) -> EpochMs:
    """Implementation of ``TimestampFormat.to_epoch_ms`` (see there)."""
    from logsleuth.layouts.datefmt import EpochMs

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    if fmt.kind != "civil":
        return _unix(fmt, values)
    if fmt.needs_base_date and base_date is None:
        raise ValueError(f"date pattern '{fmt.pattern}' has no year: pass base_date")
    # the fixed-width fast path knows no midnight rollover: time-only values take it
    # only when the caller carries the day itself (rollover=False)
    fast = None if (not fmt.has_date and rollover) else _convert_fixed(
        fmt, values, default_tz, base_date)
    if fast is not None:
        return fast
    parts = pc.extract_regex(values, fmt.parts_regex)
    valid = parts.is_valid().to_numpy(zero_copy_only=False).copy()
    cols = dict(zip([f.name for f in parts.type], parts.flatten(), strict=True))
    n = len(values)
    zeros = np.zeros(n, dtype=np.int64)

    if "Y" in cols:
        year = _ints(cols["Y"])
    elif "y2" in cols:
        year = _ints(cols["y2"]) + 2000
    else:
        year = zeros + (base_date.year if base_date else 1970)
    if "Mo" in cols:
        month = _ints(cols["Mo"])
    elif "Mon" in cols:
        low = pc.utf8_slice_codeunits(pc.utf8_lower(cols["Mon"]), 0, 3)
        month = pc.fill_null(pc.index_in(low, value_set=_MONTHS), -1).to_numpy(
            zero_copy_only=False).astype(np.int64) + 1
    else:
        month = zeros + (base_date.month if base_date and not fmt.has_date else 1)
    day = _ints(cols["D"]) if "D" in cols else zeros + (base_date.day if base_date else 1)

    if "H" in cols:
        hour = _ints(cols["H"])
    elif "k" in cols:
        hour = _ints(cols["k"]) % 24
    elif "h" in cols or "K" in cols:
        hour = _ints(cols["h"] if "h" in cols else cols["K"]) % 12
        if "AP" in cols:
            pm = pc.starts_with(pc.utf8_lower(cols["AP"]), "p")
            hour = hour + 12 * pc.fill_null(pm, False).to_numpy(zero_copy_only=False)
    else:
        hour = zeros
    minute = _ints(cols["Mi"]) if "Mi" in cols else zeros
    second = _ints(cols["S"]) if "S" in cols else zeros
    if "F" in cols:
        frac = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.fill_null(cols["F"], ""), 3, "0"), 0, 3)
        millis = _ints(frac)
    else:
        millis = zeros

    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    mclip = np.clip(month, 1, 12)
    dim = _DIM[mclip - 1] + ((mclip == 2) & leap)
    valid &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= dim)
    valid &= (hour <= 23) & (minute <= 59) & (second <= 60)
    local = (days_from_civil(year, mclip, np.clip(day, 1, 31)) * _DAY
             + hour * _HOUR + minute * 60_000 + second * 1000 + millis)

    if not fmt.has_date and rollover and valid.sum() > 1:
        idx = np.flatnonzero(valid)
        back = np.diff(local[idx]) < -12 * _HOUR
        local[idx[1:]] += np.cumsum(back) * _DAY

    offset = np.zeros(n, dtype=np.int64)
    known = np.zeros(n, dtype=bool)
    if "off" in cols or "oz" in cols:
        sign = pc.fill_null(pc.equal(cols["osg"], "-"), False).to_numpy(zero_copy_only=False)
        mins = _ints(cols["oh"]) * 60 + _ints(cols["om"])
        offset = np.where(sign, -mins, mins) * 60_000
        has = pc.or_(pc.not_equal(cols["oz"], ""), pc.not_equal(cols["osg"], ""))
        known = pc.fill_null(has, False).to_numpy(zero_copy_only=False).copy()
        valid &= (np.abs(mins) <= 18 * 60)
    if "zid" in cols:
        zid = cols["zid"]
        enc = pc.dictionary_encode(pc.fill_null(zid, "")).combine_chunks() if isinstance(
            zid, pa.ChunkedArray) else pc.dictionary_encode(pc.fill_null(zid, ""))
        codes = enc.indices.to_numpy(zero_copy_only=False)
        for k, name in enumerate(enc.dictionary.to_pylist()):
            rows = (codes == k) & valid & ~known
            if not name or not rows.any():
                continue
            tz = zone_from_name(name)
            if tz is None:
                valid &= ~(codes == k)
                continue
            offset[rows] = local_offsets_ms(local[rows], np.ones(rows.sum(), bool), tz)
            known |= rows
    rest = valid & ~known
    if rest.any():
        tz = zone_from_name(fmt.zone) if fmt.zone else default_tz
        if tz is not None and tz is not UTC:
            offset[rest] = local_offsets_ms(local[rest], np.ones(rest.sum(), bool), tz)
    mask = ~valid
    return EpochMs(pa.array(local - offset, type=pa.int64(), mask=mask),
                   pa.array(offset, type=pa.int64(), mask=mask))
