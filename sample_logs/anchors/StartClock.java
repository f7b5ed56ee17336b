package com.example.anchors;

import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A small shop JVM for logsleuth's start anchors (generate.sh runs it): it logs a startup
 * line, churns a little heap, then states its start the way Spring Boot's StartupInfoLogger
 * does ("Started X in T seconds (process|JVM running for U)", T from the start of main,
 * U = RuntimeMXBean uptime in ms / 1000.0, both printed with Double.toString), and serves
 * orders for anchors.seconds seconds, allocating enough to make the collector run.
 * Bounded by time, no network.
 */
public final class StartClock {
  private static final Logger LOG = LogManager.getLogger("com.example.anchors.ShopApplication");
  private static volatile Object sink;

  public static void main(String[] args) throws Exception {
    long began = System.nanoTime();
    String style = System.getProperty("anchors.style", "boot3");
    long seconds = Long.getLong("anchors.seconds", 6);
    LOG.info("Starting ShopApplication using Java {} with PID {}",
        System.getProperty("java.version"), ProcessHandle.current().pid());
    ArrayDeque<byte[]> context = new ArrayDeque<>();
    for (int i = 0; i < 4000; i++) {  // a context refresh: allocation, some of it kept
      context.add(new byte[2048]);
      if (context.size() > 1500) {
        context.poll();
      }
    }
    if (!style.equals("none")) {
      double took = ((System.nanoTime() - began) / 1_000_000) / 1000.0;
      double up = ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0;
      String clock = style.equals("boot2") ? "JVM" : "process";
      LOG.info("Started ShopApplication in " + took + " seconds (" + clock + " running for "
          + up + ")");
    }
    long end = System.currentTimeMillis() + seconds * 1000;
    long order = 0;
    while (System.currentTimeMillis() < end) {
      for (int i = 0; i < 40; i++) {
        sink = new byte[16 * 1024];
      }
      order++;
      LOG.info("Order handled id={} items={}", order, order % 7 + 1);
      Thread.sleep(2);
    }
    LOG.info("Shutting down after {} orders", order);
  }
}
