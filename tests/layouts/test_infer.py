"""Layout inference for text logs (issue 13 item 1).

The lines of each shape are copied from public logs of the projects named (loghub's
Hadoop/HDFS/Spark/ZooKeeper 2k samples, Kafka and Elasticsearch 6 first lines as in
issue 13); the expected PatternLayout is written from each project's documented
log4j/logback configuration, before running the inference.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from logsleuth import api
from logsleuth.layouts import compile_pattern
from logsleuth.layouts.infer import infer_layout
from logsleuth.layouts.tstamp import find_stamp

HADOOP = """\
2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001
2015-10-18 18:01:48,963 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Executing with tokens:
2015-10-18 18:01:51,775 INFO [Socket Reader #1 for port 62260] org.apache.hadoop.ipc.Server: Starting Socket Reader #1 for port 62260
2015-10-18 18:01:51,885 INFO [main] org.mortbay.log: Logging to org.slf4j.impl.Log4jLoggerAdapter(org.mortbay.log) via org.mortbay.log.Slf4jLog
2015-10-18 18:01:53,447 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.speculate.DefaultSpeculator: JOB_CREATE job_1445144423722_0020
"""
HDFS = """\
081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating
081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-6952295868487656571 terminating
081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864
081109 214043 2561 WARN dfs.DataNode$DataXceiver: 10.251.30.85:50010:Got exception while serving blk_-2918118818249673980 to /10.251.90.64:
081109 205931 13 INFO dfs.DataBlockScanner: Verification succeeded for blk_-4980916519894289629
"""
SPARK = """\
17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers for [TERM, HUP, INT]
17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi
17/06/09 20:10:41 INFO Remoting: Starting remoting
17/06/09 20:10:41 INFO util.Utils: Successfully started service 'sparkExecutorActorSystem' on port 55904.
17/06/09 20:10:47 INFO Configuration.deprecation: mapred.tip.id is deprecated. Instead, use mapreduce.task.id
"""
ZOOKEEPER = """\
2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200
2015-07-29 19:04:12,394 - INFO  [/10.10.34.11:3888:QuorumCnxManager$Listener@493] - Received connection request /10.10.34.11:45307
2015-07-29 19:04:29,071 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@688] - Send worker leaving thread
2015-07-29 19:13:24,282 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@762] - Connection broken for id 188978561024, my id = 1, error =\x20
"""
KAFKA = """\
[2017-08-04 10:48:20,377] INFO starting (kafka.server.KafkaServer)
[2017-08-04 10:48:20,379] INFO Connecting to zookeeper on localhost:2181 (kafka.server.KafkaServer)
[2017-08-04 10:48:20,382] INFO KafkaConfig values:\x20
\tadvertised.host.name = null
\tadvertised.listeners = null
 (kafka.server.KafkaConfig)
[2017-08-04 10:48:20,393] INFO Starting ZkClient event thread. (org.I0Itec.zkclient.ZkEventThread)
"""
ES6 = """\
[2018-05-17T08:19:35,939][INFO ][o.e.n.Node               ] [] initializing ...
[2018-05-17T08:19:36,036][INFO ][o.e.e.NodeEnvironment    ] [Fcze6tF] using [1] data paths, mounts [[/ (/dev/sda1)]]
[2018-05-17T08:19:36,038][WARN ][o.e.b.BootstrapChecks    ] [Fcze6tF] max file descriptors [4096] is too low
"""
SPRING = """\
2025-01-24T07:00:30,139 INFO [main                     ] FarmApplication : Starting FarmApplication using Java 17
2025-01-24T07:00:30,141 INFO [main                     ] FarmApplication : No active profile set
2025-01-24T07:00:31,002 WARN [main                     ] FarmApplication : slow start
"""
TOMCAT = """\
26-Nov-2026 10:15:29.001 INFO [main] org.apache.catalina.core.StandardService.startInternal Starting service [Catalina]
26-Nov-2026 10:15:29.002 WARNING [main] org.apache.catalina.startup.SetAllPropertiesRule.begin [SetAllPropertiesRule]{Server/Service/Connector} Setting property
26-Nov-2026 10:15:30.123 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in 1234 ms
"""

# (lines, expected pattern, first record's expected fields)
SHAPES = {
    "hadoop": (HADOOP, "%d{yyyy-MM-dd HH:mm:ss,SSS} %p [%t] %c: %m%n",
               {"level": "INFO", "thread": "main",
                "logger": "org.apache.hadoop.mapreduce.v2.app.MRAppMaster",
                "message": "Created MRAppMaster for application "
                           "appattempt_1445144423722_0020_000001"}),
    "hdfs": (HDFS, "%d{yyMMdd HHmmss} %tid %p %c: %m%n",
             {"level": "INFO", "thread": "148", "logger": "dfs.DataNode$PacketResponder"}),
    "spark": (SPARK, "%d{yy/MM/dd HH:mm:ss} %p %c: %m%n",
              {"level": "INFO", "logger": "executor.CoarseGrainedExecutorBackend",
               "message": "Registered signal handlers for [TERM, HUP, INT]"}),
    "zookeeper": (ZOOKEEPER, "%d{yyyy-MM-dd HH:mm:ss,SSS} - %-5p [%t:%C{1}@%L] - %m%n",
                  {"level": "INFO", "thread": "QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181",
                   "message": "Notification time out: 3200"}),
    "kafka": (KAFKA, "[%d{yyyy-MM-dd HH:mm:ss,SSS}] %p %m%notEmpty{ (%c)}%n",
              {"level": "INFO", "logger": "kafka.server.KafkaServer", "message": "starting"}),
    "es6": (ES6, "[%d{yyyy-MM-dd'T'HH:mm:ss,SSS}][%-5p][%-25c] [%t] %m%n",
            {"level": "INFO", "logger": "o.e.n.Node", "message": "initializing ..."}),
    "spring-boot-lnav": (SPRING, "%d{yyyy-MM-dd'T'HH:mm:ss,SSS} %p [%-25t] %c : %m%n",
                         {"level": "INFO", "thread": "main", "logger": "FarmApplication"}),
    "tomcat": (TOMCAT, "%d{dd-MMM-yyyy HH:mm:ss.SSS} %p [%t] %c %m%n",
               {"level": "INFO", "thread": "main",
                "logger": "org.apache.catalina.core.StandardService.startInternal",
                "message": "Starting service [Catalina]"}),
}
FIRST_TS = {"hadoop": "2015-10-18T18:01:47.978", "hdfs": "2008-11-09T20:36:15",
            "spark": "2017-06-09T20:10:40", "zookeeper": "2015-07-29T17:41:44.747",
            "kafka": "2017-08-04T10:48:20.377", "es6": "2018-05-17T08:19:35.939",
            "spring-boot-lnav": "2025-01-24T07:00:30.139", "tomcat": "2026-11-26T10:15:29.001"}


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


def _scan(tmp_path: Path, text: str, **kw: object) -> api.ScanResult:  # type: ignore[name-defined]
    path = tmp_path / "app.log"
    path.write_text(text, encoding="utf-8")
    return api.scan(path, workers=1, tz="UTC", rules=False, analysis=False, **kw)


@pytest.mark.parametrize("name", list(SHAPES))
def test_infers_the_projects_layout(name: str) -> None:
    text, expected, _ = SHAPES[name]
    got = infer_layout(text.splitlines())
    assert got.pattern == expected, got.evidence
    assert got.confident


@pytest.mark.parametrize("name", list(SHAPES))
def test_scan_reads_every_record_and_the_inferred_layout_round_trips(tmp_path: Path,
                                                                     name: str) -> None:
    text, expected, first = SHAPES[name]
    result = _scan(tmp_path, text)
    (stats,) = result.inputs
    assert stats.layout == f"inferred: {expected}"
    assert stats.unparsed_lines == 0
    starts = sum(1 for ln in text.splitlines() if find_stamp(ln, ln.startswith("[")))
    assert stats.records == starts
    rec = result.records.iloc[0]
    for key, value in first.items():
        assert rec[key] == value, key
    assert rec["ts"].value // 1_000_000 == _ms(FIRST_TS[name])
    # the name shown is reusable verbatim with --pattern, and reads the same records
    again = _scan(tmp_path, text, pattern=stats.layout.removeprefix("inferred: "))
    cols = ["line", "n_lines", "ts", "level", "thread", "logger", "message"]
    assert again.records[cols].equals(result.records[cols])


def test_inferred_layouts_take_the_fast_path() -> None:
    """Shapes with a fixed-width date and delimited fields need no RE2 pass per record.

    Not ZooKeeper's: its five fields before the message (date, level, thread, class,
    line) exceed the four the one-pass plan takes (engine.extract), so it runs on RE2.
    """
    from logsleuth.engine.extract import plan_extraction
    from logsleuth.engine.fastfields import FieldProgram

    for name in ("hadoop", "hdfs", "spark", "spring-boot-lnav", "tomcat"):
        layout = infer_layout(SHAPES[name][0].splitlines()).layout
        assert layout is not None
        assert FieldProgram.build(layout.header_regex,
                                  plan_extraction(layout.fields_regex)) is not None, name


# -- shapes the inference was not designed on (expectations from their docs) -------------

OTHER_SHAPES = {
    # Dropwizard's default: level first, bracketed date
    "dropwizard": ("INFO  [2024-03-11 14:07:52,117] io.dropwizard.server.ServerFactory: "
                   "Starting app\n"
                   "WARN  [2024-03-11 14:07:53,001] org.eclipse.jetty.setuid.SetUIDListener: "
                   "Opened application@1a2b3c{HTTP/1.1}\n"
                   "ERROR [2024-03-11 14:07:54,002] io.dropwizard.jersey.errors.LoggingExceptionMapper:"
                   " Error handling a request: 0b1c2d\n",
                   {"level": "INFO", "logger": "io.dropwizard.server.ServerFactory",
                    "message": "Starting app"}),
    # Cassandra's logback: %-5level [%thread] %date{ISO8601} %F:%L - %msg%n
    "cassandra": ("INFO  [main] 2024-03-11 14:07:52,117 StorageService.java:1234 - Node "
                  "/10.0.0.1 state jump to NORMAL\n"
                  "WARN  [OptionalTasks:1] 2024-03-11 14:07:53,117 NoSpamLogger.java:95 - "
                  "Out of 1 commit log syncs\n"
                  "INFO  [CompactionExecutor:4] 2024-03-11 14:07:54,117 "
                  "CompactionTask.java:255 - Compacted 4 sstables\n",
                  {"level": "INFO", "thread": "main", "logger": "StorageService.java:1234",
                   "message": "Node /10.0.0.1 state jump to NORMAL"}),
    # Karaf/ActiveMQ style: pipes between padded fields, thread without brackets
    "pipes": ("2024-03-11 14:07:52,117 | INFO  | main             | BrokerService    "
              "| Apache ActiveMQ 5.18 started\n"
              "2024-03-11 14:07:53,117 | WARN  | ActiveMQ Task-1  | TransportConnector"
              " | Could not accept connection\n"
              "2024-03-11 14:07:54,117 | INFO  | main             | BrokerService    "
              "| For help or more information please see\n",
              {"level": "INFO", "logger": "BrokerService",
               "message": "Apache ActiveMQ 5.18 started"}),
    # pipes without spaces around them, a thread holding a space, a `|` in a message
    "tight-pipes": ("2024-03-11 14:07:52.117|INFO|main|com.acme.Broker|started on port 80\n"
                    "2024-03-11 14:07:53.117|WARN|worker 2|com.acme.Pool|slow: a|b\n"
                    "2024-03-11 14:07:54.117|INFO|main|com.acme.Broker|stopped\n",
                    {"level": "INFO", "thread": "main", "logger": "com.acme.Broker",
                     "message": "started on port 80"}),
    # Akka's default: [LEVEL] [date] [thread] [source] message
    "akka": ("[INFO] [03/11/2024 14:07:52.117] [sys-akka.actor.default-dispatcher-2] "
             "[akka://sys/user/a] started\n"
             "[WARN] [03/11/2024 14:07:53.117] [sys-akka.actor.default-dispatcher-3] "
             "[akka://sys/user/b] slow\n"
             "[INFO] [03/13/2024 14:07:54.117] [sys-akka.actor.default-dispatcher-2] "
             "[akka://sys/user/a] stopped\n",
             {"level": "INFO", "thread": "sys-akka.actor.default-dispatcher-2",
              "message": "started"}),
}


@pytest.mark.parametrize("name", list(OTHER_SHAPES))
def test_shapes_not_designed_for(tmp_path: Path, name: str) -> None:
    text, first = OTHER_SHAPES[name]
    result = _scan(tmp_path, text)
    (stats,) = result.inputs
    assert stats.layout is not None and stats.layout.startswith("inferred: ")
    assert stats.records == 3 and stats.unparsed_lines == 0
    rec = result.records.iloc[0]
    for key, value in first.items():
        assert rec[key] == value, key
    assert rec["ts"].value // 1_000_000 == _ms("2024-03-11T14:07:52.117")


# -- the catalogue ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "java", "iso"), [
    ("2022-11-24T17:02:47.423+01:00", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2022-11-24T16:02:47.423"),
    ("2022-11-24 17:02:47,423Z", "yyyy-MM-dd HH:mm:ss,SSSX", "2022-11-24T17:02:47.423"),
    ("2022/11/24 17:02:47", "yyyy/MM/dd HH:mm:ss", "2022-11-24T17:02:47"),
    ("081109 203615", "yyMMdd HHmmss", "2008-11-09T20:36:15"),
    ("20221124T170247.5", "yyyyMMdd'T'HHmmss.S", "2022-11-24T17:02:47.500"),
    ("26-Nov-2026 10:15:30.123", "dd-MMM-yyyy HH:mm:ss.SSS", "2026-11-26T10:15:30.123"),
    ("26 Nov 2026 10:15:30,123", "dd MMM yyyy HH:mm:ss,SSS", "2026-11-26T10:15:30.123"),
    ("Nov 26, 2026 1:15:30 PM", "MMM dd, yyyy h:mm:ss a", "2026-11-26T13:15:30"),
    ("1546896321871", "UNIX_MILLIS", "2019-01-07T21:25:21.871"),
    # a compact date before a colon time; millis after `:` (loghub HealthApp) or `.`
    ("20171223-22:15:29:606", "yyyyMMdd-HH:mm:ss:SSS", "2017-12-23T22:15:29.606"),
    ("20221124 17:02:47.123", "yyyyMMdd HH:mm:ss.SSS", "2022-11-24T17:02:47.123"),
    ("20221124T17:02:47", "yyyyMMdd'T'HH:mm:ss", "2022-11-24T17:02:47"),
])
def test_catalogue_gives_the_java_pattern_and_the_instant(text: str, java: str,
                                                          iso: str) -> None:
    stamp = find_stamp(text + " INFO x", 0)
    assert stamp is not None and stamp.java == java and stamp.end == len(text)
    layout = compile_pattern(f"%d{{{java}}} %m%n")
    assert layout.timestamp is not None
    ms = layout.timestamp.to_epoch_ms(pa.array([text])).ms
    assert ms[0].as_py() == _ms(iso)


@pytest.mark.parametrize("text", ["2022-13-24 17:02:47", "081345 203615", "12345 INFO x",
                                  "Foo 26, 2026 1:15:30 PM", "20221124 256161",
                                  "20221324-17:02:47:123"])
def test_catalogue_rejects_impossible_dates(text: str) -> None:
    assert find_stamp(text, 0) is None


def test_short_dates_settle_their_field_order_from_all_lines() -> None:
    lines = ["11/25/22 17:02:47 INFO a.B: x", "12/01/22 17:02:48 INFO a.B: y"]
    got = infer_layout(lines)
    assert got.pattern == "%d{MM/dd/yy HH:mm:ss} %p %c: %m%n"  # 25 is no month


# -- mixed files, weak evidence, built-ins first --------------------------------------

CONSOLE = """\
  .   ____          _            __ _ _
 /\\\\ / ___'_ __ _ _(_)_ __  __ _ \\ \\ \\ \\
 :: Spring Boot ::                (v3.2.0)

Picked up JAVA_TOOL_OPTIONS: -Xmx512m
2024-03-11 14:07:52.117 | INFO  | main | c.e.App | Starting App
2024-03-11 14:07:52.301 | INFO  | main | o.s.b.w.e.t.TomcatWebServer | Tomcat initialized
2024-03-11 14:07:52.302 | WARN  | main | o.h.e.j.e.i.JdbcEnvironmentInitiator | no dialect
2024-03-11 14:07:52.303 | INFO  | main | c.e.App | Started App in 1.2 seconds
hello from System.out
2024-03-11 14:07:53.117 | ERROR | main | c.e.App | failed
java.lang.IllegalStateException: boom
\tat c.e.App.main(App.java:10)
done
2024-03-11 14:07:54.117 | INFO  | main | c.e.App | Stopped
"""


def test_console_capture_keeps_every_line(tmp_path: Path) -> None:
    """Records of the dominant layout parse; the other lines continue them or are unparsed."""
    result = _scan(tmp_path, CONSOLE)
    (stats,) = result.inputs
    assert stats.layout is not None and stats.layout.startswith("inferred: ")
    assert stats.records == 6
    recs = result.records
    assert list(recs["line"]) == [6, 7, 8, 9, 11, 15]
    assert list(recs["n_lines"]) == [1, 1, 1, 2, 4, 1]  # stdout lines continue a record
    assert recs.iloc[4]["exception"] == "java.lang.IllegalStateException"
    assert stats.unparsed_lines == 5  # the banner and the JVM's note before the first record
    assert int(recs["n_lines"].sum()) + stats.unparsed_lines == stats.lines == 15


def test_weak_evidence_is_a_diagnostic_naming_candidates(tmp_path: Path) -> None:
    lines = [f"line {i} of plain stdout with INFO in it" for i in range(8)]
    lines += ["2024-03-11 14:07:52,117 INFO [main] a.B: one",
              "2024-03-11 14:07:53,117 INFO [main] a.B: two"]
    result = _scan(tmp_path, "\n".join(lines) + "\n")
    diags = [d for d in result.diagnostics if d.code.startswith("layout-")]
    assert len(diags) == 1
    msg = diags[0].message
    assert "candidates: inferred '%d{yyyy-MM-dd HH:mm:ss,SSS} %p [%t] %c: %m%n' reads 20%" in msg
    assert "--pattern" in msg


def test_no_timestamp_no_layout(tmp_path: Path) -> None:
    got = infer_layout(["INFO something", "WARN other thing"])
    assert got.layout is None and not got.usable
    assert "no line starts with a timestamp" in got.evidence[0]


def test_a_builtin_that_fits_is_kept(tmp_path: Path) -> None:
    text = "".join(f"2024-03-11 14:07:5{i}.117 INFO  [main] c.e.c.ChatServer - tick {i}\n"
                   for i in range(5))
    (stats,) = _scan(tmp_path, text).inputs
    assert stats.layout == "log4j2-file"


def test_evidence_explains_the_choice() -> None:
    got = infer_layout(HDFS.splitlines())
    text = " | ".join(got.evidence)
    assert "compact" in text and "number in slot 2 read as tid" in text
    assert "logger in slot 4" in text and "reads 5 of 5" in text


JUL = """\
Nov 26, 2026 10:15:30 AM org.apache.catalina.startup.Catalina start
INFO: Server startup in 1234 ms
Nov 26, 2026 10:15:31 AM org.apache.catalina.core.StandardWrapperValve invoke
SEVERE: Servlet.service() for servlet [x] threw exception
"""


def test_jul_two_line_records_are_found(tmp_path: Path) -> None:
    result = _scan(tmp_path, JUL)
    (stats,) = result.inputs
    assert stats.layout == "inferred: %d{MMM dd, yyyy h:mm:ss a} %c %M%n%p: %m%n"
    assert stats.records == 2 and stats.unparsed_lines == 0
    assert list(result.records["n_lines"]) == [2, 2]
    assert result.records.iloc[0]["logger"] == "org.apache.catalina.startup.Catalina"


def test_jul_level_and_message_come_from_the_second_line(tmp_path: Path) -> None:
    text = JUL + ("java.lang.NullPointerException: boom\n"
                  "\tat com.example.Foo.bar(Foo.java:12)\n")
    recs = _scan(tmp_path, text).records
    assert list(recs["level"]) == ["INFO", "SEVERE"]
    assert list(recs["message"]) == ["Server startup in 1234 ms",
                                     "Servlet.service() for servlet [x] threw exception"]
    assert list(recs["n_lines"]) == [2, 4]
    assert recs.iloc[1]["exception"] == "java.lang.NullPointerException"
    assert recs.iloc[1]["root_frame"] == "com.example.Foo.bar"


def test_a_throwable_after_the_line_break_is_no_second_line() -> None:
    """Built-in layouts end in %n%wEx: their fields stay on the first line."""
    one = compile_pattern("%d %p %m%n%wEx")
    two = compile_pattern("%d %c %M%n%p: %m%n")
    assert "\\n" not in one.fields_regex and "\\n" in two.fields_regex
    assert two.header_regex.count("\\n") == 0


def test_mid_file_samples_find_a_layout_the_head_does_not_show(tmp_path: Path) -> None:
    """A head full of launcher output: the records further in still decide the layout."""
    launcher = "".join(f"launcher: loading module {i} of 6000 (INFO)\n" for i in range(6000))
    records = "".join(f"17/06/09 20:{m:02d}:{s:02d} INFO executor.Executor: task {m * 60 + s}\n"
                      for m in range(60) for s in range(60))
    result = _scan(tmp_path, launcher + records)
    (stats,) = result.inputs
    assert len(launcher.encode()) > 64 * 1024  # more than the planner's head
    assert stats.layout == "inferred: %d{yy/MM/dd HH:mm:ss} %p %c: %m%n"
    assert stats.records == 3600 and stats.unparsed_lines == 6000


# Tomcat's catalina.out: JULI's own lines and the application's log4j console lines
CATALINA_MIXED = """\
26-Nov-2026 10:15:29.001 INFO [main] org.apache.catalina.core.StandardService.startInternal Starting service [Catalina]
26-Nov-2026 10:15:29.002 INFO [main] org.apache.catalina.core.StandardEngine.startInternal Starting Servlet engine
2026-11-26 10:15:29.500 INFO  [main] c.e.App - Starting App
26-Nov-2026 10:15:29.801 INFO [main] org.apache.catalina.startup.HostConfig.deployWAR Deploying app.war
2026-11-26 10:15:30.100 ERROR [main] c.e.App - failed to connect
java.net.ConnectException: refused
\tat c.e.App.connect(App.java:10)
26-Nov-2026 10:15:30.123 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in 1234 ms
26-Nov-2026 10:15:31.000 WARNING [main] org.apache.catalina.loader.WebappClassLoaderBase.clear leak
26-Nov-2026 10:15:31.500 INFO [main] org.apache.catalina.core.StandardService.stopInternal Stopping
"""


def test_two_layouts_in_one_file_each_get_their_records(tmp_path: Path) -> None:
    """JULI's lines and the app's lines are records, each read in its own layout."""
    result = _scan(tmp_path, CATALINA_MIXED)
    (stats,) = result.inputs
    assert stats.layout == ("inferred: %d{dd-MMM-yyyy HH:mm:ss.SSS} %p [%t] %c %m%n"
                            " + inferred: %d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c - %m%n")
    assert stats.records == 8 and stats.unparsed_lines == 0
    records = result.records.sort_values("line")
    assert list(records["line"]) == [1, 2, 3, 4, 5, 8, 9, 10]
    assert list(records["n_lines"]) == [1, 1, 1, 1, 3, 1, 1, 1]
    app = records[records["line"].isin([3, 5])]
    assert list(app["logger"]) == ["c.e.App", "c.e.App"]  # the app's own fields
    assert list(app["level"]) == ["INFO", "ERROR"] and list(app["thread"]) == ["main", "main"]
    assert list(app["message"]) == ["Starting App", "failed to connect"]
    assert [t.isoformat() for t in app["ts"]] == ["2026-11-26T10:15:29.500000+00:00",
                                                  "2026-11-26T10:15:30.100000+00:00"]
    # the app's exception is in the app's record, not glued to JULI's record before it
    assert list(app["exception"].fillna("-")) == ["-", "java.net.ConnectException"]
    assert set(records[~records["line"].isin([3, 5])]["exception"].dropna()) == set()
    (diag,) = [d for d in result.diagnostics if d.code.startswith("layout-")]
    assert diag.code == "layout-mixed" and diag.level == "info"
    assert "'%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c - %m%n' (25%)" in diag.message


@pytest.mark.parametrize(("text", "java"), [
    ("03-17 16:13:38.811", "MM-dd HH:mm:ss.SSS"),  # Android logcat
    ("Dec 14 06:41:08", "MMM dd HH:mm:ss"),
    ("09:55:37,818", "HH:mm:ss,SSS"),  # JBoss AS 7's time-only console pattern
    ("20:17:10", "HH:mm:ss"),
])
def test_catalogue_dates_without_a_year_are_left_to_the_scan(text: str, java: str) -> None:
    """No year in the text: the scan supplies the date (engine.timeonly), not inference."""
    stamp = find_stamp(text + " INFO x", 0)
    assert stamp is not None and stamp.java == java
    fmt = compile_pattern(f"%d{{{java}}} %m%n").timestamp
    assert fmt is not None and fmt.needs_base_date


# -- the built-in layouts' own sample lines: inference reads them as the built-in does --

def _builtin_cases() -> list[object]:
    from logsleuth.layouts import load_builtin_layouts

    known: dict[str, str] = {}  # built-in -> why inference misses its samples
    cases = []
    for layout in load_builtin_layouts():
        text = getattr(layout, "fields_regex", None)  # JSON layouts are another inference
        if text is None or layout.timestamp is None:  # log4j1-ttcc prints no date
            continue
        marks = ([pytest.mark.xfail(strict=True, reason=known[layout.name])]
                 if layout.name in known else [])
        cases.append(pytest.param(layout, id=layout.name, marks=marks))
    return cases


@pytest.mark.parametrize("builtin", _builtin_cases())
def test_inference_reads_each_builtins_samples_like_the_builtin(builtin: object) -> None:
    import pyarrow.compute as pc
    import yaml

    from logsleuth.layouts import library

    spec = yaml.safe_load((Path(library.__file__).parent / "builtin" /
                           f"{builtin.name}.yaml").read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    lines = [s["line"] if isinstance(s, dict) else s for s in spec["samples"]]
    got = infer_layout(lines)
    assert got.layout is not None, got.evidence
    arr = pa.array(lines)
    mine = pc.extract_regex(arr, got.layout.fields_regex).to_pylist()
    theirs = pc.extract_regex(arr, builtin.fields_regex).to_pylist()  # type: ignore[attr-defined]
    for line, a, b in zip(lines, mine, theirs, strict=True):
        assert a is not None, line
        for key in ("ts", "level", "thread", "logger", "msg"):
            if key in b:
                assert a.get(key) == b[key], (key, line)


def test_coloured_lines_are_read_with_and_without_their_colours(tmp_path: Path) -> None:
    """Spring Boot's console with colours forced on: every field may sit in ANSI codes."""
    plain = "2019-03-05 10:57:51.112  INFO 45469 --- [           main] o.a.c.StandardEngine : start"
    coloured = ("\x1b[2m2019-03-05 10:57:52.253\x1b[0;39m \x1b[31mERROR\x1b[0;39m "
                "\x1b[35m45469\x1b[0;39m \x1b[2m---\x1b[0;39m \x1b[2m[nio-8080-exec-1]\x1b[0;39m "
                "\x1b[36mo.a.c.c.StandardWrapper\x1b[0;39m \x1b[2m:\x1b[0;39m Servlet failed")
    got = infer_layout([plain, coloured, plain.replace("51.112", "53.000")])
    assert got.pattern == ("%clr(%d{yyyy-MM-dd HH:mm:ss.SSS}) %clr(%5p) %clr(%pid) %clr(---) "
                           "%clr([%15t]) %clr(%c) %clr(:) %m%n")
    recs = _scan(tmp_path, "\n".join([plain, coloured]) + "\n").records
    assert list(recs["level"]) == ["INFO", "ERROR"]
    assert list(recs["thread"]) == ["main", "nio-8080-exec-1"]
    assert list(recs["message"]) == ["start", "Servlet failed"]


def test_pipe_separated_header_without_spaces(tmp_path: Path) -> None:
    """HealthApp's `date|component|pid|message`: every field read, nothing left over."""
    text = ("20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579\n"
            "20171223-22:15:29:615|Step_LSC|30002312|onExtend:1514038530000 14 0 4\n"
            "20171223-22:15:30:001|Step_StandReportReceiver|30002312|onReceive action: ON\n")
    result = _scan(tmp_path, text)
    (stats,) = result.inputs
    assert stats.records == 3 and stats.unparsed_lines == 0
    rec = result.records.iloc[2]
    assert rec["logger"] == "Step_StandReportReceiver"
    assert rec["message"] == "onReceive action: ON"
    assert rec["ts"].value // 1_000_000 == _ms("2017-12-23T22:15:30.001")


@pytest.mark.parametrize(("text", "first"), [
    # loghub's concatenation: the source file name before an oslo.log line
    ("nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO "
     "nova.osapi_compute.wsgi.server [req-1 - - -] GET /v2 status: 200\n"
     "nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.500 2931 INFO "
     "nova.compute.manager [req-2 - - -] VM Started\n"
     "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:05.060 25746 WARNING "
     "nova.osapi_compute.wsgi.server [req-3 - - -] slow\n",
     {"level": "INFO", "logger": "nova.osapi_compute.wsgi.server",
      "ts": "2017-05-16T00:00:00.008"}),
    # a host name a collector put before a logback line (not designed on)
    ("web-01 2024-03-11 14:07:52,117 INFO  [main] com.acme.App - started\n"
     "web-02 2024-03-11 14:07:53,117 WARN  [pool-1] com.acme.Pool - slow\n"
     "web-01 2024-03-11 14:07:54,117 ERROR [main] com.acme.App - failed\n"
     "\tat com.acme.App.run(App.java:3)\n",
     {"level": "INFO", "thread": "main", "logger": "com.acme.App", "message": "started",
      "ts": "2024-03-11T14:07:52.117"}),
])
def test_a_source_token_before_the_date_is_read(tmp_path: Path, text: str,
                                                first: dict[str, str]) -> None:
    result = _scan(tmp_path, text)
    (stats,) = result.inputs
    assert stats.layout is not None and stats.layout.startswith("inferred: %cn %d{")
    assert stats.records == 3 and stats.unparsed_lines == 0
    rec = result.records.iloc[0]
    for key, value in first.items():
        if key == "ts":
            assert rec["ts"].value // 1_000_000 == _ms(value)
        else:
            assert rec[key] == value, key


def test_a_word_before_the_date_on_few_lines_is_no_source() -> None:
    """Prose that mentions a date after its first word is not a prefixed log."""
    lines = [f"2024-03-11 14:07:5{i},117 INFO [main] com.acme.App - step {i}" for i in range(9)]
    lines.append("since 2024-03-11 14:07:50 nothing changed")
    got = infer_layout(lines)
    assert got.pattern == "%d{yyyy-MM-dd HH:mm:ss,SSS} %p [%t] %c - %m%n"
    # a word first on every line but the date two tokens on: a message, not a source
    assert infer_layout([f"user{i} logged in 2024-03-11 14:07:5{i}" for i in range(5)]).layout \
        is None


# -- further layouts beside the dominant one (issue 13: several layouts in one file) --

def _app_lines(n: int) -> list[str]:
    return [f"2026-11-26 10:15:{i % 60:02d}.{i % 1000:03d} INFO  [main] c.e.App - step {i}"
            for i in range(n)]


def test_a_builtin_layout_keeps_its_place_and_gains_the_other_layouts_lines() -> None:
    from logsleuth.engine.planner import LayoutChoice, choose_layout

    build = [f"[2026-11-26T09:15:0{i}.07356{i}Z] [BUILD] step {i}" for i in range(4)]
    layout, note = choose_layout(build + _app_lines(60), LayoutChoice())
    assert layout.name == "log4j2-file + inferred: [%d{yyyy-MM-dd'T'HH:mm:ss.SSSSSSX}] [%t] %m%n"
    assert [o.pattern for o in layout.others] == ["[%d{yyyy-MM-dd'T'HH:mm:ss.SSSSSSX}] [%t] %m%n"]
    assert note is not None and note.startswith("several layouts in one file")


@pytest.mark.parametrize(("stray", "why"), [
    (["[2026-11-26T09:15:00.073562Z] [BUILD] once"], "one line is no layout"),
    ([f"2026/11/26 09:15:0{i} copied {i} files" for i in range(4)],
     "a date and free text is any text with dates"),
])
def test_no_other_layout_without_material_evidence(stray: list[str], why: str) -> None:
    from logsleuth.engine.planner import LayoutChoice, choose_layout

    layout, note = choose_layout(stray + _app_lines(60), LayoutChoice())
    assert layout.name == "log4j2-file" and not layout.others, why
    assert note is None


def test_inference_names_each_further_layout_with_the_lines_it_reads() -> None:
    juli = [f"26-Nov-2026 10:15:{i:02d}.001 INFO [main] o.a.c.s.Catalina.start up {i}"
            for i in range(30)]
    build = [f"[2026-11-26T09:15:0{i}.07356{i}Z] [BUILD] step {i}" for i in range(5)]
    got = infer_layout(juli + _app_lines(10) + build)
    assert got.pattern == "%d{dd-MMM-yyyy HH:mm:ss.SSS} %p [%t] %c %m%n"
    assert [(o.layout.pattern, o.lines) for o in got.others] == [
        ("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %c - %m%n", 10),
        ("[%d{yyyy-MM-dd'T'HH:mm:ss.SSSSSSX}] [%t] %m%n", 5)]
    assert got.mixed and not got.confident


# -- a run of [groups] whose outer groups are optional (Spring Boot 3.2) --

SPRING_32 = """\
2024-03-01T10:00:00.001+01:00  INFO 4242 --- [shop] [           main] c.e.shop.ShopApplication                 : Starting ShopApplication
2024-03-01T10:00:00.101+01:00  INFO 4242 --- [shop] [           main] o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat initialized with port 8080 (http)
2024-03-01T10:00:01.201+01:00  WARN 4242 --- [           main] o.s.b.a.orm.jpa.JpaBaseConfiguration     : spring.jpa.open-in-view is enabled
2024-03-01T10:00:02.301+01:00 ERROR 4242 --- [shop] [nio-8080-exec-1] [65e1a0b2c3d4e5f6-a1b2c3d4e5f6a7b8] c.e.shop.web.OrderController             : order [17] failed
java.lang.IllegalStateException: no stock
\tat c.e.shop.web.OrderController.place(OrderController.java:42)
2024-03-01T10:00:03.401+01:00 DEBUG 4242 --- [shop] [nio-8080-exec-2] c.e.shop.web.OrderController             : order [18] placed
"""


def test_optional_app_and_correlation_brackets_around_a_fixed_width_thread(
        tmp_path: Path) -> None:
    lines = [ln for ln in SPRING_32.splitlines() if ln.startswith("2024")]
    got = infer_layout(lines)
    assert got.pattern == ("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %5p %pid --- %notEmpty{[%X{field4}] }"
                           "[%15t]%notEmpty{ [%X{field6}]} %-40c : %m%n")
    fields = pa.array(lines)
    import pyarrow.compute as pc

    rows = pc.extract_regex(fields, got.layout.fields_regex).to_pylist()
    assert [r["thread"].strip() for r in rows] == [
        "main", "main", "main", "nio-8080-exec-1", "nio-8080-exec-2"]
    assert [r["mdc_field4"] for r in rows] == ["shop", "shop", "", "shop", "shop"]
    assert rows[3]["mdc_field6"] == "65e1a0b2c3d4e5f6-a1b2c3d4e5f6a7b8"
    assert rows[3]["logger"] == "c.e.shop.web.OrderController"
    assert rows[3]["msg"] == "order [17] failed"  # brackets in the message stay in it


def test_a_run_without_a_fixed_width_group_is_left_to_slot_agreement() -> None:
    """Unpadded threads: no group has one width on every line, so nothing is guessed
    optional (the lines then agree on no layout past the pid)."""
    lines = ["2024-03-01 10:00:00.001 INFO 42 --- [app] [main] c.e.A : one",
             "2024-03-01 10:00:00.002 INFO 42 --- [worker-17] c.e.A : two",
             "2024-03-01 10:00:00.003 INFO 42 --- [app] [pool-3-thread-12] c.e.A : three"]
    got = infer_layout(lines)
    assert got.pattern is not None and "notEmpty" not in got.pattern


def test_the_mixed_layout_shown_is_reusable_verbatim_with_pattern(tmp_path: Path) -> None:
    guessed = _scan(tmp_path, CATALINA_MIXED)
    name = guessed.inputs[0].layout
    assert " + " in name
    pinned = _scan(tmp_path, CATALINA_MIXED, pattern=name)
    cols = ["line", "n_lines", "ts", "level", "thread", "logger", "message", "exception"]
    assert pinned.records[cols].astype(str).values.tolist() == \
        guessed.records[cols].astype(str).values.tolist()
    assert pinned.inputs[0].unparsed_lines == 0
    assert not [d for d in pinned.diagnostics if d.code.startswith("layout-")]


def test_a_plus_inside_one_pattern_stays_one_pattern() -> None:
    from logsleuth.layouts import compile_layouts

    one = compile_layouts("%d{HH:mm:ss} + %m%n")  # the second part prints no date
    assert one.others == () and one.pattern == "%d{HH:mm:ss} + %m%n"
    two = compile_layouts("inferred: %d{yyyy-MM-dd HH:mm:ss} %p %m%n + [%d{ISO8601}] %m%n")
    assert [o.pattern for o in two.others] == ["[%d{ISO8601}] %m%n"]
    assert two.pattern == "%d{yyyy-MM-dd HH:mm:ss} %p %m%n"


def test_a_dated_line_no_layout_reads_is_named_in_a_warning(tmp_path: Path) -> None:
    """One line of a third layout is too little to infer it from; it is not lost in
    silence: the layout-mixed note turns into a warning that quotes it."""
    stray = "Nov 26, 2026 10:15:30 AM org.apache.catalina.startup.Catalina start\n"
    text = CATALINA_MIXED.replace("26-Nov-2026 10:15:31.000", stray + "26-Nov-2026 10:15:31.000")
    result = _scan(tmp_path, text)
    (diag,) = [d for d in result.diagnostics if d.code.startswith("layout-")]
    assert diag.code == "layout-mixed" and diag.level == "warning"
    assert "1 timestamped sample line(s) fit none of them" in diag.message
    assert "'Nov 26, 2026 10:15:30 AM org.apache.catalina.startup.Catalina start'" in diag.message
    assert result.inputs[0].records == 8 and result.inputs[0].unparsed_lines == 0


def test_a_climbing_number_column_is_log4j2s_relative_clock_not_a_pid() -> None:
    """%r (ms since the JVM started) after the date was read as %pid, which hid the JVM
    start it states (engine.startanchor); a pid that changes only at restarts stays one."""
    rel = [f"2026-12-06 15:58:14.{494 + 3 * k:03d} {591 + 3 * k - k % 2} [main] INFO  "
           f"com.example.Shop - Order handled id={k}" for k in range(40)]
    inferred = infer_layout(rel)
    assert inferred is not None and " %r [%t]" in inferred.pattern, inferred.pattern
    restarts = [f"2026-12-06 15:58:{10 + k:02d}.000 {4100 if k < 20 else 5200} [main] INFO  "
                f"com.example.Shop - Order handled id={k}" for k in range(40)]
    inferred = infer_layout(restarts)
    assert inferred is not None and " %pid [%t]" in inferred.pattern, inferred.pattern
