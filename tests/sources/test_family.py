"""Rolled-file families and their writing order."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsleuth.sources import Source, discover, family_of, order_family


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("push-server.log", "push-server"),
        ("push-server-2026-11-26-7.log.gz", "push-server"),
        ("push-server.log.1", "push-server"),
        ("push-server.2026-11-25.log", "push-server"),
        ("app-2026-11-25.1.log.zst", "app"),
        ("app.log.2026-11-25", "app"),
        ("app.1.log", "app"),
        ("gc.log.0.current", "gc"),
        ("gc-2026-11-26_10-00-00.log", "gc"),
        ("access.log.2.gz", "access"),
        ("catalina.out", "catalina"),
        ("ticket.zip!logs/push-server.log.3.bz2", "push-server"),
    ],
)
def test_family_of(name: str, family: str) -> None:
    assert family_of(name) == family


def _sources(*names: str) -> list[Source]:
    return [Source(path=n, fs_path=Path(n), family=family_of(n)) for n in names]


def test_name_order_is_numeric_aware_and_active_last() -> None:
    shuffled = _sources("app.log", "app.log.10", "app.log.2", "app.log.9", "app.log.1")
    ordered = order_family(shuffled, lambda s: None)
    assert [s.path for s in ordered] == [
        "app.log.1", "app.log.2", "app.log.9", "app.log.10", "app.log"
    ]


def test_dated_names_order_by_date_then_index() -> None:
    srcs = _sources("push-server.log", "push-server-2026-11-26-10.log.gz",
                    "push-server-2026-11-26-9.log.gz", "push-server-2026-11-25-1.log.gz")
    assert [s.path for s in order_family(srcs, lambda s: None)] == [
        "push-server-2026-11-25-1.log.gz", "push-server-2026-11-26-9.log.gz",
        "push-server-2026-11-26-10.log.gz", "push-server.log",
    ]


def test_content_time_wins_over_names() -> None:
    # logrotate numbering: .log.1 is the newest rolled file, .log.3 the oldest.
    srcs = _sources("app.log", "app.log.1", "app.log.2", "app.log.3")
    first_ms = {"app.log": 4_000, "app.log.1": 3_000, "app.log.2": 2_000, "app.log.3": 1_000}
    ordered = order_family(srcs, lambda s: first_ms[s.path])
    assert [s.path for s in ordered] == ["app.log.3", "app.log.2", "app.log.1", "app.log"]


def test_files_without_time_keep_their_name_slot() -> None:
    srcs = _sources("app.log", "app.log.1", "app.log.2", "app.log.3")
    first_ms = {"app.log.1": 9_000, "app.log.3": 1_000}  # .log.2 and .log are empty
    ordered = order_family(srcs, lambda s: first_ms.get(s.path))
    assert [s.path for s in ordered] == ["app.log.3", "app.log.2", "app.log.1", "app.log"]


def test_families_are_grouped_by_directory_and_name() -> None:
    srcs = _sources("a/app.log", "b/app.log.1", "a/gc.log", "a/app.log.1", "b/app.log")
    ordered = order_family(srcs, lambda s: None)
    assert [s.path for s in ordered] == [
        "a/app.log.1", "a/app.log", "b/app.log.1", "b/app.log", "a/gc.log"
    ]


def test_discovered_rolled_files_share_a_family(tmp_path: Path) -> None:
    for name in ("push-server.log", "push-server.log.1", "push-server.2026-11-25.log"):
        (tmp_path / name).write_bytes(b"2026-11-26 10:00:00.000 INFO x\n")
    assert {s.family for s in discover([tmp_path]).sources} == {"push-server"}
