package com.example.push;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.AttributeKey;
import io.netty.util.CharsetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.internal.PlatformDependent;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

import java.io.FileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reproduction of the "256 bytes of direct memory per disconnect" incident.
 *
 * A websocket push server. On disconnect it publishes an "offline" presence packet. With
 * -Dpush.bug.leakOnDisconnect=true (the shipped bug) the session is cleared BEFORE the packet is
 * encoded, so PacketEncoder.encodePacket throws a NullPointerException after it has allocated a
 * 256-byte direct ByteBuf; nobody releases that buffer, so every disconnect leaks exactly 256 B
 * (with -Dio.netty.allocator.type=unpooled each allocation goes straight through
 * PlatformDependent.incrementMemoryCounter). Once io.netty.maxDirectMemory is used up every
 * allocation fails with io.netty.util.internal.OutOfDirectMemoryError.
 *
 * Knobs for the validation matrix (sample_logs/repro/matrix.py); the defaults are the bundled
 * sample's: -Dpush.packetSize (bytes per packet buffer, so bytes leaked per disconnect, 256),
 * -Dpush.logCause (log the encoder NPE or swallow it, true), -Dpush.monitorStyle (k, usedmax,
 * bufferpool or kv: how the monitor prints the gauge), -Dpush.errorDetail (repeat an unhandled
 * exception's text in the log message, false), -Dpush.truthFile (a CSV, outside the evidence,
 * where the monitor writes the server's own counters each tick), -Dpush.eventStyle (session or
 * request: how connects and disconnects are worded, session), -Dpush.monitorPeriodMs (1000).
 * Later knobs (s9, off unless set): -Dpush.eventStyle=closed ("Session opened/closed: id=..."),
 * -Dpush.rareLeakBytes with -Dpush.rareLeakPercent (a "Handshake timeout" path taken by that
 * share of connections, which holds a direct buffer of that size and never frees it: the leaking
 * event is then the timeout, and the truth file counts timeouts), -Dpush.sessionBufferBytes (a
 * direct staging buffer held by every live session and released when it closes: memory that
 * follows concurrency, not a leak).
 * The session id is also in the MDC (ThreadContext "sid") while a session is logged about, for
 * layouts that print it.
 */
public final class PushServer {
    private static final Logger LOG = LogManager.getLogger(PushServer.class);

    public static void main(String[] args) throws Exception {
        int port = Integer.getInteger("push.port", 18081);
        boolean leakOnDisconnect = Boolean.parseBoolean(System.getProperty("push.bug.leakOnDisconnect", "true"));
        LOG.info("PushServer starting: port={} leakOnDisconnect={} io.netty.maxDirectMemory={} io.netty.allocator.type={} java={} tz={}",
                port, leakOnDisconnect, PlatformDependent.maxDirectMemory(),
                System.getProperty("io.netty.allocator.type"), System.getProperty("java.version"),
                java.util.TimeZone.getDefault().getID());
        LOG.info("Netty direct memory accounting: usesDirectBufferNoCleaner={} hasUnsafe={}",
                PlatformDependent.useDirectBufferNoCleaner(), PlatformDependent.hasUnsafe());
        boolean logCause = Boolean.parseBoolean(System.getProperty("push.logCause", "true"));

        SessionRegistry registry = new SessionRegistry();
        PacketEncoder encoder = new PacketEncoder();
        EventLoopGroup boss = new NioEventLoopGroup(1, new DefaultThreadFactory("push-boss"));
        EventLoopGroup workers = new NioEventLoopGroup(4, new DefaultThreadFactory("push-worker"));
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1, new DefaultThreadFactory("push-scheduler"));
        DirectMemoryMonitor monitor = new DirectMemoryMonitor();
        monitor.start();
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ChannelPipeline p = ch.pipeline();
                            p.addLast("http", new HttpServerCodec());
                            p.addLast("aggregator", new HttpObjectAggregator(8192));
                            p.addLast("rest", new HttpRequestHandler());
                            p.addLast("ws", new WebSocketServerProtocolHandler("/ws", null, true, 65536, false, true));
                            p.addLast("push", new PushHandler(registry, encoder, leakOnDisconnect, logCause));
                        }
                    });
            Channel server = b.bind("127.0.0.1", port).sync().channel();
            LOG.info("PushServer listening on 127.0.0.1:{}", port);
            scheduler.scheduleAtFixedRate(() -> registry.pushQuotes(encoder), 500, 500, TimeUnit.MILLISECONDS);
            scheduler.scheduleAtFixedRate(() -> registry.heartbeat(), 1000, 1000, TimeUnit.MILLISECONDS);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                LOG.info("Shutdown requested, closing {} sessions", registry.size());
                monitor.interrupt();
                scheduler.shutdownNow();
                server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
                workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
                boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
                LOG.info("PushServer stopped");
                LogManager.shutdown();
            }, "push-shutdown"));
            server.closeFuture().sync();
        } finally {
            scheduler.shutdownNow();
            workers.shutdownGracefully();
            boss.shutdownGracefully();
        }
    }
}

/** One websocket client; userName is what the presence packets carry. */
final class Session {
    final String id;
    final Channel channel;
    final long connectedAt = System.currentTimeMillis();
    volatile String userName;
    volatile boolean closed;
    /** -Dpush.sessionBufferBytes: a staging buffer for this session's output, freed on close. */
    volatile ByteBuf staging;
    private final AtomicInteger seq = new AtomicInteger();

    Session(String id, String userName, Channel channel) {
        this.id = id;
        this.userName = userName;
        this.channel = channel;
    }

    int nextSeq() {
        return seq.incrementAndGet();
    }

    /** Logout: drops user state so the session can be garbage collected. */
    void clear() {
        closed = true;
        userName = null;
    }
}

/** A small application packet: type byte + text body. */
final class Packet {
    static final byte WELCOME = 1;
    static final byte QUOTE = 2;
    static final byte PRESENCE = 3;
    static final byte ACK = 4;

    final byte type;
    final String body;

    Packet(byte type, String body) {
        this.type = type;
        this.body = body;
    }
}

/** Encodes packets into a fixed-size direct buffer (256 B unless -Dpush.packetSize says otherwise). */
final class PacketEncoder {
    static final int PACKET_SIZE = Integer.getInteger("push.packetSize", 256);

    ByteBuf encodePacket(ByteBufAllocator alloc, Session session, Packet packet) {
        ByteBuf buf = alloc.directBuffer(PACKET_SIZE, PACKET_SIZE);
        buf.writeByte(packet.type);
        buf.writeInt(session.nextSeq());
        byte[] user = session.userName.getBytes(StandardCharsets.UTF_8);
        buf.writeByte(user.length);
        buf.writeBytes(user);
        byte[] body = packet.body.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(body.length, buf.writableBytes() - 2);
        buf.writeShort(n);
        buf.writeBytes(body, 0, n);
        return buf;
    }
}

/** Live sessions plus the periodic quote push and heartbeat. */
final class SessionRegistry {
    private static final Logger LOG = LogManager.getLogger(SessionRegistry.class);
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final ChannelGroup presenceSubscribers = new DefaultChannelGroup("presence", GlobalEventExecutor.INSTANCE);
    private final AtomicLong quoteSeq = new AtomicLong();

    void add(Session s) {
        sessions.put(s.id, s);
        presenceSubscribers.add(s.channel);
    }

    void remove(Session s) {
        sessions.remove(s.id);
    }

    int size() {
        return sessions.size();
    }

    void broadcastPresence(ByteBuf packet) {
        presenceSubscribers.writeAndFlush(new BinaryWebSocketFrame(packet));
    }

    /** Pushes a quote to every session, on the session's own event loop so it never races a disconnect. */
    void pushQuotes(PacketEncoder encoder) {
        long seq = quoteSeq.incrementAndGet();
        double price = 100 + ThreadLocalRandom.current().nextGaussian();
        String body = String.format("{\"sym\":\"ACME\",\"px\":%.4f,\"seq\":%d}", price, seq);
        for (Session s : sessions.values()) {
            s.channel.eventLoop().execute(() -> {
                if (s.closed || !s.channel.isActive()) {
                    return;
                }
                try {
                    ByteBuf buf = encoder.encodePacket(s.channel.alloc(), s, new Packet(Packet.QUOTE, body));
                    s.channel.writeAndFlush(new BinaryWebSocketFrame(buf));
                    LOG.debug("Pushed quote seq={} to sessionId={}", seq, s.id);
                } catch (Throwable t) {
                    LOG.error("Failed to push quote seq={} to sessionId={}", seq, s.id, t);
                }
            });
        }
    }

    /** Sends a 64-byte ping to each session. */
    void heartbeat() {
        for (Session s : sessions.values()) {
            s.channel.eventLoop().execute(() -> {
                if (s.closed || !s.channel.isActive()) {
                    return;
                }
                try {
                    ByteBuf ping = s.channel.alloc().directBuffer(64, 64);
                    ping.writeLong(System.currentTimeMillis());
                    s.channel.writeAndFlush(new PingWebSocketFrame(ping));
                } catch (Throwable t) {
                    LOG.error("Heartbeat failed for sessionId={}", s.id, t);
                }
            });
        }
    }
}

/** Plain HTTP: /health answers 200, /ws goes on to the websocket handshake. */
final class HttpRequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    HttpRequestHandler() {
        super(false);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        String path = new QueryStringDecoder(req.uri()).path();
        if ("/ws".equals(path)) {
            ctx.fireChannelRead(req);
            return;
        }
        try {
            HttpResponseStatus status = "/health".equals(path) ? HttpResponseStatus.OK : HttpResponseStatus.NOT_FOUND;
            ByteBuf body = ctx.alloc().buffer();
            body.writeCharSequence("{\"status\":\"" + (status == HttpResponseStatus.OK ? "UP" : "NOT_FOUND") + "\"}\n", CharsetUtil.UTF_8);
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
        } finally {
            ReferenceCountUtil.release(req);
        }
    }
}

/** Websocket session lifecycle: connect, client messages, disconnect with presence broadcast. */
final class PushHandler extends SimpleChannelInboundHandler<Object> {
    private static final Logger LOG = LogManager.getLogger(PushHandler.class);
    private static final AttributeKey<Session> SESSION = AttributeKey.valueOf("session");
    private static final AtomicLong USERS = new AtomicLong();
    /** Ground truth kept by the server itself: disconnects logged, and buffers lost to the NPE. */
    static final AtomicLong DISCONNECTS = new AtomicLong();
    static final AtomicLong LEAKED_BUFFERS = new AtomicLong();
    /** -Dpush.rareLeakBytes: handshake timeouts taken, and the bytes they hold forever. */
    static final int RARE_LEAK_BYTES = Integer.getInteger("push.rareLeakBytes", 0);
    static final double RARE_LEAK_PERCENT = Double.parseDouble(System.getProperty("push.rareLeakPercent", "5"));
    static final AtomicLong RARE_EVENTS = new AtomicLong();
    private static final java.util.List<ByteBuf> TIMED_OUT = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    static final int SESSION_BUFFER_BYTES = Integer.getInteger("push.sessionBufferBytes", 0);
    /** Bytes the live sessions' staging buffers hold now (truth file only, with a session buffer). */
    static final AtomicLong SESSION_HELD = new AtomicLong();
    /** The leaking event's count and the bytes it lost, as the truth file records them. */
    static long leakEvents() {
        return RARE_LEAK_BYTES > 0 ? RARE_EVENTS.get() : DISCONNECTS.get();
    }
    static long leakedBytes() {
        return LEAKED_BUFFERS.get() * PacketEncoder.PACKET_SIZE + RARE_EVENTS.get() * RARE_LEAK_BYTES;
    }
    private static final boolean ERROR_DETAIL = Boolean.getBoolean("push.errorDetail");
    /** session: "Client connected: ..." / "Client disconnected: ..."; request: an access-log wording. */
    private static final boolean REQUEST_STYLE = "request".equals(System.getProperty("push.eventStyle", "session"));
    private static final boolean CLOSED_STYLE = "closed".equals(System.getProperty("push.eventStyle", "session"));

    private final SessionRegistry registry;
    private final PacketEncoder encoder;
    private final boolean leakOnDisconnect;
    private final boolean logCause;

    PushHandler(SessionRegistry registry, PacketEncoder encoder, boolean leakOnDisconnect, boolean logCause) {
        this.registry = registry;
        this.encoder = encoder;
        this.leakOnDisconnect = leakOnDisconnect;
        this.logCause = logCause;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            WebSocketServerProtocolHandler.HandshakeComplete hs = (WebSocketServerProtocolHandler.HandshakeComplete) evt;
            String user = new QueryStringDecoder(hs.requestUri()).parameters()
                    .getOrDefault("user", java.util.List.of("user-" + USERS.incrementAndGet())).get(0);
            String id = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
            Session s = new Session(id, user, ctx.channel());
            ctx.channel().attr(SESSION).set(s);
            registry.add(s);
            ThreadContext.put("sid", id);
            try {
                if (REQUEST_STYLE) {
                    LOG.info("Upgraded to websocket uri={} user={} remote={}", hs.requestUri(), user, ctx.channel().remoteAddress());
                } else if (CLOSED_STYLE) {
                    LOG.info("Session opened: id={} user={} remote={}", id, user, ctx.channel().remoteAddress());
                } else {
                    LOG.info("Client connected: sessionId={} user={} remote={} sessions={}", id, user, ctx.channel().remoteAddress(), registry.size());
                }
            } finally {
                ThreadContext.remove("sid");
            }
            if (SESSION_BUFFER_BYTES > 0) {
                s.staging = ctx.alloc().directBuffer(SESSION_BUFFER_BYTES, SESSION_BUFFER_BYTES);
                SESSION_HELD.addAndGet(SESSION_BUFFER_BYTES);
            }
            if (RARE_LEAK_BYTES > 0 && ThreadLocalRandom.current().nextDouble(100.0) < RARE_LEAK_PERCENT) {
                // BUG: the pending-auth buffer of a timed-out handshake is parked and never freed
                ByteBuf pending = ctx.alloc().directBuffer(RARE_LEAK_BYTES, RARE_LEAK_BYTES);
                TIMED_OUT.add(pending);
                RARE_EVENTS.incrementAndGet();
                LOG.warn("Handshake timeout: sessionId={} user={} sent no auth frame within 3000 ms, closing", id, user);
                ctx.close();
                return;
            }
            ByteBuf welcome = encoder.encodePacket(ctx.alloc(), s, new Packet(Packet.WELCOME, "welcome " + user));
            ctx.writeAndFlush(new BinaryWebSocketFrame(welcome));
        } else {
            super.userEventTriggered(ctx, evt);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        Session s = ctx.channel().attr(SESSION).get();
        if (msg instanceof TextWebSocketFrame && s != null) {
            String text = ((TextWebSocketFrame) msg).text();
            LOG.debug("Message from sessionId={}: {}", s.id, text);
            ByteBuf ack = encoder.encodePacket(ctx.alloc(), s, new Packet(Packet.ACK, "ack " + text.length()));
            ctx.writeAndFlush(new BinaryWebSocketFrame(ack));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        Session s = ctx.channel().attr(SESSION).get();
        if (s != null) {
            registry.remove(s);
            ThreadContext.put("sid", s.id);
            ByteBuf staging = s.staging;
            if (staging != null) {
                s.staging = null;
                staging.release();
                SESSION_HELD.addAndGet(-SESSION_BUFFER_BYTES);
            }
            if (REQUEST_STYLE) {
                LOG.info("Request completed uri=/ws status=101 durationMs={} bytesOut={}",
                        System.currentTimeMillis() - s.connectedAt, 128 + (s.id.hashCode() & 0x3ff));
            } else if (CLOSED_STYLE) {
                LOG.info("Session closed: id={} user={} after {} ms", s.id, s.userName,
                        System.currentTimeMillis() - s.connectedAt);
            } else {
                LOG.info("Client disconnected: sessionId={} user={} durationMs={} sessions={}",
                        s.id, s.userName, System.currentTimeMillis() - s.connectedAt, registry.size());
            }
            DISCONNECTS.incrementAndGet();
            String user = s.userName;
            if (leakOnDisconnect) {
                s.clear(); // BUG: state cleared before the offline notice below is encoded
            }
            try {
                ByteBuf presence = encoder.encodePacket(ctx.alloc(), s, new Packet(Packet.PRESENCE, "offline " + user));
                registry.broadcastPresence(presence);
            } catch (Exception e) {
                if (e instanceof NullPointerException) {
                    LEAKED_BUFFERS.incrementAndGet(); // encodePacket allocated before it threw
                }
                if (logCause) {
                    LOG.error("Failed to publish offline presence for sessionId={}", s.id, e);
                }
            }
            ThreadContext.remove("sid");
            s.clear();
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Session s = ctx.channel().attr(SESSION).get();
        if (ERROR_DETAIL) { // the habit of putting the error's text in the message as well
            LOG.error("Unhandled exception on channel {} sessionId={}: {}", ctx.channel().remoteAddress(), s == null ? "-" : s.id, cause.toString(), cause);
        } else {
            LOG.error("Unhandled exception on channel {} sessionId={}", ctx.channel().remoteAddress(), s == null ? "-" : s.id, cause);
        }
        ctx.close();
    }
}

/**
 * Logs direct memory once per second (-Dpush.monitorPeriodMs): netty's DIRECT_MEMORY_COUNTER
 * when netty counts its own allocations, else the JDK's "direct" BufferPoolMXBean (buffers
 * whose memory the JDK reserves and a Cleaner frees). -Dpush.monitorStyle picks the line:
 * k = "netty_direct_memory: <KiB>k", usedmax = "directMemory used=<B> max=<B>",
 * bufferpool = "BufferPool direct: count=<n> used=<B> capacity=<B>",
 * kv = "direct: count=<n> used=<B> capacity=<B> bytes", prom = a Prometheus exposition sample
 * "jvm_buffer_memory_used_bytes{id="direct",} <B as a Java double>", mb = "DirectMemory:
 * used=<MiB, 2 decimals>MB max=<MiB>MB" (the /1024/1024 habit), kib = "Direct buffers: <KiB,
 * 1 decimal> KiB in use (limit <KiB> KiB)".
 */
final class DirectMemoryMonitor extends Thread {
    private static final Logger LOG = LogManager.getLogger(loggerName());

    /** The logger a metrics library would print through (the monitor's own otherwise). */
    private static String loggerName() {
        switch (System.getProperty("push.monitorStyle", "k")) {
            case "micrometer":
                return "io.micrometer.core.instrument.logging.LoggingMeterRegistry";
            case "dropwizard":
                return "metrics";
            default:
                return "com.example.push.metrics";
        }
    }

    /** Micrometer's humanReadableByteCount: B below 1 KiB, else KiB/MiB/... with up to 4 decimals. */
    private static String humanBytes(long bytes) {
        java.text.DecimalFormat df = new java.text.DecimalFormat("#.####",
                java.text.DecimalFormatSymbols.getInstance(java.util.Locale.US));
        if (bytes < 1024) {
            return df.format(bytes) + " B";
        }
        int exp = (int) (Math.log(bytes) / Math.log(1024));
        return df.format(bytes / Math.pow(1024, exp)) + " " + "KMGTPE".charAt(exp - 1) + "iB";
    }

    DirectMemoryMonitor() {
        super("direct-memory-monitor");
        setDaemon(true);
    }

    private static BufferPoolMXBean jdkDirectPool() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if ("direct".equals(pool.getName())) {
                return pool;
            }
        }
        return null;
    }

    @Override
    public void run() {
        AtomicLong counter;
        try {
            Field f = PlatformDependent.class.getDeclaredField("DIRECT_MEMORY_COUNTER");
            f.setAccessible(true);
            counter = (AtomicLong) f.get(null);
        } catch (ReflectiveOperationException e) {
            LOG.error("Cannot read PlatformDependent.DIRECT_MEMORY_COUNTER", e);
            return;
        }
        BufferPoolMXBean pool = jdkDirectPool();
        String style = System.getProperty("push.monitorStyle", "k");
        long period = Long.getLong("push.monitorPeriodMs", 1000L);
        if (counter == null) {
            LOG.warn("Netty direct memory counter is disabled; no netty_direct_memory metric");
            if (pool == null || "k".equals(style)) {
                return;
            }
        }
        long max = PlatformDependent.maxDirectMemory();
        PrintWriter truth = openTruth(max);
        while (!isInterrupted()) {
            long nettyUsed = counter == null ? -1 : counter.get();
            long jdkUsed = pool == null ? -1 : pool.getMemoryUsed();
            long jdkCount = pool == null ? -1 : pool.getCount();
            long jdkCapacity = pool == null ? -1 : pool.getTotalCapacity();
            long used = counter != null ? nettyUsed : jdkUsed;
            if (truth != null) {
                truth.printf("%d,%d,%d,%d,%d,%d%s%n", System.currentTimeMillis(), PushHandler.leakEvents(),
                        PushHandler.leakedBytes(), nettyUsed, jdkUsed, jdkCount,
                        PushHandler.SESSION_BUFFER_BYTES > 0 ? "," + PushHandler.SESSION_HELD.get() : "");
                truth.flush();
            }
            switch (style) {
                case "usedmax":
                    LOG.info("directMemory used={} max={}", used, max);
                    break;
                case "bufferpool":
                    LOG.info("BufferPool direct: count={} used={} capacity={}", jdkCount, jdkUsed, jdkCapacity);
                    break;
                case "kv":
                    LOG.info("direct: count={} used={} capacity={} bytes", jdkCount, jdkUsed, jdkCapacity);
                    break;
                case "prom":
                    LOG.info("jvm_buffer_memory_used_bytes{id=\"direct\",} " + Double.toString((double) used));
                    break;
                case "mb":
                    LOG.info(String.format(java.util.Locale.ROOT, "DirectMemory: used=%.2fMB max=%.2fMB",
                            used / 1048576.0, max / 1048576.0));
                    break;
                case "micrometer": // LoggingMeterRegistry's look for a custom meter (DecimalFormat #.####)
                    LOG.info("netty.direct.memory.used{allocator=" + System.getProperty("io.netty.allocator.type")
                            + ",app=push-server} value=" + humanBytes(used));
                    break;
                case "dropwizard": // Slf4jReporter's gauge line
                    LOG.info("type=GAUGE, name=netty.direct.used, value={}", used);
                    break;
                case "kib":
                    LOG.info(String.format(java.util.Locale.ROOT, "Direct buffers: %.1f KiB in use (limit %.1f KiB)",
                            used / 1024.0, max / 1024.0));
                    break;
                default:
                    LOG.info("netty_direct_memory: {}k", used / 1024);
            }
            if (used > max * 3 / 4) {
                LOG.warn("Direct memory usage high: used={} max={} ({}%), requesting System.gc()", used, max, used * 100 / max);
                System.gc();
            }
            try {
                Thread.sleep(period);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The server's own ground truth, written outside the evidence (null when not asked for). */
    private static PrintWriter openTruth(long max) {
        String path = System.getProperty("push.truthFile");
        if (path == null) {
            return null;
        }
        try {
            PrintWriter w = new PrintWriter(new FileWriter(path, true));
            w.printf("# packet_size=%d max_direct_memory=%d leak_on_disconnect=%s%s%n", PacketEncoder.PACKET_SIZE, max,
                    System.getProperty("push.bug.leakOnDisconnect", "true"),
                    PushHandler.RARE_LEAK_BYTES > 0 ? " event_leak_bytes=" + PushHandler.RARE_LEAK_BYTES + " event=handshake-timeout" : "");
            w.println("epoch_ms,disconnects,leaked_bytes,netty_counter,jdk_direct_used,jdk_direct_count"
                    + (PushHandler.SESSION_BUFFER_BYTES > 0 ? ",session_held" : ""));
            return w;
        } catch (IOException e) {
            LOG.error("Cannot write truth file {}", path, e);
            return null;
        }
    }
}
