package dev.jdnn;

/**
 * For tests outside {@code dev.jdnn} that read the leak log: a JVM logs only its first
 * {@value Leaks#LOGGED_INDIVIDUALLY} leaks one by one (then every {@value Leaks#LOG_EVERY}th), and a full test
 * run passes that count before the later test classes, so a test that waits for its marker leak's log line
 * starts the count again first.
 */
public final class LeakLog {
    private LeakLog() {}

    /**
     * The next leaks are logged one by one again. Tensors earlier tests left unreachable are collected and freed
     * (logged or not) first, until the count stops moving, so they neither use up the individually logged leaks
     * nor show up in the caller's log as its own.
     */
    public static void logNextLeaks() throws InterruptedException {
        long before;
        int rounds = 0;
        do {
            before = Leaks.count();
            System.gc();
            Thread.sleep(100);
        } while (Leaks.count() != before && ++rounds < 100);
        Leaks.resetCount();
    }
}
