package com.example.locks;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Puts threads into the states a thread-dump parser must recognise, then keeps logging until
 * it is killed (or for at most 60 s):
 *  - "inventory-owner" holds the monitor of INVENTORY inside Thread.sleep; four
 *    "order-worker-N" threads are BLOCKED on that monitor;
 *  - "cache-refresher" holds a ReentrantLock inside sleep; three "cache-reader-N" threads are
 *    WAITING (parking) on it;
 *  - "event-dispatcher" is WAITING in Object.wait(), "metrics-flusher" TIMED_WAITING in sleep;
 *  - with argument "deadlock": "transfer-a" locks ACCOUNT_A then ACCOUNT_B while "transfer-b"
 *    locks ACCOUNT_B then ACCOUNT_A: a Java-level deadlock.
 */
public final class LockScenarios {
    private static final Logger LOG = LogManager.getLogger(LockScenarios.class);
    private static final Object INVENTORY = new Object();
    private static final Object EVENTS = new Object();
    private static final Object ACCOUNT_A = new Object();
    private static final Object ACCOUNT_B = new Object();
    private static final ReentrantLock CACHE_LOCK = new ReentrantLock();

    public static void main(String[] args) throws Exception {
        boolean deadlock = args.length > 0 && args[0].equals("deadlock");
        LOG.info("LockScenarios starting deadlock={} pid={}", deadlock, ProcessHandle.current().pid());
        CountDownLatch held = new CountDownLatch(2);
        start("inventory-owner", () -> {
            synchronized (INVENTORY) {
                held.countDown();
                LOG.info("inventory lock taken for a slow stock recount");
                sleep(120_000);
            }
        });
        start("cache-refresher", () -> {
            CACHE_LOCK.lock();
            try {
                held.countDown();
                LOG.info("cache refresh started, holding cache lock");
                sleep(120_000);
            } finally {
                CACHE_LOCK.unlock();
            }
        });
        held.await();
        for (int i = 1; i <= 4; i++) {
            int id = i;
            start("order-worker-" + i, () -> reserveStock(id));
        }
        for (int i = 1; i <= 3; i++) {
            int id = i;
            start("cache-reader-" + i, () -> readCache(id));
        }
        start("event-dispatcher", () -> {
            synchronized (EVENTS) {
                try {
                    EVENTS.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        start("metrics-flusher", () -> {
            while (true) {
                sleep(500);
                LOG.debug("metrics flushed");
            }
        });
        if (deadlock) {
            CountDownLatch firstLocks = new CountDownLatch(2);
            start("transfer-a", () -> transfer(ACCOUNT_A, ACCOUNT_B, firstLocks));
            start("transfer-b", () -> transfer(ACCOUNT_B, ACCOUNT_A, firstLocks));
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int n = 0;
        while (System.nanoTime() < end) {
            LOG.info("heartbeat n={} waiting_orders=4 waiting_cache_readers=3", ++n);
            sleep(250);
        }
        LOG.warn("time limit reached, exiting");
        System.exit(0);
    }

    private static void reserveStock(int worker) {
        LOG.info("order-worker {} reserving stock", worker);
        synchronized (INVENTORY) {
            LOG.info("order-worker {} got inventory", worker);
        }
    }

    private static void readCache(int reader) {
        LOG.info("cache-reader {} waiting for cache", reader);
        CACHE_LOCK.lock();
        try {
            LOG.info("cache-reader {} read cache", reader);
        } finally {
            CACHE_LOCK.unlock();
        }
    }

    private static void transfer(Object from, Object to, CountDownLatch firstLocks) {
        synchronized (from) {
            firstLocks.countDown();
            try {
                firstLocks.await();
            } catch (InterruptedException e) {
                return;
            }
            LOG.info("transfer holding first account, locking second");
            synchronized (to) {
                LOG.info("transfer done");
            }
        }
    }

    private static void start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
