package dev.jdnn.ops.conv;

import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.MemoryDescs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Autotune decisions (which of oneDNN's candidate kernels won for a convolution) kept in a small text file,
 * so a new JVM on the same machine prepares a tuned plan without timing anything. The file belongs to one
 * machine key — CPU model, the ISA oneDNN dispatches to, oneDNN's version — and each line to one problem
 * (geometry, input shape, post-ops, candidates tried, threads):
 * <pre>
 * # jdnn autotune cache 1
 * key Intel(R) Xeon(R) ... | Intel AVX2 | 3.13.0 (hash)
 * conv 64-&gt;64 k3x3 s1x1 p1,1,1,1 d1x1 g1 in 1x64x56x56 +relu c2 t2	1
 * </pre>
 * A file written under another key is ignored (and replaced on the next {@link #flush}); a file that cannot be
 * read or parsed is ignored with a warning on {@code System.Logger} {@value #LOGGER}, never an error. Writes go
 * to a temporary file renamed over the old one, so a reader never sees half a file.
 */
public final class AutotuneCache {
    static final String HEADER = "# jdnn autotune cache 1";
    static final String LOGGER = "dev.jdnn.autotune";
    private static final System.Logger LOG = System.getLogger(LOGGER);
    private static volatile AutotuneCache shared;

    private final Path file;
    private final String machineKey;
    private final Map<String, Integer> decisions = new TreeMap<>();
    private boolean dirty;
    private int hits;
    private int misses;

    /** A cache in {@code file} for this machine key; reads the file now (see the class comment for what is ignored). */
    public AutotuneCache(Path file, String machineKey) {
        if (machineKey.contains("\n")) throw new IllegalArgumentException("machine key must be one line");
        this.file = file;
        this.machineKey = machineKey;
        read();
    }

    /**
     * The process-wide cache: {@code autotune.txt} in jdnn's cache directory (the one that holds the extracted
     * oneDNN library: {@code jdnn.cache.dir}, else {@code $XDG_CACHE_HOME/jdnn}, else {@code ~/.cache/jdnn}).
     */
    public static AutotuneCache shared() {
        AutotuneCache c = shared;
        if (c == null) {
            synchronized (AutotuneCache.class) {
                c = shared;
                if (c == null) shared = c = new AutotuneCache(Dnnl.cacheDirectory().resolve("autotune.txt"), machineKey());
            }
        }
        return c;
    }

    /** CPU model, oneDNN's ISA and oneDNN's version: a decision is valid only where all three are the same. */
    public static String machineKey() {
        return cpuModel() + " | " + Dnnl.effectiveIsa() + " | " + Dnnl.version();
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no model name: the architecture is what is known
        }
        return System.getProperty("os.arch") + " (" + Runtime.getRuntime().availableProcessors() + " cpus)";
    }

    /** The line key of one tuning problem. */
    static String problem(Conv2dParams params, long[] inputShape, NativeConv2d.PostOps postOps, int candidates) {
        return params + " in " + MemoryDescs.dims(inputShape) + postOps + " c" + candidates + " t" + Dnnl.threads();
    }

    /** The candidate that won for {@code problem}, or null if none is known. */
    public synchronized Integer get(String problem) {
        Integer c = decisions.get(problem);
        if (c == null) misses++;
        else hits++;
        return c;
    }

    /** Records that {@code candidate} (≥ 0) won for {@code problem} (one line, no tab); written on the next {@link #flush}. */
    public synchronized void put(String problem, int candidate) {
        if (candidate < 0 || problem.contains("\t") || problem.contains("\n")) throw new IllegalArgumentException("bad decision " + problem + " -> " + candidate);
        Integer old = decisions.put(problem, candidate);
        if (old == null || old != candidate) dirty = true;
    }

    /** Lookups answered from the cache since it was made. */
    public synchronized int hits() {
        return hits;
    }

    /** Lookups the cache could not answer (the convolution was timed). */
    public synchronized int misses() {
        return misses;
    }

    /** Decisions held. */
    public synchronized int size() {
        return decisions.size();
    }

    public Path file() {
        return file;
    }

    /** Writes new decisions, if any, atomically (temp file + rename); a failure is logged, not thrown. */
    public synchronized void flush() {
        if (!dirty) return;
        StringBuilder text = new StringBuilder(HEADER).append('\n').append("key ").append(machineKey).append('\n');
        decisions.forEach((problem, candidate) -> text.append(problem).append('\t').append(candidate).append('\n'));
        Path temp = null;
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            temp = Files.createTempFile(file.toAbsolutePath().getParent(), "autotune", ".part");
            Files.writeString(temp, text, StandardCharsets.UTF_8);
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            dirty = false;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write the autotune cache " + file + ": " + e);
            try {
                if (temp != null) Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    private void read() {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException | RuntimeException e) {   // unreadable, or not UTF-8
            LOG.log(System.Logger.Level.WARNING, "ignoring the autotune cache " + file + ": cannot read it (" + e + ")");
            return;
        }
        if (lines.size() < 2 || !lines.get(0).equals(HEADER) || !lines.get(1).startsWith("key ")) {
            LOG.log(System.Logger.Level.WARNING, "ignoring the autotune cache " + file + ": it does not start with '" + HEADER + "' and a key line");
            return;
        }
        if (!lines.get(1).substring(4).equals(machineKey)) {
            // Another CPU, ISA or oneDNN version: its decisions do not apply here. Replaced on the next flush.
            LOG.log(System.Logger.Level.DEBUG, "autotune cache " + file + " was written for '" + lines.get(1).substring(4) + "'; starting afresh");
            dirty = true;
            return;
        }
        Map<String, Integer> read = new TreeMap<>();
        List<String> bad = new ArrayList<>();
        for (String line : lines.subList(2, lines.size())) {
            int tab = line.lastIndexOf('\t');
            try {
                if (tab <= 0) throw new NumberFormatException("no tab");
                int candidate = Integer.parseInt(line.substring(tab + 1));
                if (candidate < 0) throw new NumberFormatException("negative");
                read.put(line.substring(0, tab), candidate);
            } catch (NumberFormatException e) {
                bad.add(line);
            }
        }
        if (!bad.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "ignoring the autotune cache " + file + ": " + bad.size() + " malformed line(s), e.g. '"
                    + bad.get(0) + "'");
            dirty = true;
            return;
        }
        decisions.putAll(read);
    }
}
