package dev.jdnn.ops.winograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.dnnl.DnnlException;
import dev.jdnn.ops.conv.AutotuneCache;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import dev.jdnn.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WinogradChoice} with oneDNN's own Winograd convolution as a candidate (created only where the loaded
 * oneDNN has one: AVX-512 builds that ship it; 3.13 has none for CPUs) and with decisions carried in an
 * {@link AutotuneCache}. Results are checked against the direct convolution in double ({@code ReferenceConv2d}).
 */
class WinogradChoiceTest {
    private static Conv2d layer(int c, int k, long seed) {
        Conv2dParams p = Conv2dParams.of(c, k, 3, 3).withPadding(1, 1, 1, 1);
        Random r = new Random(seed);
        return new Conv2d(p, WinogradConvTest.random(r, k * c * 9, 0.1), WinogradConvTest.random(r, k, 0.1));
    }

    private static Supplier<NativeConv2d> onednn(Conv2d conv, long[] input, NativeConv2d.PostOps post) {
        return () -> new NativeConv2d(conv.params(), NativeConv2d.Weights.of(conv), input, post, NativeConv2d.Algorithm.WINOGRAD, 0, null);
    }

    @Test
    void availabilityIsWhatOneDnnCreates() {
        // An independent attempt on another shape the AVX-512 Winograd kernels take (channels a multiple of 16).
        Conv2d conv = layer(32, 48, 1);
        boolean created;
        try (NativeConv2d c = onednn(conv, new long[] {1, 32, 12, 12}, NativeConv2d.PostOps.NONE).get()) {
            created = c.implementation() != null;
        } catch (DnnlException e) {
            created = false;
        }
        assertEquals(created, WinogradChoice.onednnWinogradAvailable());
    }

    /** Whatever wins (direct, oneDNN's Winograd where it exists, jdnn's F(2×2)), the layer computes the convolution. */
    @Test
    void oneDnnCandidateFallsBackSilentlyAndTheChoiceComputesTheConvolution() {
        Conv2d conv = layer(64, 64, 2);
        long[] input = {1, 64, 20, 20};
        NativeConv2d.PostOps post = NativeConv2d.PostOps.of(false, true);
        float[] x = WinogradConvTest.random(new Random(3), 64 * 20 * 20, 1);
        float[] expected = WinogradConvTest.direct(conv, x, input);
        for (int i = 0; i < expected.length; i++) expected[i] = Math.max(0, expected[i]);
        try (NativeConv2d direct = new NativeConv2d(conv, input, post)) {
            WinogradChoice.Choice c = WinogradChoice.choose(conv, input, post, direct, onednn(conv, input, post), List.of(WinogradTile.F2X2), 1, null);
            assertTrue(c.reason().contains("direct"), c.reason());
            assertEquals(WinogradChoice.onednnWinogradAvailable(), c.reason().contains(WinogradChoice.ONEDNN), c.reason());
            float[] actual;
            if (c.winograd() != null) {
                try (NativeWinograd w = c.winograd()) {
                    actual = WinogradConvTest.nativeWinograd(conv, x, input, post, null, w.tile(), 1, NativeWinograd.DEFAULT_BLOCK_TILES);
                }
            } else {
                try (NativeConv2d run = c.onednn() != null ? c.onednn() : null; Tensor in = Tensor.of(x, input); Tensor y = Tensor.zeros(conv.params().outputShape(input))) {
                    (run != null ? run : direct).run(in, null, y);
                    actual = y.toArray();
                }
            }
            assertTrue(WinogradConvTest.relativeError(expected, actual) < WinogradConvTest.bound(WinogradTile.F4X4), c.reason());
        }
    }

    /** A decision in the autotune cache is used without timing; a timed one is recorded there for the next JVM. */
    @Test
    void decisionsGoThroughTheAutotuneCache(@TempDir Path dir) {
        NativeConv2d.PostOps post = NativeConv2d.PostOps.NONE;
        List<WinogradTile> tiles = List.of(WinogradTile.F2X2);
        AutotuneCache cache = new AutotuneCache(dir.resolve("autotune.txt"), "test machine");
        // Shapes no other test times, so that this JVM's memo has no decision for them.
        Conv2d forced = layer(24, 40, 4);
        long[] forcedInput = {1, 24, 11, 13};
        cache.put(WinogradChoice.key(forced.params(), forcedInput, post, tiles, false, 1), 2 + WinogradTile.F2X2.ordinal());
        try (NativeConv2d direct = new NativeConv2d(forced, forcedInput, post)) {
            WinogradChoice.Choice c = WinogradChoice.choose(forced, forcedInput, post, direct, null, tiles, 1, cache);
            assertNotNull(c.winograd(), c.reason());
            assertEquals(WinogradTile.F2X2, c.winograd().tile());
            assertTrue(c.reason().contains("timed earlier"), c.reason());
            c.winograd().close();
        }
        Conv2d keptDirect = layer(24, 40, 5);
        long[] keptInput = {1, 24, 13, 11};
        cache.put(WinogradChoice.key(keptDirect.params(), keptInput, post, tiles, false, 1), 0);
        try (NativeConv2d direct = new NativeConv2d(keptDirect, keptInput, post)) {
            WinogradChoice.Choice c = WinogradChoice.choose(keptDirect, keptInput, post, direct, null, tiles, 1, cache);
            assertNull(c.winograd());
            assertTrue(c.reason().contains("timed earlier"), c.reason());
        }
        Conv2d timed = layer(24, 40, 6);
        long[] timedInput = {1, 24, 15, 9};
        String key = WinogradChoice.key(timed.params(), timedInput, post, tiles, false, 1);
        try (NativeConv2d direct = new NativeConv2d(timed, timedInput, post)) {
            WinogradChoice.Choice c = WinogradChoice.choose(timed, timedInput, post, direct, null, tiles, 1, cache);
            assertTrue(c.reason().startsWith("timed:"), c.reason());
            assertEquals(c.winograd() == null ? 0 : 2 + WinogradTile.F2X2.ordinal(), cache.get(key));
            if (c.winograd() != null) c.winograd().close();
        }
        cache.flush();
        assertEquals(cache.get(key), new AutotuneCache(dir.resolve("autotune.txt"), "test machine").get(key), "the decision survives in the file");
    }
    /**
     * {@link WinogradChoice#known}: a layer the cache says runs as jdnn's Winograd is made as one, untimed; for a
     * layer decided direct, or not decided yet, nothing is made (not even the heap copy of its weights).
     */
    @Test
    void knownMakesTheWinogradLayerOnlyWhenItWasChosen(@TempDir Path dir) {
        NativeConv2d.PostOps post = NativeConv2d.PostOps.of(false, true);
        List<WinogradTile> tiles = List.of(WinogradTile.F2X2);
        AutotuneCache cache = new AutotuneCache(dir.resolve("autotune.txt"), "test machine");
        java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
        Conv2d chosen = layer(20, 36, 7);
        long[] chosenInput = {1, 20, 9, 14};
        cache.put(WinogradChoice.key(chosen.params(), chosenInput, post, tiles, false, 1), 2 + WinogradTile.F2X2.ordinal());
        WinogradChoice.Choice c = WinogradChoice.known(chosen.params(), () -> { made.incrementAndGet(); return chosen; }, chosenInput, post, tiles, false, 1, cache);
        assertNotNull(c, "decided F(2×2) in the cache");
        try (NativeWinograd w = c.winograd()) {
            assertEquals(WinogradTile.F2X2, w.tile());
            assertTrue(c.reason().contains("timed earlier"), c.reason());
            float[] x = WinogradConvTest.random(new Random(8), 20 * 9 * 14, 1);
            float[] expected = WinogradConvTest.direct(chosen, x, chosenInput);
            for (int i = 0; i < expected.length; i++) expected[i] = Math.max(0, expected[i]);
            float[] actual = WinogradConvTest.run(w, chosen, x, chosenInput);
            assertTrue(WinogradConvTest.relativeError(expected, actual) < WinogradConvTest.bound(WinogradTile.F2X2));
        }
        assertEquals(1, made.get());
        Conv2d direct = layer(20, 36, 8);
        long[] directInput = {1, 20, 14, 9};
        cache.put(WinogradChoice.key(direct.params(), directInput, post, tiles, false, 1), 0);
        assertNull(WinogradChoice.known(direct.params(), () -> { made.incrementAndGet(); return direct; }, directInput, post, tiles, false, 1, cache));
        long[] undecided = {1, 20, 10, 10};
        assertNull(WinogradChoice.known(direct.params(), () -> { made.incrementAndGet(); return direct; }, undecided, post, tiles, false, 1, cache));
        assertNull(WinogradChoice.known(direct.params(), () -> { made.incrementAndGet(); return direct; }, directInput, post, List.of(), false, 1, cache),
                "Winograd off: never");
        assertEquals(1, made.get(), "the layer's weights are only copied for the layer that runs as Winograd");
    }
}
