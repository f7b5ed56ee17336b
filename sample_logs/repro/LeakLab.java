package com.example.leaklab;

import java.io.File;
import java.io.FileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Small JVM resource exhaustion runs for logsleuth's validation (resources.py drives it).
 *
 * One mode per run (system property lab.mode):
 *   heap       every closed session keeps lab.leakBytes bytes in a static list (a leak)
 *   undersized a fixed working set that nearly fills a small heap, high allocation rate, no leak
 *   metaspace  every plugin reload defines a class in a new URLClassLoader that is never released
 *   threads    every submitted job starts a thread that never ends
 *   pool       every exported order takes a HikariCP connection and never closes it
 *   fd         every handled upload leaves its checksum stream open (one file descriptor);
 *              requests open and close theirs; a monitor logs the open descriptor count
 *   direct     every closed session keeps a ByteBuffer.allocateDirect(lab.leakBytes) (no
 *              netty); a monitor logs the BufferPoolMXBean "direct" pool every 500 ms
 *   step       healthy and busy: a high allocation rate, one cache loaded once at
 *              lab.stepAtMs (the live set steps up, then stays flat) followed by
 *              lab.fullGcs System.gc() calls; nothing leaks
 *   console    a thread leak on its own schedule (jobs come independently of requests),
 *              each parked job thread holding lab.leakBytes of heap: the heap ends full;
 *              logged to the console, where the JVM's own output lands too
 * The application log says nothing about memory. Ground truth goes to lab.truthFile (outside
 * the evidence): per 250 ms, the counters of the run and the JVM's own view of the resource.
 * Every run is bounded by lab.seconds and ends by itself; nothing listens on a network.
 */
public final class LeakLab {
  private static final Logger LOG = LogManager.getLogger("com.example.leaklab.Server");
  private static final List<Object> RETAINED = new ArrayList<>();
  private static final AtomicLong REQUESTS = new AtomicLong();
  private static final AtomicLong EVENTS = new AtomicLong();
  private static final AtomicLong LEAKED = new AtomicLong();
  private static final AtomicLong OOMS = new AtomicLong();
  private static final AtomicLong UNLOGGED = new AtomicLong();
  private static volatile long firstOomMs = -1;
  private static volatile Object sink;
  private static Uploads uploads;

  public static void main(String[] args) throws Exception {
    String mode = System.getProperty("lab.mode", "heap");
    long seconds = Long.getLong("lab.seconds", 30);
    long afterOomMs = Long.getLong("lab.afterOomMs", 2500);
    int leakBytes = Integer.getInteger("lab.leakBytes", 2048);
    int leakChunks = Integer.getInteger("lab.leakChunks", 1);  // >1: many small objects
    boolean executors = System.getProperty("lab.threadStyle", "thread").equals("executor");
    int rate = Integer.getInteger("lab.rate", 400);  // requests per second
    long seed = Long.getLong("lab.seed", 7);
    LOG.info("LeakLab starting mode={} JVM arguments: {}", mode,
        String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
    // a missing optional file, as services meet at startup (it also loads the logger's
    // exception rendering before the metaspace run leaves no room to load it)
    LOG.warn("Optional overrides not loaded", new java.io.FileNotFoundException("overrides.yml"));
    Thread truth = new Thread(() -> truthLoop(System.getProperty("lab.truthFile")), "truth");
    truth.setDaemon(true);
    truth.start();
    if (mode.equals("direct")) {
      Thread monitor = new Thread(LeakLab::bufferMonitor, "buffer-monitor");
      monitor.setDaemon(true);
      monitor.start();
    }
    long stepAt = Long.getLong("lab.stepAtMs", 12000);
    boolean stepped = false;
    if (mode.equals("fd")) {
      uploads = new Uploads(new File(System.getProperty("lab.spoolDir")));
      Thread monitor = new Thread(LeakLab::fdMonitor, "resource-monitor");
      monitor.setDaemon(true);
      monitor.start();
    }
    Random rnd = new Random(seed);
    long start = System.currentTimeMillis();
    long end = start + seconds * 1000;
    int sessionLeft = 1 + rnd.nextInt(8);
    long session = 1;
    int requests = 0;
    if (mode.equals("undersized")) {
      long cache = Long.getLong("lab.cacheBytes", 20L << 20);
      for (long b = 0; b < cache; b += 4096) {
        RETAINED.add(new byte[4096 - 16]);
      }
      LOG.info("Cache warmed entries={}", RETAINED.size());
    }
    while (System.currentTimeMillis() < end
        && (firstOomMs < 0 || System.currentTimeMillis() < firstOomMs + afterOomMs)) {
      // the load varies second by second, so events that occur at different ratios differ
      long sec = (System.currentTimeMillis() - start) / 1000;
      int perSec = Math.max(10, (int) (rate * (0.5 + ((sec * 7919) % 10) / 10.0)));
      long id = REQUESTS.incrementAndGet();
      try {
        if (mode.equals("step") && !stepped && System.currentTimeMillis() - start >= stepAt) {
          stepped = true;  // one cache load, once: the live set steps up and stays there
          long cache = Long.getLong("lab.cacheBytes", 24L << 20);
          for (long b = 0; b < cache; b += 4096) {
            RETAINED.add(new byte[4096 - 16]);
          }
          EVENTS.incrementAndGet();
          LEAKED.addAndGet(cache);
          LOG.info("Cache loaded entries={} bytes={}", RETAINED.size(), cache);
          for (int i = 0, n = Integer.getInteger("lab.fullGcs", 3); i < n; i++) {
            System.gc();  // the loader compacts after the load, as some services do
          }
        }
        switch (mode) {
          case "heap" -> {
            work(8);  // the work of the request: garbage, released when it returns or fails
            requests++;
            LOG.info("Request handled id={} path=/api/items status=200", id);
            if (--sessionLeft == 0) {
              sessionLeft = 1 + rnd.nextInt(8);
              RETAINED.add(leakChunks <= 1 ? new byte[leakBytes]  // the leak: session state
                  : chunks(leakChunks, leakBytes / leakChunks));     // kept forever
              EVENTS.incrementAndGet();
              LEAKED.addAndGet(leakBytes);
              LOG.info("Session closed session={} requests={}", session++, requests);
              requests = 0;
            }
          }
          case "direct" -> {
            work(8);
            requests++;
            LOG.info("Request handled id={} path=/api/stream status=200", id);
            if (--sessionLeft == 0) {
              sessionLeft = 1 + rnd.nextInt(8);
              // the session's socket buffer, kept in the session registry forever
              RETAINED.add(ByteBuffer.allocateDirect(leakBytes));
              EVENTS.incrementAndGet();
              LEAKED.addAndGet(leakBytes);
              LOG.info("Session closed session={} requests={}", session++, requests);
              requests = 0;
            }
          }
          case "step" -> {
            sink = new byte[64 * 1024];  // a high allocation rate, all of it short-lived
            work(8);
            LOG.info("Request handled id={} path=/api/search status=200", id);
            if (--sessionLeft == 0) {
              sessionLeft = 1 + rnd.nextInt(8);
              LOG.info("Session closed session={}", session++);
            }
          }
          case "console" -> {
            work(8);
            LOG.info("Request handled id={} path=/api/jobs status=200", id);
            // jobs come on their own schedule, not as a share of the requests
            if (rnd.nextInt(1000) < 40 + ((sec * 4111) % 13) * 25) {
              long job = session++;
              byte[] held = new byte[leakBytes];  // the job's buffer, held while it waits
              Thread t = new Thread(() -> {
                while (held.length > 0) {
                  LockSupport.park();  // waits for a completion signal that never comes
                }
              }, "job-worker-" + job);
              t.setDaemon(true);
              t.start();
              EVENTS.incrementAndGet();
              LEAKED.addAndGet(leakBytes);
              LOG.info("Job submitted job={} worker={}", job, t.getName());
            }
          }
          case "undersized" -> {
            sink = new byte[64 * 1024];  // a high allocation rate into a nearly full heap
            RETAINED.set((int) (id % RETAINED.size()), new byte[4096 - 16]);  // churn, no growth
            LOG.info("Request handled id={} path=/api/report status=200", id);
            if (--sessionLeft == 0) {
              sessionLeft = 1 + rnd.nextInt(8);
              EVENTS.incrementAndGet();
              LOG.info("Session closed session={}", session++);
            }
          }
          case "metaspace" -> {
            work(8);
            LOG.info("Request handled id={} path=/api/plugins status=200", id);
            if (--sessionLeft == 0) {
              sessionLeft = 1 + rnd.nextInt(8);
              URL[] cp = {new File(System.getProperty("lab.pluginDir")).toURI().toURL()};
              URLClassLoader loader = new URLClassLoader(cp, null);
              Class<?> c = Class.forName("com.example.leaklab.Plugin", true, loader);
              RETAINED.add(c);  // a class pins its loader, and the loader all it defined
              EVENTS.incrementAndGet();
              LOG.info("Plugin reloaded name=plugin-{} loader={}", session++,
                  Integer.toHexString(System.identityHashCode(loader)));
            }
          }
          case "threads" -> {
            work(8);
            LOG.info("Request handled id={} path=/api/jobs status=202", id);
            if (--sessionLeft == 0) {
              sessionLeft = 1 + rnd.nextInt(8);
              long job = session++;
              String worker;
              if (executors) {  // a pool per job, never shut down: its idle worker stays
                java.util.concurrent.ExecutorService ex =
                    java.util.concurrent.Executors.newFixedThreadPool(1);
                java.util.concurrent.Future<String> f =
                    ex.submit(() -> Thread.currentThread().getName());
                RETAINED.add(ex);
                worker = f.get();
              } else {
                Thread t = new Thread(() -> {
                  while (true) {
                    LockSupport.park();  // waits for a completion signal that never comes
                  }
                }, "job-worker-" + job);
                t.setDaemon(true);
                t.start();
                worker = t.getName();
              }
              EVENTS.incrementAndGet();
              LOG.info("Job submitted job={} worker={}", job, worker);
            }
          }
          case "pool" -> {
            work(2);
            LOG.info("Request handled id={} path=/api/orders status=200", id);
            try (java.sql.Connection c = Pool.get().getConnection()) {
              c.isValid(1);  // a query's worth of use, returned at once
            }
            if (--sessionLeft == 0) {
              sessionLeft = 1 + rnd.nextInt(8) * 4;
              Pool.LEAKED.add(Pool.get().getConnection());  // the export forgets close()
              EVENTS.incrementAndGet();
              LEAKED.incrementAndGet();
              LOG.info("Order exported order={}", session++);
            }
          }
          case "fd" -> {
            try {
              uploads.read();  // the request reads a stored file and closes it
              LOG.info("Request handled id={} path=/api/files status=200", id);
            } catch (IOException e) {
              failed();
              LOG.error("Request failed id={}", id, e);
            }
            // uploads come on their own schedule, not as a share of the requests
            if (rnd.nextInt(1000) < 40 + ((sec * 4111) % 13) * 25) {
              long upload = session++;
              try {
                uploads.handle();
                EVENTS.incrementAndGet();
                LEAKED.incrementAndGet();
                LOG.info("Upload handled upload={} bytes={}", upload, Uploads.PAYLOAD);
              } catch (IOException e) {
                failed();
                LOG.error("Upload failed upload={}: {}", upload, e.toString());  // no trace
              }
            }
          }
          default -> throw new IllegalArgumentException(mode);
        }
      } catch (java.sql.SQLException | java.util.concurrent.ExecutionException e) {
        LOG.error("Request failed id={}", id, e);
      } catch (OutOfMemoryError e) {
        if (firstOomMs < 0) {
          firstOomMs = System.currentTimeMillis();
        }
        OOMS.incrementAndGet();
        try {
          LOG.error("Request failed id={}", id, e);
        } catch (OutOfMemoryError again) {
          UNLOGGED.incrementAndGet();  // the logger itself could not allocate: not in the log
        }
      }
      LockSupport.parkNanos(1_000_000_000L / perSec);
    }
    LOG.info("LeakLab stopping requests={} events={} ooms={} unlogged={}", REQUESTS.get(),
        EVENTS.get(), OOMS.get(), UNLOGGED.get());
    Thread.sleep(400);  // one more truth row
    System.exit(0);
  }

  /** The first failure starts the run's last lab.afterOomMs. */
  private static void failed() {
    if (firstOomMs < 0) {
      firstOomMs = System.currentTimeMillis();
    }
    OOMS.incrementAndGet();
  }

  /** One event's leaked state as many small objects (what makes a full GC's marking slow). */
  private static byte[][] chunks(int n, int size) {
    byte[][] parts = new byte[n][];
    for (int i = 0; i < n; i++) {
      parts[i] = new byte[size];
    }
    return parts;
  }

  /** A request's working set: chunks that are garbage once it returns, or once it fails. */
  private static void work(int chunks) {
    List<byte[]> parts = new ArrayList<>();
    for (int i = 0; i < chunks; i++) {
      parts.add(new byte[16 * 1024]);
    }
    sink = parts;
  }

  /** What a service's own health logger prints every 500 ms: its descriptors and threads. */
  private static void fdMonitor() {
    var os = (com.sun.management.UnixOperatingSystemMXBean)
        ManagementFactory.getOperatingSystemMXBean();
    while (true) {
      try {
        LOG.info("Resource usage: openFileDescriptors={} maxFileDescriptors={} threads={}",
            os.getOpenFileDescriptorCount(), os.getMaxFileDescriptorCount(),
            ManagementFactory.getThreadMXBean().getThreadCount());
      } catch (RuntimeException | Error e) {  // reading /proc/self/fd needs a descriptor too
        LOG.warn("Resource usage not available", e);
      }
      LockSupport.parkNanos(500_000_000L);
    }
  }

  /** A service's own health line for the JDK's direct buffer pool, every 500 ms. */
  private static void bufferMonitor() {
    while (true) {
      for (java.lang.management.BufferPoolMXBean p
          : ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
        if (p.getName().equals("direct")) {
          LOG.info("NIO direct buffers: count={} memoryUsed={} totalCapacity={}",
              p.getCount(), p.getMemoryUsed(), p.getTotalCapacity());
        }
      }
      LockSupport.parkNanos(500_000_000L);
    }
  }

  private static long directUsed() {
    for (java.lang.management.BufferPoolMXBean p
        : ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
      if (p.getName().equals("direct")) {
        return p.getMemoryUsed();
      }
    }
    return -1;
  }

  private static long openFds() {
    try {
      return ((com.sun.management.UnixOperatingSystemMXBean)
          ManagementFactory.getOperatingSystemMXBean()).getOpenFileDescriptorCount();
    } catch (RuntimeException | Error e) {
      return -1;  // at the limit even /proc/self/fd cannot be opened
    }
  }

  private static void truthLoop(String path) {
    List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans();
    try (PrintWriter out = new PrintWriter(new FileWriter(path))) {
      out.println("ms,requests,events,leaked_bytes,ooms,unlogged,heap_used,old_after_gc,metaspace_used,"
          + "classes_loaded,threads,fds,direct_used");
      while (true) {
        long oldAfter = -1;
        long meta = -1;
        for (MemoryPoolMXBean p : pools) {
          String n = p.getName();
          if (p.getType() == MemoryType.HEAP && (n.contains("Old") || n.contains("Tenured"))
              && p.getCollectionUsage() != null) {
            oldAfter = p.getCollectionUsage().getUsed();
          }
          if (n.equals("Metaspace")) {
            meta = p.getUsage().getUsed();
          }
        }
        out.printf("%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d%n", System.currentTimeMillis(),
            REQUESTS.get(), EVENTS.get(), LEAKED.get(), OOMS.get(), UNLOGGED.get(),
            ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), oldAfter, meta,
            ManagementFactory.getClassLoadingMXBean().getLoadedClassCount(),
            ManagementFactory.getThreadMXBean().getThreadCount(), openFds(), directUsed());
        out.flush();
        Thread.sleep(250);
      }
    } catch (IOException | InterruptedException | OutOfMemoryError e) {
      // the truth stops where the JVM cannot go on; the rows written so far stand
    }
  }
}

/** A HikariCP pool over a DataSource that needs no database (the pool is what is studied). */
final class Pool {
  static final List<java.sql.Connection> LEAKED = new ArrayList<>();
  private static com.zaxxer.hikari.HikariDataSource ds;

  static synchronized com.zaxxer.hikari.HikariDataSource get() {
    if (ds == null) {
      com.zaxxer.hikari.HikariConfig cfg = new com.zaxxer.hikari.HikariConfig();
      cfg.setDataSource(new NoDatabase());
      cfg.setMaximumPoolSize(Integer.getInteger("lab.poolSize", 20));
      cfg.setMinimumIdle(2);
      cfg.setConnectionTimeout(250);
      ds = new com.zaxxer.hikari.HikariDataSource(cfg);
    }
    return ds;
  }

  /** Connections that answer every call with a default: valid, auto-commit, no network. */
  static final class NoDatabase implements javax.sql.DataSource {
    @Override
    public java.sql.Connection getConnection() {
      return (java.sql.Connection) java.lang.reflect.Proxy.newProxyInstance(
          Pool.class.getClassLoader(), new Class<?>[] {java.sql.Connection.class},
          (proxy, m, a) -> {
            Class<?> r = m.getReturnType();
            if (m.getName().equals("toString")) {
              return "NoDatabaseConnection@" + Integer.toHexString(System.identityHashCode(proxy));
            }
            if (m.getName().equals("hashCode")) {
              return System.identityHashCode(proxy);
            }
            if (m.getName().equals("equals")) {
              return proxy == a[0];
            }
            if (r == boolean.class) {
              return m.getName().equals("isValid") || m.getName().equals("getAutoCommit");
            }
            if (r == int.class) {
              return m.getName().equals("getTransactionIsolation")
                  ? java.sql.Connection.TRANSACTION_READ_COMMITTED : 0;
            }
            return null;
          });
    }

    @Override
    public java.sql.Connection getConnection(String u, String p) {
      return getConnection();
    }

    @Override
    public java.io.PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(java.io.PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public java.util.logging.Logger getParentLogger() {
      return java.util.logging.Logger.getGlobal();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws java.sql.SQLException {
      throw new java.sql.SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }
}

/** File uploads spooled to disk; the checksum pass forgets to close its stream. */
final class Uploads {
  static final int PAYLOAD = 512;
  private static final List<java.io.InputStream> OPEN = new ArrayList<>();
  private final File dir;
  private final File stored;
  private final byte[] buf = new byte[PAYLOAD];

  Uploads(File dir) throws IOException {
    this.dir = dir;
    this.stored = new File(dir, "stored.bin");
    try (java.io.FileOutputStream out = new java.io.FileOutputStream(stored)) {
      out.write(buf);
    }
  }

  void read() throws IOException {
    try (java.io.FileInputStream in = new java.io.FileInputStream(stored)) {
      in.read(buf);
    }
  }

  void handle() throws IOException {
    File spool = File.createTempFile("upload-", ".part", dir);
    try (java.io.FileOutputStream out = new java.io.FileOutputStream(spool)) {
      out.write(buf);
    }
    java.io.FileInputStream check = new java.io.FileInputStream(spool);
    check.read(buf);  // the checksum pass; its close() was lost in a refactoring
    OPEN.add(check);  // still referenced, so no Cleaner closes it either
  }
}

/** What every plugin reload defines anew in its own class loader. */
final class Plugin {
  private final byte[] state = new byte[64];

  @Override
  public String toString() {
    return "plugin" + state.length;
  }
}
