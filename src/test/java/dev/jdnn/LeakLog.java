package dev.jdnn;

/**
 * For tests outside {@code dev.jdnn} that read the leak log: a JVM logs only its first
 * {@value Leaks#LOGGED_INDIVIDUALLY} leaks one by one (then every {@value Leaks#LOG_EVERY}th), and a full test
 * run passes that count before the later test classes, so a test that waits for its marker leak's log line
 * starts the count again first.
 */
public final class LeakLog {
    private LeakLog() {}

    /** The next leaks are logged one by one again. */
    public static void logNextLeaks() {
        Leaks.resetCount();
    }
}
