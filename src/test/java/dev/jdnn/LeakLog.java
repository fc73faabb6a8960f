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

    /** What {@link #assertLeaksNothing} runs. */
    public interface Work {
        void run() throws Exception;
    }

    /**
     * Runs {@code work}, then fails if the leak log names any tensor it left to the garbage collector ("never
     * closed"); a marker tensor leaked after it, whose log line must appear, shows the collector ran.
     */
    public static void assertLeaksNothing(Work work) throws Exception {
        java.util.List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger("dev.jdnn");
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override public void publish(java.util.logging.LogRecord r) { logged.add(r.getMessage()); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        logNextLeaks();   // else, late in a full test run, the marker's line is not logged
        jul.addHandler(capture);
        try {
            work.run();
            markerLeak();
            for (int i = 0; i < 200 && logged.stream().noneMatch(l -> l.contains("[7, 11, 13]")); i++) {
                System.gc();
                Thread.sleep(50);
            }
            org.junit.jupiter.api.Assertions.assertTrue(logged.stream().anyMatch(l -> l.contains("[7, 11, 13]")), "the collector ran: " + logged);
            org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(),
                    logged.stream().filter(l -> l.contains("never closed") && !l.contains("[7, 11, 13]")).toList());
        } finally {
            jul.removeHandler(capture);
        }
    }

    private static void markerLeak() {
        Tensor.zeros(DataType.INT64, 7, 11, 13);   // never closed: its log line shows the collector ran
    }
}
