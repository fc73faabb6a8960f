package dev.jdnn;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The safety net for forgotten closes: native memory of a {@link Tensor}, {@link Result} tensor or
 * {@link Session} that becomes unreachable without {@code close()} is freed by a {@link Cleaner}, and the
 * leak is logged (System.Logger {@code dev.jdnn}, WARNING) naming what leaked. The first
 * {@value #LOGGED_INDIVIDUALLY} leaks are logged one by one, later ones every {@value #LOG_EVERY}th with
 * the running count (a leaked model would otherwise log each weight). Explicit {@code close()} stays the
 * documented way: the collector may run late or never.
 */
final class Leaks {
    private Leaks() {}

    static final int LOGGED_INDIVIDUALLY = 100, LOG_EVERY = 1000;
    private static final Cleaner CLEANER = Cleaner.create();
    private static final System.Logger LOG = System.getLogger("dev.jdnn");
    private static final AtomicLong LEAKED = new AtomicLong();

    /**
     * The cleanup state of one owner. It must not reference the owner (or the owner never becomes
     * unreachable): it holds only what to free and how to name it.
     */
    static final class Guard implements Runnable {
        private volatile Supplier<String> what;   // built only when logged
        private final Runnable free;
        private volatile boolean closed;

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

    /** Registers {@code owner}: when it becomes unreachable with its guard not {@link Guard#closed}, the guard frees and logs. */
    static Guard watch(Object owner, Supplier<String> what, Runnable free) {
        Guard g = new Guard(what, free);
        CLEANER.register(owner, g);
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
