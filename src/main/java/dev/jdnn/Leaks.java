package dev.jdnn;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The safety net for forgotten closes: native memory of a {@link Tensor}, {@link Result} tensor or
 * {@link Session} that becomes unreachable without {@code close()} is freed (a phantom-reference cleaner:
 * a daemon thread, helped by every thread that registers a new owner), and the
 * leak is logged (System.Logger {@code dev.jdnn}, WARNING) naming what leaked. The first
 * {@value #LOGGED_INDIVIDUALLY} leaks are logged one by one, later ones every {@value #LOG_EVERY}th with
 * the running count (a leaked model would otherwise log each weight). Explicit {@code close()} stays the
 * documented way: the collector may run late or never.
 */
final class Leaks {
    private Leaks() {}

    static final int LOGGED_INDIVIDUALLY = 100, LOG_EVERY = 1000;
    /** Leaked owners a thread frees itself each time it registers a new one (back-pressure, see {@link #watch}). */
    static final int HELP_PER_REGISTRATION = 2;
    private static final System.Logger LOG = System.getLogger("dev.jdnn");
    private static final AtomicLong LEAKED = new AtomicLong();
    private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<>();
    private static final Set<Watch> WATCHED = ConcurrentHashMap.newKeySet();   // keeps the references themselves reachable

    static {
        Thread t = new Thread(() -> {
            while (true) {
                try {
                    free((Watch) QUEUE.remove());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "jdnn-leak-cleaner");
        t.setDaemon(true);
        t.start();
    }

    /** A phantom reference to one owner with its guard. */
    private static final class Watch extends PhantomReference<Object> {
        final Guard guard;

        Watch(Object owner, Guard guard) {
            super(owner, QUEUE);
            this.guard = guard;
        }
    }

    private static void free(Watch w) {
        if (WATCHED.remove(w)) w.guard.run();
    }

    /**
     * The cleanup state of one owner. It must not reference the owner (or the owner never becomes
     * unreachable): it holds only what to free and how to name it.
     */
    static final class Guard implements Runnable {
        private volatile Supplier<String> what;   // built only when logged
        private final Runnable free;
        private volatile boolean closed;
        private Watch watch;

        Guard(Supplier<String> what, Runnable free) {
            this.what = what;
            this.free = free;
        }

        /** A better name for the log, once known (e.g. the result tensor's name). */
        void describe(Supplier<String> description) {
            what = description;
        }

        /** The owner was closed explicitly: nothing to free or log when it becomes unreachable. */
        void closed() {
            closed = true;
            Watch w = watch;
            if (w != null && WATCHED.remove(w)) w.clear();
        }

        @Override
        public void run() {
            if (closed) return;
            long n = LEAKED.incrementAndGet();
            if (n <= LOGGED_INDIVIDUALLY || n % LOG_EVERY == 0) {
                LOG.log(System.Logger.Level.WARNING, "jdnn: " + what.get() + " was never closed; its native memory was freed by the garbage collector"
                        + " (leak #" + n + "; close it, e.g. with try-with-resources)");
            }
            try {
                free.run();
            } catch (RuntimeException e) {
                // A segment still acquired by a native call on another thread: leave it rather than crash.
                LOG.log(System.Logger.Level.WARNING, "jdnn: could not free leaked " + what.get() + ": " + e);
            }
        }
    }

    /**
     * Registers {@code owner}: when it becomes unreachable with its guard not {@link Guard#closed}, the guard
     * frees and logs. The registering thread first frees up to {@value #HELP_PER_REGISTRATION} owners the
     * collector found unreachable, so a caller that never closes results is slowed down rather than
     * outrunning the cleaner thread (freeing a shared arena is a thread handshake, slower than allocating one).
     */
    static Guard watch(Object owner, Supplier<String> what, Runnable free) {
        for (int i = 0; i < HELP_PER_REGISTRATION; i++) {
            Watch pending = (Watch) QUEUE.poll();
            if (pending == null) break;
            free(pending);
        }
        Guard g = new Guard(what, free);
        Watch w = new Watch(owner, g);
        g.watch = w;
        WATCHED.add(w);
        return g;
    }

    /** Starts counting again, so the next leaks are logged one by one (tests). */
    static void resetCount() {
        LEAKED.set(0);
    }

    /** Owners freed by the collector since start (for tests and soak runs). */
    static long count() {
        return LEAKED.get();
    }
}
