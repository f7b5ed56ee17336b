"""nginx parsers on logs from a real nginx 1.22 run (tests/data/nginx/README.md).

Expected counts follow from the request loop in the README: 6 rounds of
/api (200), /down (502), /close (502), /reset (502), /ws (502), /mixed (200),
/err (500), /index.html (200), /missing (404); then 3x /slow (504), one client
giving up (499), one garbage request line (400) and one HTTP/1.0 request (200).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest

from logsleuth.model import Kind
from logsleuth.parsers.nginx import (
    error_records,
    parse_nginx_access,
    parse_nginx_error,
    request_records,
    split_lines,
    status_class_series,
    upstream_error_series,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "nginx"
ACCESS = ("access_combined.log", "access_common.log", "access_upstream.log",
          "access_upstream_quoted.log")
EXPECTED_STATUS = {200: 19, 502: 24, 500: 6, 404: 6, 504: 3, 499: 1, 400: 1}


def _access(name: str):
    return parse_nginx_access((DATA / name).read_bytes(), name)


def _errors(**kw: object):
    return parse_nginx_error((DATA / "error.log").read_bytes(), "error.log", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ACCESS)
def test_every_access_format_parses_every_line(name: str) -> None:
    res = _access(name)
    t = res.tables["http_requests"]
    assert res.kind is Kind.NGINX_ACCESS
    assert (res.lines, res.parsed_lines, res.unparsed_lines, t.num_rows) == (60, 60, 0, 60)
    counts = {d["values"]: d["counts"] for d in pc.value_counts(t["status"]).to_pylist()}
    assert counts == EXPECTED_STATUS
    assert t["ts"][0].as_py() == datetime(2026, 11, 26, 10, 0, 11, tzinfo=UTC)  # 11:00:11 +0100
    assert res.timezone == "+0100"
    assert t["line"].to_pylist() == list(range(1, 61))


def test_common_has_no_referer_or_timing() -> None:
    t = _access("access_common.log").tables["http_requests"]
    assert t["user_agent"].null_count == 60 and t["request_time_s"].null_count == 60


def test_combined_fields() -> None:
    rows = _access("access_combined.log").tables["http_requests"].to_pylist()
    first = rows[0]
    assert (first["method"], first["path"], first["protocol"]) == ("GET", "/api/messages?page=1",
                                                                   "HTTP/1.1")
    assert first["referer"] == "https://app.example.com/chat?room=1"
    assert first["user_agent"].endswith("ws-client/1") and first["bytes"] == 11
    post = rows[2]
    assert post["method"] == "POST" and post["user_agent"] == "okhttp/4.9.3"
    garbage = next(r for r in rows if r["status"] == 400)
    assert garbage["request"] == "GARBAGE" and garbage["method"] is None
    assert rows[-1]["protocol"] == "HTTP/1.0"


def test_upstream_extras_quoted_and_unquoted_agree() -> None:
    plain = _access("access_upstream.log").tables["http_requests"].drop(["source"])
    quoted = _access("access_upstream_quoted.log").tables["http_requests"].drop(["source"])
    assert plain.equals(quoted)
    rows = plain.to_pylist()
    api = rows[0]
    assert api["upstream_addr"] == "127.0.0.1:18095" and api["upstream_status"] == 200
    assert api["upstream_tries"] == 1
    ws = rows[4]  # /ws/connect in round 1: both dead servers tried
    assert ws["upstream_addr"] == "127.0.0.1:18091, 127.0.0.1:18097"
    assert ws["upstream_tries"] == 2 and ws["upstream_status"] == 502
    static = rows[7]  # /index.html: no upstream at all
    assert static["upstream_addr"] is None and static["upstream_tries"] is None
    assert static["upstream_time_s"] is None and static["request_time_s"] == 0.0
    slow = [r for r in rows if r["status"] == 504]
    assert all(1.0 <= r["request_time_s"] < 1.5 for r in slow)  # proxy_read_timeout 1s
    gave_up = next(r for r in rows if r["status"] == 499)
    assert gave_up["upstream_status"] is None and 0.29 <= gave_up["request_time_s"] < 1.0


def test_key_value_extras_and_unparsed_lines() -> None:
    line = (DATA / "access_combined.log").read_bytes().splitlines()[0]
    data = (line + b' rt=0.250 urt="0.001, 0.240" uaddr=10.0.0.1:8080, 10.0.0.2:8080 us=502, 200\n'
            + b"this is not an access log line\n\n" + line)  # no trailing newline
    res = parse_nginx_access(data, "kv.log")
    assert (res.lines, res.unparsed_lines) == (4, 1)
    assert res.unparsed_samples == [(2, "this is not an access log line")]
    rows = res.tables["http_requests"].to_pylist()
    assert [r["line"] for r in rows] == [1, 4]
    assert rows[0]["request_time_s"] == 0.25 and rows[0]["upstream_time_s"] == pytest.approx(0.241)
    assert rows[0]["upstream_status"] == 200 and rows[0]["upstream_tries"] == 2


def test_split_lines_edges() -> None:
    assert split_lines(b"").to_pylist() == []
    assert split_lines(b"a\r\nb").to_pylist() == ["a\r\n", "b"]
    bad = split_lines(b"ok\n\xff\xfe broken\n")
    assert len(bad) == 2 and bad[1].as_py().endswith(" broken\n")


def test_error_log_categories() -> None:
    res = _errors(default_tz="Europe/Berlin")
    t = res.tables["nginx_errors"]
    assert (res.lines, res.unparsed_lines, t.num_rows) == (111, 0, 111)
    counts = {d["values"]: d["counts"] for d in pc.value_counts(t["category"]).to_pylist()}
    assert counts["upstream-prematurely-closed"] == 6  # one per /close request
    assert counts["upstream-reset"] == 6  # one per /reset request
    assert counts["upstream-timeout"] == 3  # one per /slow request
    assert counts["no-live-upstreams"] == 5  # /ws rounds 2..6 (both servers disabled)
    # 6x /down, round-1 /ws tried both dead servers, /mixed hit the dead one once
    assert counts["upstream-refused"] == 9
    row = t.to_pylist()[7]
    assert row["level"] == "error" and row["connection"] == 3 and row["client"] == "127.0.0.1"
    assert row["request"] == "GET /down/health HTTP/1.1"
    assert row["upstream"] == "http://127.0.0.1:18091/down/health"
    assert row["message"].startswith("connect() failed (111: Connection refused)")


def test_error_log_timezone() -> None:
    berlin = _errors(default_tz="Europe/Berlin")
    assert berlin.timezone == "Europe/Berlin"
    assert berlin.tables["nginx_errors"]["ts"][0].as_py() == datetime(2026, 11, 26, 10, 0, 10,
                                                                      tzinfo=UTC)
    unknown = _errors()
    assert unknown.timezone is None and unknown.notes
    assert unknown.tables["nginx_errors"]["ts"][0].as_py().hour == 11
    fixed = _errors(default_tz="+01:00")
    assert fixed.tables["nginx_errors"]["ts"].equals(berlin.tables["nginx_errors"]["ts"])


def test_series() -> None:
    s = status_class_series(_access("access_upstream.log").tables["http_requests"])
    totals = s.sum().to_dict()
    assert totals == {"2xx": 19, "3xx": 0, "4xx": 8, "5xx": 33}
    assert s.index.min() == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    e = upstream_error_series(_errors(default_tz="Europe/Berlin").tables["nginx_errors"])
    assert int(e["upstream-timeout"].sum()) == 3 and "other" not in e.columns


def test_records_for_rules() -> None:
    errs = [r for r in error_records(_errors(default_tz="UTC").tables["nginx_errors"])
            if r.fields.get("category") == "upstream-timeout"]
    assert len(errs) == 3 and all(r.kind is Kind.NGINX_ERROR and r.level == "error" for r in errs)
    assert errs[0].fields["upstream"].startswith("http://127.0.0.1:18092/")
    reqs = list(request_records(_access("access_upstream.log").tables["http_requests"]))
    assert reqs[1].fields["status"] == "502" and reqs[1].fields["upstream_status"] == "502"
    assert reqs[1].message == '"GET /down/health HTTP/1.1" 502' and reqs[1].line == 2


def test_error_log_line_types_of_a_reload_and_a_config_test() -> None:
    """A real reload/shutdown error log and `nginx -s`/`-t` stderr (README, 2026-12-06)."""
    res = parse_nginx_error((DATA / "error_reload.log").read_bytes(), "error_reload.log")
    assert (res.lines, res.unparsed_lines) == (26, 0)
    rows = res.tables["nginx_errors"].to_pylist()
    assert Counter(r["level"] for r in rows) == {"notice": 24, "error": 1, "info": 1}
    assert sum("signal" in r["message"] for r in rows) == 5
    assert {r["pid"] for r in rows} == {4338, 4339, 4442}
    (err,) = [r for r in rows if r["level"] == "error"]
    assert (err["client"], err["request"], err["connection"]) == (
        "127.0.0.1", "GET /missing HTTP/1.1", 1)

    res = parse_nginx_error((DATA / "nginx_stderr.log").read_bytes(), "nginx_stderr.log")
    assert (res.lines, res.unparsed_lines) == (4, 0)
    rows = res.tables["nginx_errors"].to_pylist()
    assert [r["level"] for r in rows] == ["notice", "emerg", None, "notice"]
    assert rows[1]["message"] == 'unknown directive "foo" in /tmp/h5ngx/bad.conf:2'
    assert (rows[2]["ts"], rows[2]["pid"]) == (None, None)
    assert rows[2]["message"] == "configuration file /tmp/h5ngx/bad.conf test failed"
    assert rows[0]["message"] == "signal process started"


def test_an_access_log_only_its_nginx_conf_explains(tmp_path: Path) -> None:
    """$time_iso8601 and key=value fields (README, 2026-12-06): no built-in shape fits;
    with the nginx.conf kept beside it the scan reads it as the access log it is."""
    from logsleuth import api

    log = tmp_path / "logs" / "access.log"
    log.parent.mkdir()
    log.write_bytes((DATA / "access_iso_kv.log").read_bytes())
    alone = api.scan(log.parent, tz="UTC", workers=1)
    assert [s.kind for s in alone.inputs] != ["nginx-access"]

    (tmp_path / "nginx.conf").write_bytes((DATA / "iso_kv.conf.txt").read_bytes())
    res = api.scan(log.parent, tz="UTC", workers=1)
    (st,) = res.inputs
    assert (st.kind, st.lines, st.unparsed_lines) == ("nginx-access", 4, 0)
    assert any("'iso_kv'" in n for n in st.notes)
    rows = res.table("http_requests").to_pylist()
    assert [r["status"] for r in rows] == [200, 200, 404, 502]
    assert {r["ts"] for r in rows} == {datetime(2026, 12, 6, 5, 32, 46, tzinfo=UTC)}
    assert {(r["remote_addr"], r["method"], r["user_agent"]) for r in rows} == {
        ("127.0.0.1", "GET", "curl-h5")}
    assert (rows[3]["request_time_s"], rows[3]["upstream_time_s"]) == (0.0, 0.0)
    assert rows[0]["upstream_time_s"] is None
    assert st.timezone == "+0100"
