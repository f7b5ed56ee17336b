from logsleuth.parsers.stacktrace import ThrowableCache, parse_frame, parse_throwable

NETTY = """io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 64 byte(s) of direct memory (used: 4194240, max: 4194304)
\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter(PlatformDependent.java:754) ~[netty-all-4.1.48.Final.jar:4.1.48.Final]
\tat io.netty.util.internal.PlatformDependent.allocateDirectNoCleaner(PlatformDependent.java:709) ~[netty-all-4.1.48.Final.jar:4.1.48.Final]
\tat io.netty.channel.nio.NioEventLoop.run(NioEventLoop.java:500) [netty-all-4.1.48.Final.jar:4.1.48.Final]
\tat java.base/java.lang.Thread.run(Thread.java:833) [?:?]
"""

NESTED = """java.lang.RuntimeException: outer
\tat com.example.A.run(A.java:10) ~[app.jar:1.0]
\tSuppressed: java.io.IOException: close failed
\t\tat com.example.C.close(C.java:5)
\t\t... 1 more
Caused by: io.grpc.netty.shaded.io.netty.util.internal.OutOfDirectMemoryError: failed
\tat io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent.incrementMemoryCounter(PlatformDependent.java:754)
\t... 2 more
Caused by: java.lang.NullPointerException
\tat com.example.push.PacketEncoder.encodePacket(PacketEncoder.java:42)
\t... 7 common frames omitted
"""


def test_frame_fields_and_module_suffix() -> None:
    f = parse_frame("\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter"
                    "(PlatformDependent.java:754) ~[netty-all-4.1.48.Final.jar:4.1.48.Final]")
    assert f is not None
    assert (f.cls, f.method, f.file, f.line) == (
        "io.netty.util.internal.PlatformDependent", "incrementMemoryCounter",
        "PlatformDependent.java", 754)
    assert f.module == "netty-all-4.1.48.Final.jar:4.1.48.Final"


def test_jdk9_module_prefix_and_native() -> None:
    f = parse_frame("\tat java.base/java.lang.Thread.run(Thread.java:833)")
    assert f is not None and f.cls == "java.lang.Thread" and f.line == 833
    n = parse_frame("\tat sun.nio.ch.EPoll.wait(Native Method)")
    assert n is not None and n.file is None and n.line is None


def test_netty_oom_trace() -> None:
    t = parse_throwable(NETTY)
    assert t is not None
    assert t.cls == "io.netty.util.internal.OutOfDirectMemoryError"
    assert t.message is not None and "used: 4194240" in t.message
    assert len(t.frames) == 4
    assert t.frames[0].method == "incrementMemoryCounter"


def test_causes_suppressed_and_omitted() -> None:
    t = parse_throwable(NESTED)
    assert t is not None
    chain = [x.cls for x in t.chain()]
    assert chain == ["java.lang.RuntimeException", "java.io.IOException",
                     "io.grpc.netty.shaded.io.netty.util.internal.OutOfDirectMemoryError",
                     "java.lang.NullPointerException"]
    assert t.suppressed[0].omitted == 1
    assert t.cause is not None and t.cause.omitted == 2
    assert t.root_cause.cls == "java.lang.NullPointerException"
    assert t.root_cause.omitted == 7
    assert t.root_cause.frames[0].method == "encodePacket"


def test_text_without_frames_is_not_a_throwable() -> None:
    assert parse_throwable("java.lang.String: not a trace\nsecond line") is None


def test_cache_gives_equal_result_and_varies_message() -> None:
    cache = ThrowableCache(max_entries=2)
    a = cache.parse(NETTY)
    b = cache.parse(NETTY.replace("used: 4194240", "used: 4194176"))
    assert a == parse_throwable(NETTY)
    assert b is not None and a is not None
    assert b.frames is a.frames  # the tail was parsed once
    assert b.message != a.message


def test_bare_exception_without_frames() -> None:
    from logsleuth.parsers.stacktrace import exception_classes

    assert exception_classes(b"java.lang.NullPointerException\n") == (
        "java.lang.NullPointerException", "java.lang.NullPointerException")
    assert exception_classes(b"not an exception line\n") == (None, None)
    t = ThrowableCache().parse("java.lang.NullPointerException")
    assert t is not None and t.cls == "java.lang.NullPointerException" and t.frames == ()


def test_root_frame_of_deepest_cause() -> None:
    from logsleuth.parsers.stacktrace import root_frame

    text = (b"java.lang.IllegalStateException: failed at step 2\n"
            b"\tat a.b.Outer.run(Outer.java:1)\n"
            b"Caused by: java.lang.NullPointerException\n"
            b"\tat java.base/com.example.push.PacketEncoder.encodePacket(PacketEncoder.java:88)\n")
    assert root_frame(text) == "com.example.push.PacketEncoder.encodePacket"
    assert root_frame(b"java.lang.X: at the start\n\tat app//a.B.c(B.java:3)\n") == "a.B.c"
    assert root_frame(b"java.lang.X: no frames at all\n") is None


def test_indented_header_of_a_servlet_container_trace() -> None:
    """JULI prints the header one space in; a tab-indented header reads the same."""
    from logsleuth.parsers.stacktrace import exception_classes

    for pad in (b" ", b"\t", b"  "):
        cont = (pad + b"javax.servlet.ServletException: not allowed\n"
                b"\tat a.b.Filter.init(Filter.java:7)\n"
                b"Caused by: java.lang.IllegalArgumentException: bad origin\n"
                b"\tat a.b.Cors.parse(Cors.java:9)\n")
        assert exception_classes(cont) == (
            "javax.servlet.ServletException", "java.lang.IllegalArgumentException")


def test_headless_frames_take_the_class_from_the_first_line() -> None:
    """The uncaught-exception handler's line behind a log header, a class named in the
    message, a trace opening at `Caused by:`; prose with no class names none."""
    from logsleuth.parsers.stacktrace import exception_classes

    frames = b"    at com.x.Main.bad(Main.java:22)\n    at com.x.Main.main(Main.java:6)\n"
    uncaught = b'Dec 14 06:41:08 Exception in thread "main" java.lang.RuntimeException: gone\n'
    assert exception_classes(frames) == (None, None)
    assert exception_classes(frames, uncaught) == (
        "java.lang.RuntimeException", "java.lang.RuntimeException")
    # a JDK error class without the Exception suffix, thread name with spaces
    odd = b'2024-01-02 10:00:00 ERROR Exception in thread "pool-1 worker" java.lang.StackOverflow\n'
    assert exception_classes(frames, odd)[0] == "java.lang.StackOverflow"
    named = (b"00:02:54,156 ERROR [x.fail] (pool -- 72) Failed to start service"
             b' s: org.jboss.msc.service.StartException in service s: boom\n')
    caused = (b"\tat org.a.B.run(B.java:103)\n"
              b"Caused by: javax.persistence.PersistenceException: unit\n"
              b"\tat org.h.C.build(C.java:925)\n"
              b"Caused by: org.hibernate.AnnotationException: no column\n"
              b"\tat org.h.D.key(D.java:1628)\n")
    assert exception_classes(caused, named) == (
        "org.jboss.msc.service.StartException", "org.hibernate.AnnotationException")
    assert exception_classes(caused, b"10:00 ERROR service failed\n") == (
        "javax.persistence.PersistenceException", "org.hibernate.AnnotationException")
    # a logger that merely contains "Error" in a word is not a throwable
    assert exception_classes(frames, b"10:00 INFO [com.x.ErrorPages] rendered page\n") == (
        None, None)


def test_scan_reads_the_class_of_a_headless_trace_per_record(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two records share one headless trace but name different throwables on their
    first lines: the trace cache must not hand the first one's class to the second."""
    import logsleuth

    frames = "\tat com.acme.Job.run(Job.java:12)\n\tat java.lang.Thread.run(Thread.java:833)\n"
    text = ("2024-03-11 14:07:52,117 ERROR [main] com.acme.App - started\n"
            '2024-03-11 14:07:53,117 ERROR [w-1] com.acme.App - Exception in thread "w-1"'
            " java.lang.IllegalStateException: closed\n" + frames
            + "2024-03-11 14:07:54,117 ERROR [w-2] com.acme.App - job failed:"
            " java.util.concurrent.TimeoutException\n" + frames
            + "2024-03-11 14:07:55,117 INFO [main] com.acme.App - done\n")
    path = tmp_path / "app.log"
    path.write_text(text, encoding="utf-8")
    result = logsleuth.scan(path, tz="UTC", rules=False, analysis=False, workers=1)
    got = result.records[["exception", "root_exception", "root_frame"]].values.tolist()
    assert got[1] == ["java.lang.IllegalStateException", "java.lang.IllegalStateException",
                      "com.acme.Job.run"]
    assert got[2][:2] == ["java.util.concurrent.TimeoutException"] * 2
    import pandas as pd

    assert pd.isna(got[0][0]) and pd.isna(got[3][0])
