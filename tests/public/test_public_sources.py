"""Every public evidence file says where it comes from, and every source row has its file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public"
SOURCES = PUBLIC / "SOURCES.md"
COMMIT = re.compile(r"[0-9a-f]{40}")
COLUMNS = ["local path", "repo", "path in repo", "commit", "license", "what it is"]


def _cells(line: str) -> list[str]:
    """Split one markdown table row; `\\|` inside a cell is not a separator."""
    inner = line.strip()[1:-1]
    return [c.replace("\\|", "|").strip() for c in re.split(r"(?<!\\)\|", inner)]


def source_rows() -> list[list[str]]:
    """The rows of the SOURCES.md table, header and separator dropped."""
    rows, seen_header = [], False
    for line in SOURCES.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = _cells(line)
        if not seen_header:
            assert [c.lower() for c in cells] == COLUMNS, f"unexpected table header: {cells}"
            seen_header = True
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        rows.append(cells)
    return rows


def evidence_files() -> list[str]:
    """Files inside category folders; the top level holds only metadata."""
    return sorted(p.relative_to(PUBLIC).as_posix() for p in PUBLIC.glob("*/**/*") if p.is_file())


def test_every_row_is_complete_and_names_an_existing_file() -> None:
    rows = source_rows()
    assert len(rows) >= 20
    for cells in rows:
        assert len(cells) == len(COLUMNS), f"row has {len(cells)} cells: {cells}"
        local, repo, path_in_repo, commit, license_, what = cells
        local = local.strip("`")
        assert (PUBLIC / local).is_file(), f"SOURCES.md names a missing file: {local}"
        assert "/" in local, f"{local}: evidence belongs in a category folder"
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", repo), f"{local}: repo {repo!r} is not owner/name"
        assert path_in_repo.strip("`"), f"{local}: no path in the repository"
        assert COMMIT.fullmatch(commit), f"{local}: commit {commit!r} is not 40 hex digits"
        assert license_ and what, f"{local}: license and description are required"


def test_every_evidence_file_has_exactly_one_row() -> None:
    named = [cells[0].strip("`") for cells in source_rows()]
    duplicates = sorted({n for n in named if named.count(n) > 1})
    assert not duplicates, f"files with more than one SOURCES row: {duplicates}"
    missing = [f for f in evidence_files() if f not in named]
    assert not missing, f"files without a SOURCES row: {missing}"


@pytest.mark.parametrize("local", evidence_files())
def test_evidence_is_small(local: str) -> None:
    size = (PUBLIC / local).stat().st_size
    assert 0 < size < 200 * 1024, f"{local}: {size} bytes, keep public files small and non-empty"
