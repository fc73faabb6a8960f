package dev.jdnn.cli;

import java.io.Console;
import java.io.PrintStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Progress of a long loop on stderr. On a terminal: one live line redrawn in place with a carriage
 * return ({@code bench [##########..........] 12/35  3.1 s}), ended with a newline when done. Anywhere
 * else (a pipe, a log file, a test): nothing while running and one summary line at the end, so captured
 * logs never get "running 1/35running 2/35" run together.
 */
final class Progress implements AutoCloseable {
    private static final int WIDTH = 30;
    /** Redraw at most this often: a terminal over ssh should not get thousands of lines a second. */
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream err;
    private final boolean live;
    private final String label;
    private final int total;
    private final long start = System.nanoTime();
    private long lastDraw;
    private int done;
    private boolean closed;

    Progress(PrintStream err, boolean live, String label, int total) {
        if (total < 0) throw new IllegalArgumentException("progress total must be >= 0, got " + total);
        this.err = err;
        this.live = live;
        this.label = label;
        this.total = total;
    }

    /** Records {@code steps} more steps done. */
    void advance(int steps) {
        done = Math.min(total, done + steps);
        long now = System.nanoTime();
        if (live && (done == total || now - lastDraw >= REDRAW_NANOS)) {
            lastDraw = now;
            err.print("\r" + line());
            err.flush();
        }
    }

    /** The finished bar on a terminal, or the one summary line elsewhere; idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (live) {
            err.print("\r" + line() + "\n");
        } else {
            err.printf(Locale.ROOT, "%s: %d/%d in %.1f s%n", label, done, total, seconds());
        }
        err.flush();
    }

    String line() {
        int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * done / total);
        return String.format(Locale.ROOT, "%s [%s%s] %d/%d  %.1f s", label, "#".repeat(filled), ".".repeat(WIDTH - filled), done, total, seconds());
    }

    private double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Whether file descriptor 2 is a terminal. {@code System.console()} cannot answer this: since JDK 22
     * it returns a console even when redirected, and {@link Console#isTerminal()} describes stdin and
     * stdout, not stderr ({@code ./jdnn bench 2> log} has a terminal stdout). So ask libc's
     * {@code isatty(2)} through FFM; where that symbol is missing (not POSIX), fall back to the console,
     * and {@code TERM=dumb} (emacs shells, some CI) never gets a live bar.
     */
    static boolean stderrIsTerminal() {
        if ("dumb".equals(System.getenv("TERM"))) return false;
        try {
            Linker linker = Linker.nativeLinker();
            var isatty = linker.defaultLookup().find("isatty");
            if (isatty.isPresent()) {
                MethodHandle h = linker.downcallHandle(isatty.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                return (int) h.invokeExact(2) == 1;
            }
        } catch (Throwable e) {
            // no native access or no libc symbol: fall through to the console's opinion
        }
        Console console = System.console();
        return console != null && console.isTerminal();
    }
}
