"""The investigation notebook runs top to bottom on the bundled incident evidence.

It is executed once per module; each test checks one step of the investigation
against ``sample_logs/incident.truth.json`` (written by the generator of the
evidence, not by logsleuth).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "incident-walkthrough.ipynb"
EVIDENCE = ROOT / "sample_logs" / "incident"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((ROOT / "sample_logs" / "incident.truth.json").read_text())


@pytest.fixture(scope="module", params=["notebooks", "."])
def executed(request: pytest.FixtureRequest) -> nbformat.NotebookNode:
    """Run where Jupyter runs it (the notebook's own folder) and from the repository root."""
    assert EVIDENCE.is_dir()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / request.param)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure
    return nb


@pytest.fixture(scope="module")
def printed(executed: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream" and o.name == "stdout")


def grab(pattern: str, text: str) -> re.Match[str]:
    m = re.search(pattern, text, re.MULTILINE)
    assert m, f"the notebook did not print /{pattern}/:\n{text}"
    return m


def test_notebook_is_committed_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "no code cells"
    assert all(not c.outputs and c.execution_count is None for c in code), \
        "strip outputs before committing (jupyter nbconvert --clear-output --inplace)"


def test_onset_is_the_first_out_of_direct_memory_error(printed: str, truth: dict) -> None:
    first = truth["app"]["first_out_of_direct_memory_error"]
    m = grab(r"^onset: (.+) at (\S+):(\d+)$", printed)
    # the app log has no zone; the generator's nginx log says which offset it used
    offset = truth["nginx"]["first_5xx_time_local"].rsplit(" ", 1)[1]
    expected = datetime.strptime(f"{first['timestamp']} {offset}", "%Y-%m-%d %H:%M:%S.%f %z")
    assert datetime.fromisoformat(m[1]) == expected
    assert m[1].startswith(first["timestamp"])  # shown on the app log's own clock
    assert (m[2], int(m[3])) == (first["record_file"], first["record_line"])


def test_time_zone_is_inferred_from_sibling_logs(printed: str) -> None:
    assert grab(r"^time zone: (.+)$", printed)[1] == "+01:00"
    assert "nginx" in grab(r"^why: (.+)$", printed)[1]


def test_leak_is_attributed_to_client_disconnects(printed: str, truth: dict) -> None:
    m = grab(r"^attributed: ([\d.]+) B per event of '([^']+)'", printed)
    assert abs(float(m[1]) - 256) <= 0.01 * 256
    assert m[2].startswith("Client disconnected:")
    independent = float(grab(r"^independent fit: ([\d.]+) B per disconnect", printed)[1])
    assert abs(independent - 256) <= 0.01 * 256
    n = int(grab(r"^(\d+) disconnects logged$", printed)[1])
    assert n == truth["app"]["client_disconnects_logged"]


def test_root_cause_is_the_encoder_npe(printed: str) -> None:
    assert grab(r"^root cause: (\S+)", printed)[1] == "java.lang.NullPointerException"
    grab(r"^example: push-server[^:]*\.log(\.gz)?:\d+$", printed)
    frame = grab(r"^root_frame\s+(\S+)$", printed)[1]
    assert frame == "com.example.push.PacketEncoder.encodePacket"


def test_html_report_is_written(printed: str) -> None:
    size = int(grab(r"^HTML report: incident\.html, (\d+) bytes$", printed)[1])
    assert size > 1_000_000  # self-contained: plotly.js is inline


def test_parquet_store_answers_sql(printed: str, truth: dict) -> None:
    reopened = float(grab(r"^reopened leak: ([\d.]+) B per event$", printed)[1])
    assert abs(reopened - 256) <= 0.01 * 256
    ooms = int(grab(r"^OOM errors in the store: (\d+)$", printed)[1])
    assert ooms == sum(truth["app"]["out_of_direct_memory_errors_by_size"].values())


def test_figures_are_drawn(executed: nbformat.NotebookNode) -> None:
    figures = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
               if PLOTLY in o.get("data", {})]
    assert len(figures) >= 4
    titles = " | ".join(f.data[PLOTLY]["layout"]["title"]["text"] for f in figures)
    assert "netty direct memory" in titles
