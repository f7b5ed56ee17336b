"""An app log logsleuth could not read is said first in the summary, not only in a table."""

from __future__ import annotations

from pathlib import Path

from logsleuth import api
from logsleuth.reports.console import summary
from logsleuth.reports.narrative import incident_paragraph

READABLE = "".join(f"2024-03-11 14:07:5{i}.117 INFO  [main] c.e.c.ChatServer - tick {i}\n"
                   for i in range(5))
# an app log (level words) in no layout logsleuth knows or can infer
UNREADABLE = "<11/26 10:15> INFO something happened\n<11/26 10:16> ERROR boom\n"


def test_the_summary_opens_with_a_warning_naming_the_unread_log(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text(READABLE, encoding="utf-8")
    (tmp_path / "odd.log").write_text(UNREADABLE, encoding="utf-8")
    result = api.scan(tmp_path, workers=1, tz="UTC")
    assert [s.path for s in result.unread_app_logs()] == ["odd.log"]
    text = incident_paragraph(result)
    assert text.startswith("WARNING: 1 app log(s) could not be read")
    assert "odd.log (2 lines)" in text and "--pattern" in text
    assert summary(result).startswith("WARNING: 1 app log(s)")


def test_no_warning_when_every_app_log_is_read(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text(READABLE, encoding="utf-8")
    result = api.scan(tmp_path, workers=1, tz="UTC")
    assert result.unread_app_logs() == []
    assert not incident_paragraph(result).startswith("WARNING")
