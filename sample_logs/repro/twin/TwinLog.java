package com.example.twin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.MessageToByteEncoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Writes one run of log events through log4j2 to a text and a JSON appender at once,
 * so logsleuth's text and JSON paths can be compared record by record. Every
 * throwable is real: direct-buffer OOM from java.nio.Bits, Netty's
 * OutOfDirectMemoryError from its own counter, heap OOM, suppressed exceptions.
 * Bounded: a fixed number of events, then it exits.
 */
public final class TwinLog {
    private static final Logger LOG = LogManager.getLogger(TwinLog.class);
    private static final Logger ENC = LogManager.getLogger("com.example.twin.codec.FrameEncoder");
    private static final Logger PIPE = LogManager.getLogger("io.netty.channel.DefaultChannelPipeline");
    private static final Logger STORE = LogManager.getLogger("com.example.twin.store.SessionStore");
    private static final List<ByteBuffer> HELD = new ArrayList<>();

    /** An encoder whose encode() reserves direct memory it never frees (the leak). */
    static final class FrameEncoder extends MessageToByteEncoder<String> {
        @Override
        protected void encode(ChannelHandlerContext ctx, String msg, ByteBuf out) {
            HELD.add(ByteBuffer.allocateDirect(64 * 1024));
            out.writeBytes(msg.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** A resource whose close() fails, to produce suppressed exceptions. */
    static final class Session implements AutoCloseable {
        private final int id;

        Session(int id) {
            this.id = id;
        }

        void write() {
            throw new IllegalStateException("session " + id + " is closed");
        }

        @Override
        public void close() throws IOException {
            throw new IOException("failed to flush session " + id);
        }
    }

    private TwinLog() {}

    static void load(String key) throws IOException {
        try {
            parse(key);
        } catch (NumberFormatException e) {
            throw new IOException("cannot load " + key, e);
        }
    }

    static int parse(String key) {
        return Integer.parseInt(key);
    }

    static void encodeOne(EmbeddedChannel ch, int i) {
        try {
            ch.writeOutbound("frame-" + i);
            ByteBuf out = ch.readOutbound();
            if (out != null) {
                out.release();
            }
        } catch (RuntimeException e) {
            ENC.error("failed to encode frame " + i + " for channel " + ch.id(), e);
        }
    }

    static void nettyCounter() {
        List<ByteBuf> held = new ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) {
                held.add(UnpooledByteBufAllocator.DEFAULT.directBuffer(128 * 1024));
            }
            LOG.warn("netty direct memory counter did not trip");
        } catch (OutOfMemoryError e) {
            PIPE.warn("An exceptionCaught() event was fired, and it reached at the tail of the"
                    + " pipeline. It usually means the last handler in the pipeline did not"
                    + " handle the exception.", e);
        } finally {
            for (ByteBuf b : held) {
                b.release();
            }
        }
    }

    static void suppressed(int id) {
        try (Session s = new Session(id)) {
            s.write();
        } catch (IllegalStateException | IOException e) {
            STORE.error("write to session " + id + " failed", e);
        }
    }

    static void nestedSuppressed(int id) {
        try {
            try (Session s = new Session(id)) {
                s.write();
            } catch (IllegalStateException | IOException e) {
                throw new UncheckedIOException(new IOException("session " + id + " lost", e));
            }
        } catch (UncheckedIOException e) {
            STORE.error("session " + id + " dropped with \"quotes\", tabs\tand ünïcode ✓", e);
        }
    }

    static void heap() {
        try {
            long[] big = new long[64 * 1024 * 1024];
            LOG.info("allocated " + big.length);
        } catch (OutOfMemoryError e) {
            LOG.error("report generation aborted", e);
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        LOG.info("twin run starting: {} rounds", rounds);
        EmbeddedChannel ch = new EmbeddedChannel(new FrameEncoder());
        Thread worker = new Thread(() -> {
            for (int i = 0; i < rounds; i++) {
                LOG.debug("worker tick {}", i);
                if (i % 9 == 4) {
                    try {
                        load("key-" + i);
                    } catch (IOException e) {
                        LOG.warn("cache load failed for key-" + i, e);
                    }
                }
                sleep(7);
            }
        }, "cache-loader-1");
        worker.start();
        for (int i = 0; i < rounds; i++) {
            LOG.info("accepted connection {} from 127.0.0.1:{}", i, 40000 + i);
            encodeOne(ch, i);
            if (i % 10 == 3) {
                suppressed(i);
            }
            if (i % 13 == 7) {
                nestedSuppressed(i);
            }
            if (i == rounds / 2) {
                nettyCounter();
                heap();
            }
            if (i % 17 == 11) {
                String s = i > 1000 ? "x" : null;
                try {
                    LOG.info("length " + s.length());
                } catch (NullPointerException e) {
                    LOG.error("request " + i + " failed", e);
                }
            }
            sleep(11);
        }
        worker.join(10_000);
        ch.finishAndReleaseAll();
        LOG.info("twin run done, {} direct buffers held", HELD.size());
        LogManager.shutdown();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
