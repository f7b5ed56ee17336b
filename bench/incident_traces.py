"""Stack-trace text for the synthetic netty incident, rendered as log4j2 prints it.

The pattern ``%d %-5level [%t] %logger{36} - %msg%n`` has no throwable converter,
so log4j2 appends ``%xEx``: one ``\\tat cls.method(File.java:N) ~[jar:version]`` line
per frame, ``Caused by:`` for causes and ``\\t... N more`` for the frames a cause
shares with its enclosing throwable. Frames follow netty 4.1.48 on JDK 8.
"""

from __future__ import annotations

NETTY = "~[netty-all-4.1.48.Final.jar:4.1.48.Final]"
JDK = "~[?:1.8.0_242]"
JDK_EXACT = "[?:1.8.0_242]"  # the bottom frame: log4j2 drops the ``~`` when the jar is exact
APP = "~[push-server-1.4.2.jar:?]"

OOM_CLASS = "io.netty.util.internal.OutOfDirectMemoryError"
OOM_MESSAGE = "failed to allocate 64 byte(s) of direct memory (used: 1073741760, max: 1073741824)"
NPE_CLASS = "java.lang.NullPointerException"
ENCODER_EXCEPTION = "io.netty.handler.codec.EncoderException"

Frame = tuple[str, str, int, str]  # qualified method, file, line, jar suffix

_ALLOCATION: tuple[Frame, ...] = (
    ("io.netty.util.internal.PlatformDependent.incrementMemoryCounter",
     "PlatformDependent.java", 754, NETTY),
    ("io.netty.util.internal.PlatformDependent.allocateDirectNoCleaner",
     "PlatformDependent.java", 709, NETTY),
    ("io.netty.buffer.PoolArena$DirectArena.allocateDirect", "PoolArena.java", 755, NETTY),
    ("io.netty.buffer.PoolArena$DirectArena.newChunk", "PoolArena.java", 731, NETTY),
    ("io.netty.buffer.PoolArena.allocateNormal", "PoolArena.java", 247, NETTY),
    ("io.netty.buffer.PoolArena.allocate", "PoolArena.java", 215, NETTY),
    ("io.netty.buffer.PoolArena.allocate", "PoolArena.java", 147, NETTY),
    ("io.netty.buffer.PooledByteBufAllocator.newDirectBuffer",
     "PooledByteBufAllocator.java", 356, NETTY),
    ("io.netty.buffer.AbstractByteBufAllocator.directBuffer",
     "AbstractByteBufAllocator.java", 187, NETTY),
    ("io.netty.buffer.AbstractByteBufAllocator.directBuffer",
     "AbstractByteBufAllocator.java", 178, NETTY),
    ("io.netty.buffer.AbstractByteBufAllocator.ioBuffer",
     "AbstractByteBufAllocator.java", 139, NETTY),
    ("io.netty.handler.codec.MessageToByteEncoder.allocateBuffer",
     "MessageToByteEncoder.java", 140, NETTY),
)

_ENCODER_WRITE: Frame = (
    "io.netty.handler.codec.MessageToByteEncoder.write", "MessageToByteEncoder.java", 105, NETTY)

# From the encoder's caller down to the thread: a queued write run by the event loop.
_WRITE_PIPELINE: tuple[Frame, ...] = (
    ("io.netty.channel.AbstractChannelHandlerContext.invokeWrite0",
     "AbstractChannelHandlerContext.java", 715, NETTY),
    ("io.netty.channel.AbstractChannelHandlerContext.invokeWrite",
     "AbstractChannelHandlerContext.java", 707, NETTY),
    ("io.netty.channel.AbstractChannelHandlerContext.write",
     "AbstractChannelHandlerContext.java", 790, NETTY),
    ("io.netty.channel.AbstractChannelHandlerContext.write",
     "AbstractChannelHandlerContext.java", 758, NETTY),
    ("io.netty.handler.timeout.IdleStateHandler.write", "IdleStateHandler.java", 302, NETTY),
    ("io.netty.channel.AbstractChannelHandlerContext.invokeWrite0",
     "AbstractChannelHandlerContext.java", 715, NETTY),
    ("io.netty.channel.AbstractChannelHandlerContext.invokeWrite",
     "AbstractChannelHandlerContext.java", 707, NETTY),
    ("io.netty.channel.AbstractChannelHandlerContext$WriteTask.run",
     "AbstractChannelHandlerContext.java", 1071, NETTY),
    ("io.netty.util.concurrent.AbstractEventExecutor.safeExecute",
     "AbstractEventExecutor.java", 164, NETTY),
    ("io.netty.util.concurrent.SingleThreadEventExecutor.runAllTasks",
     "SingleThreadEventExecutor.java", 472, NETTY),
    ("io.netty.channel.nio.NioEventLoop.run", "NioEventLoop.java", 500, NETTY),
    ("io.netty.util.concurrent.SingleThreadEventExecutor$4.run",
     "SingleThreadEventExecutor.java", 989, NETTY),
    ("io.netty.util.internal.ThreadExecutorMap$2.run", "ThreadExecutorMap.java", 74, NETTY),
    ("io.netty.util.concurrent.FastThreadLocalRunnable.run",
     "FastThreadLocalRunnable.java", 30, NETTY),
    ("java.lang.Thread.run", "Thread.java", 748, JDK_EXACT),
)

_NPE_APP: tuple[Frame, ...] = (
    ("com.example.push.PacketEncoder.encodePacket", "PacketEncoder.java", 87, APP),
    ("com.example.push.PacketEncoder.encode", "PacketEncoder.java", 52, APP),
    ("com.example.push.PacketEncoder.encode", "PacketEncoder.java", 31, APP),
)


def _frames(frames: tuple[Frame, ...]) -> str:
    return "".join(f"\tat {m}({f}:{n}) {jar}\n" for m, f, n, jar in frames)


def oom_message(ceiling: int) -> str:
    """Netty's message when a 64-byte allocation would pass ``ceiling``."""
    return f"failed to allocate 64 byte(s) of direct memory (used: {ceiling - 64}, max: {ceiling})"


def oom_direct(message: str = OOM_MESSAGE) -> str:
    """The OOM thrown straight out of a queued write: 28 frames."""
    return (f"{OOM_CLASS}: {message}\n"
            + _frames((*_ALLOCATION, _ENCODER_WRITE, *_WRITE_PIPELINE)))


def oom_wrapped(message: str = OOM_MESSAGE) -> str:
    """The same OOM wrapped by ``MessageToByteEncoder.write`` in an EncoderException."""
    outer = ("io.netty.handler.codec.MessageToByteEncoder.write",
             "MessageToByteEncoder.java", 125, NETTY)
    return (f"{ENCODER_EXCEPTION}: {OOM_CLASS}: {message}\n"
            + _frames((outer, *_WRITE_PIPELINE))
            + f"Caused by: {OOM_CLASS}: {message}\n"
            + _frames((*_ALLOCATION, _ENCODER_WRITE))
            + f"\t... {len(_WRITE_PIPELINE)} more\n")


def npe_in_encoder() -> str:
    """The bug: ``encodePacket`` dereferences a null field and the ByteBuf is never released."""
    encoder_write = ("io.netty.handler.codec.MessageToByteEncoder.write",
                     "MessageToByteEncoder.java", 107, NETTY)
    return f"{NPE_CLASS}\n" + _frames((*_NPE_APP, encoder_write, *_WRITE_PIPELINE))
