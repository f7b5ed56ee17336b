"""The zone of a zone-less app log, from a GC log that writes instants but no host offset."""

from __future__ import annotations

from datetime import UTC, datetime

from logsleuth.engine.zone import infer_zone
from logsleuth.model import Kind

# -Xlog decorations utctime,uptimemillis: instants and the JVM's uptime, no host offset
UTC_GC = (b"[2026-12-06T13:27:12.972+0000][4ms][info][gc] Using Serial\n"
          b"[2026-12-06T13:27:13.327+0000][360ms][info][gc] GC(0) Pause Young "
          b"(Allocation Failure) 8M->1M(30M) 3.670ms\n")
# timemillis,uptimemillis: epoch ms, no offset at all
EPOCH_GC = (b"[1796563737371ms][839ms][info][gc,start] GC(0) Pause Young (Allocation Failure)\n"
            b"[1796563737435ms][903ms][info][gc] GC(0) Pause Young (Allocation Failure) "
            b"8M->1M(31M) 64.233ms\n")


def _local_ms(text: str) -> int:
    """A zone-less stamp read as UTC, as the planner reads it before a zone is known."""
    return round(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_app_log_begins_just_after_the_jvm_start_in_one_offset() -> None:
    got = infer_zone(_local_ms("2026-12-06T14:27:13.665"), [("gc.log", Kind.GC_LOG, UTC_GC)])
    assert got is not None and got.label == "+01:00", got
    assert "JVM start in gc.log" in got.why and "0.7 s after" in got.why, got.why
    epoch = infer_zone(_local_ms("2026-12-06T08:28:58.900"),  # UTC-05:00, 2.4 s after start
                       [("gc.log", Kind.GC_LOG, EPOCH_GC)])
    assert epoch is not None and epoch.label == "-05:00", epoch


def test_no_offset_is_guessed_when_the_app_log_begins_long_after_the_start() -> None:
    """A rolled app log (first record minutes into the JVM's life) lines up with no
    quarter-hour offset: read as UTC, as before, rather than a coincidence."""
    assert infer_zone(_local_ms("2026-12-06T14:34:13.665"),
                      [("gc.log", Kind.GC_LOG, UTC_GC)]) is None
    # a GC log without uptimes gives no start to line up with
    no_uptime = b"".join(line.replace(b"[4ms]", b"").replace(b"[360ms]", b"")
                         for line in UTC_GC.splitlines(keepends=True))
    assert infer_zone(_local_ms("2026-12-06T14:27:13.665"),
                      [("gc.log", Kind.GC_LOG, no_uptime)]) is None


def test_the_offset_the_sibling_writes_still_wins_when_it_lines_up() -> None:
    """A GC log that writes +0100 lines up in its own offset: the JVM start is not needed."""
    gc = UTC_GC.replace(b"13:27:12.972+0000", b"14:27:12.972+0100").replace(
        b"13:27:13.327+0000", b"14:27:13.327+0100")
    got = infer_zone(_local_ms("2026-12-06T14:27:13.665"), [("gc.log", Kind.GC_LOG, gc)])
    assert got is not None and got.label == "+01:00" and "which writes +01:00" in got.why
