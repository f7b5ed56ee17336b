"""Layout detection on realistic mixed samples."""

from __future__ import annotations

import pytest

from logsleuth.layouts import compile_pattern, detect_layout, load_builtin_layouts


@pytest.fixture(scope="module")
def layouts():
    return load_builtin_layouts()


TRACE = [
    "io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 64 byte(s) of direct "
    "memory (used: 268435392, max: 268435456)",
    "\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter"
    "(PlatformDependent.java:754)",
    "\tat io.netty.buffer.PooledByteBufAllocator.newDirectBuffer(PooledByteBufAllocator.java:361)",
    "Caused by: java.lang.NullPointerException: null",
    "\t... 12 more",
    "",
]


def test_stack_trace_only_gives_none(layouts):
    d = detect_layout(TRACE, layouts)
    assert d.layout is None and d.header_lines == 0


def test_log4j2_file_with_traces(layouts):
    lines = ["2024-03-11 14:07:52.117 ERROR [nioEventLoopGroup-3-2] c.e.c.FrameEncoder - failed",
             *TRACE,
             "2024-03-11 14:07:52.118 INFO  [main] c.e.c.ChatServer - tick",
             "2024-03-11 14:07:53.000 WARN  [Thread-0] c.e.c.Disconnect - gone"]
    d = detect_layout(lines, layouts)
    assert d.layout is not None and d.fraction == 1.0
    assert d.layout.name in ("log4j2-file", "log4j1-iso8601")
    assert d.runner_up is not None and d.runner_up.name in ("log4j2-file", "log4j1-iso8601")


def test_thread_first_is_not_confused_with_level_first(layouts):
    lines = ["2024-03-11 14:07:52.117 [main] INFO  com.example.App - a",
             "2024-03-11 14:07:52.118 [nioEventLoopGroup-3-1] ERROR c.e.Enc - b"]
    d = detect_layout(lines, layouts)
    # %d{DEFAULT} and yyyy-MM-dd HH:mm:ss.SSS both accept '.' or ',': the two are equivalent
    assert d.layout is not None
    assert d.layout.name in ("log4j2-file-thread-first", "log4j1-date")
    assert d.runner_up is not None
    assert d.runner_up.name in ("log4j2-file-thread-first", "log4j1-date")


def test_prefers_layout_with_more_fields(layouts):
    lines = ["2024-03-11 14:07:52.117 [http-nio-8080-exec-1] [4bf92f35] ERROR c.e.Api - x",
             "2024-03-11 14:07:52.118 [main] [] INFO  c.e.App - y"]
    d = detect_layout(lines, layouts)
    assert d.layout is not None and d.layout.name == "log4j2-file-mdc"


def test_spring_boot_3_and_json(layouts):
    boot = ["2022-11-24T17:02:47.423+01:00  INFO 27884 --- [           main] "
            "o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat initialized",
            "2022-11-24T17:02:47.981+01:00 ERROR 27884 --- [ctor-http-nio-3] "
            "c.e.chat.ws.ChatWebSocketHandler         : Unexpected error", *TRACE]
    d = detect_layout(boot, layouts)
    assert d.layout is not None and d.layout.name in ("spring-boot-3", "spring-boot-3-2")
    ecs = ['{"@timestamp":"2024-03-11T14:07:52.117Z","log.level":"INFO","message":"a",'
           '"process.thread.name":"main","log.logger":"a.B","ecs.version":"1.2.0"}'] * 3
    d2 = detect_layout(ecs, layouts)
    assert d2.layout is not None and d2.layout.name == "ecs"


def test_mixed_input_below_threshold_gives_none(layouts):
    lines = ["2024-03-11 14:07:52.117 INFO  [main] c.e.App - a",
             "127.0.0.1 - - [11/Mar/2024:14:07:52 +0000] \"GET / HTTP/1.1\" 502 157",
             "127.0.0.1 - - [11/Mar/2024:14:07:53 +0000] \"GET / HTTP/1.1\" 502 157",
             "[GC (Allocation Failure)  65536K->1234K(251392K), 0.0123 secs]"]
    d = detect_layout(lines, layouts)
    assert d.layout is None and d.runner_up is not None and d.fraction == 0.25


def test_custom_candidates():
    custom = compile_pattern("%d{UNIX_MILLIS} %p %m%n", name="unix")
    d = detect_layout(["1710166072117 INFO a", "1710166072118 WARN b"], [custom])
    assert d.layout is custom and d.fraction == 1.0
