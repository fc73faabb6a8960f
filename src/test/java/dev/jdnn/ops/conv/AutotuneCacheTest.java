package dev.jdnn.ops.conv;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jdnn.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The autotune cache: a decision is recorded, read back by a new cache on the same file (another JVM) and used
 * without timing, dropped when the machine key changes, and a corrupt file is ignored with a warning.
 */
class AutotuneCacheTest {
    static final Conv2dParams PARAMS = Conv2dParams.of(16, 16, 3, 3).withPadding(1, 1);
    static final long[] INPUT = {1, 16, 14, 14};

    final List<LogRecord> warnings = new ArrayList<>();
    final Handler capture = new Handler() {
        @Override public void publish(LogRecord r) { if (r.getLevel().intValue() >= Level.WARNING.intValue()) warnings.add(r); }
        @Override public void flush() { }
        @Override public void close() { }
    };

    @BeforeEach
    void listen() {
        Logger.getLogger(AutotuneCache.LOGGER).addHandler(capture);
    }

    @AfterEach
    void stop() {
        Logger.getLogger(AutotuneCache.LOGGER).removeHandler(capture);
    }

    static Conv2d conv() {
        Random r = new Random(9);
        float[] w = new float[(int) PARAMS.weightCount()];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.1f;
        float[] b = new float[16];
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
        return new Conv2d(PARAMS, w, b);
    }

    /** Tunes through {@code cache} and checks the chosen kernel computes the reference convolution. */
    static NativeConv2d tuneAndCheck(AutotuneCache cache) {
        Conv2d conv = conv();
        NativeConv2d tuned = NativeConv2d.tuned(PARAMS, NativeConv2d.Weights.of(conv), INPUT, NativeConv2d.PostOps.NONE, 2, null, cache);
        try (Tensor x = Tensor.zeros(INPUT); Tensor y = Tensor.zeros(PARAMS.outputShape(INPUT)); Tensor want = Tensor.zeros(PARAMS.outputShape(INPUT))) {
            for (long i = 0; i < x.elementCount(); i++) x.setFlat(i, (float) Math.sin(i));
            tuned.run(x, null, y);
            ReferenceConv2d.run(conv, x, want);
            assertArrayEquals(want.toArray(), y.toArray(), 1e-4f);
        }
        return tuned;
    }

    @Test
    void decisionsAreRecordedAndReusedByTheNextJvm(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("sub").resolve("autotune.txt");
        AutotuneCache first = new AutotuneCache(file, "cpu A | isa | 3.13");
        try (NativeConv2d c = tuneAndCheck(first)) {
            assertEquals(1, first.misses());
            assertEquals(1, first.size());
        }
        first.flush();
        List<String> lines = Files.readAllLines(file);
        assertEquals(AutotuneCache.HEADER, lines.get(0));
        assertEquals("key cpu A | isa | 3.13", lines.get(1));
        assertTrue(lines.get(2).startsWith(PARAMS.toString()), lines.get(2));
        assertEquals(List.of(), Files.list(file.getParent()).filter(p -> p.toString().endsWith(".part")).toList(), "no temporary file left behind");

        AutotuneCache second = new AutotuneCache(file, "cpu A | isa | 3.13");   // as a new JVM would
        assertEquals(1, second.size());
        try (NativeConv2d c = tuneAndCheck(second)) {
            assertEquals(1, second.hits());
            assertEquals(0, second.misses(), "nothing timed");
        }
        assertEquals(List.of(), warnings);
    }

    @Test
    void aRecordedDecisionIsUsedAsIs(@TempDir Path dir) {
        try (NativeConv2d second = new NativeConv2d(conv(), INPUT, NativeConv2d.PostOps.NONE, 1)) {
            assumeTrue(second.candidate() == 1, "oneDNN offers one kernel for this conv here");
        } catch (IllegalArgumentException | dev.jdnn.dnnl.DnnlException onlyOne) {
            assumeTrue(false, "oneDNN offers one kernel for this conv here");
        }
        AutotuneCache cache = new AutotuneCache(dir.resolve("autotune.txt"), "k");
        cache.put(AutotuneCache.problem(PARAMS, INPUT, NativeConv2d.PostOps.NONE, 2), 1);
        try (NativeConv2d c = tuneAndCheck(cache)) {
            assertEquals(1, c.candidate(), "the cached choice, not a fresh timing");
        }
    }

    @Test
    void aChangedKeyInvalidatesTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("autotune.txt");
        AutotuneCache old = new AutotuneCache(file, "cpu A | isa | 3.12");
        old.put("some conv", 1);
        old.flush();
        AutotuneCache upgraded = new AutotuneCache(file, "cpu A | isa | 3.13");
        assertEquals(0, upgraded.size(), "decisions made for another oneDNN version do not apply");
        try (NativeConv2d c = tuneAndCheck(upgraded)) {
            assertEquals(1, upgraded.misses());
        }
        upgraded.flush();
        List<String> lines = Files.readAllLines(file);
        assertEquals("key cpu A | isa | 3.13", lines.get(1));
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("some conv")), "the old key's decisions are gone");
        assertEquals(List.of(), warnings, "a changed key is normal, not a warning");
    }

    @Test
    void aCorruptFileIsIgnoredWithAWarning(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("autotune.txt");
        Files.write(file, new byte[] {'n', 'o', 't', 0, 1, 2, (byte) 0xFF, '\n'});
        AutotuneCache garbage = new AutotuneCache(file, "k");
        assertEquals(0, garbage.size());
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).getMessage().contains(file.toString()), warnings.get(0).getMessage());
        tuneAndCheck(garbage).close();

        Files.writeString(file, AutotuneCache.HEADER + "\nkey k\nconv 16->16 ...\tnot-a-number\n");
        AutotuneCache badLine = new AutotuneCache(file, "k");
        assertEquals(0, badLine.size());
        assertEquals(2, warnings.size());
        assertTrue(warnings.get(1).getMessage().contains("malformed"), warnings.get(1).getMessage());
        try (NativeConv2d c = tuneAndCheck(badLine)) {
            badLine.flush();   // replaces the corrupt file with a good one
        }
        assertEquals(1, new AutotuneCache(file, "k").size());
        assertEquals(2, warnings.size());
    }
}
