package dev.jdnn.ops.winograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Tensor;
import dev.jdnn.ops.conv.BnFolding;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import dev.jdnn.ops.conv.ReferenceConv2d;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native Winograd convolution ({@link NativeWinograd}: Java transforms + oneDNN batched GEMM) and the
 * plain-Java {@link ReferenceWinograd}, both against the direct convolution in double
 * ({@link ReferenceConv2d}) on odd shapes, with every post-op a conv chain fuses. Errors are measured
 * relative to the largest output magnitude; the bounds per tile size are those documented in README.
 */
class WinogradConvTest {
    /** max |err| / max |y| each variant must stay within (float32 direct is ~1e-7..7e-7 on these). */
    static double bound(WinogradTile tile) {
        return tile == WinogradTile.F2X2 ? 2e-6 : 5e-5;
    }

    record Case(int n, int c, int k, int h, int w, int padTop, int padLeft, int padBottom, int padRight) {
        Conv2dParams params() {
            return Conv2dParams.of(c, k, 3, 3).withPadding(padTop, padLeft, padBottom, padRight);
        }

        long[] input() {
            return new long[] {n, c, h, w};
        }

        @Override public String toString() {
            return n + "x" + c + "x" + h + "x" + w + "->" + k + " pads " + padTop + "," + padLeft + "," + padBottom + "," + padRight;
        }
    }

    static Stream<Arguments> cases() {
        Case[] shapes = {
            new Case(1, 3, 5, 1, 1, 1, 1, 1, 1),        // 1×1 input, all padding
            new Case(1, 8, 8, 7, 7, 1, 1, 1, 1),
            new Case(3, 13, 11, 9, 10, 0, 0, 0, 0),     // batch 3, C and K not multiples of 8, no padding
            new Case(1, 16, 24, 17, 5, 2, 2, 2, 2),     // pad 2
            new Case(2, 32, 16, 14, 14, 1, 0, 2, 1),    // asymmetric pads
            new Case(1, 5, 9, 113, 113, 1, 1, 1, 1),    // large odd spatial
            new Case(1, 64, 64, 28, 28, 1, 1, 1, 1),    // interior tiles on the vector fast path
        };
        return Stream.of(shapes).flatMap(s -> Stream.of(WinogradTile.values()).map(t -> Arguments.of(s, t)));
    }

    static float[] random(Random r, int count, double scale) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    static double relativeError(float[] expected, float[] actual) {
        return relativeError(expected, actual, maxAbs(expected));
    }

    /** max |expected − actual| / scale. */
    static double relativeError(float[] expected, float[] actual, double scale) {
        double err = 0;
        for (int i = 0; i < expected.length; i++) err = Math.max(err, Math.abs(expected[i] - actual[i]));
        return err / Math.max(1e-30, scale);
    }

    /** NCHW ↔ NHWC of a dense float array. */
    static float[] toNhwc(float[] nchw, long[] s) {
        int n = (int) s[0], c = (int) s[1], hw = (int) (s[2] * s[3]);
        float[] r = new float[nchw.length];
        for (int i = 0; i < n; i++) for (int ch = 0; ch < c; ch++) for (int p = 0; p < hw; p++) r[(i * hw + p) * c + ch] = nchw[(i * c + ch) * hw + p];
        return r;
    }

    static float[] toNchw(float[] nhwc, long[] s) {
        int n = (int) s[0], c = (int) s[1], hw = (int) (s[2] * s[3]);
        float[] r = new float[nhwc.length];
        for (int i = 0; i < n; i++) for (int ch = 0; ch < c; ch++) for (int p = 0; p < hw; p++) r[(i * c + ch) * hw + p] = nhwc[(i * hw + p) * c + ch];
        return r;
    }

    static float[] direct(Conv2d conv, float[] x, long[] shape) {
        long[] out = conv.params().outputShape(shape);
        try (Tensor in = Tensor.of(x, shape); Tensor y = Tensor.zeros(out)) {
            ReferenceConv2d.run(conv, in, y);
            return y.toArray();
        }
    }

    /** The native Winograd on NCHW arrays (converted to and from its NHWC layout here). */
    /** {@code wino} (made for {@code shape}, no residual) run once on the N×C×H×W input {@code x}; the N×K×OH×OW output. */
    static float[] run(NativeWinograd wino, Conv2d conv, float[] x, long[] shape) {
        long[] out = conv.params().outputShape(shape);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, toNhwc(x, shape));
            MemorySegment dst = arena.allocate(Tensor.elementCount(out) * Float.BYTES, 64);
            try (NativeWinograd.Bound bound = wino.bind(src, dst, null)) {
                bound.run();
            }
            return toNchw(dst.toArray(ValueLayout.JAVA_FLOAT), out);
        }
    }

    static float[] nativeWinograd(Conv2d conv, float[] x, long[] shape, NativeConv2d.PostOps post, float[] residual, WinogradTile tile,
                                  int threads, int blockTiles) {
        long[] out = conv.params().outputShape(shape);
        try (Arena arena = Arena.ofShared(); NativeWinograd wino = new NativeWinograd(conv, shape, post, tile, threads, blockTiles)) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, toNhwc(x, shape));
            MemorySegment dst = arena.allocate(Tensor.elementCount(out) * Float.BYTES, 64);
            MemorySegment res = residual == null ? null : arena.allocateFrom(ValueLayout.JAVA_FLOAT, toNhwc(residual, out));
            try (NativeWinograd.Bound run = wino.bind(src, dst, res)) {
                run.run();
                run.run(); // a second run on the same buffers must give the same result (no state left over)
            }
            return toNchw(dst.toArray(ValueLayout.JAVA_FLOAT), out);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void nativeAndReferenceMatchDirect(Case s, WinogradTile tile) {
        Random r = new Random(s.hashCode());
        Conv2dParams p = s.params();
        Conv2d conv = new Conv2d(p, random(r, (int) p.weightCount(), 0.3), random(r, s.k(), 1));
        float[] x = random(r, s.n() * s.c() * s.h() * s.w(), 1);
        long[] out = p.outputShape(s.input());
        float[] expected = direct(conv, x, s.input());

        float[] reference;
        try (Tensor in = Tensor.of(x, s.input()); Tensor y = Tensor.zeros(out)) {
            ReferenceWinograd.run(conv, tile, in, y);
            reference = y.toArray();
        }
        assertTrue(relativeError(expected, reference) < 1e-6, "reference Winograd vs direct: " + relativeError(expected, reference));

        float[] got = nativeWinograd(conv, x, s.input(), NativeConv2d.PostOps.NONE, null, tile, 1, NativeWinograd.DEFAULT_BLOCK_TILES);
        double err = relativeError(expected, got);
        assertTrue(err < bound(tile), tile + " native vs direct: " + err + " > " + bound(tile));
        assertTrue(relativeError(reference, got) < bound(tile), tile + " native vs reference Winograd: " + relativeError(reference, got));

        // Many small blocks over two workers: the same numbers (block boundaries and threads change nothing).
        float[] split = nativeWinograd(conv, x, s.input(), NativeConv2d.PostOps.NONE, null, tile, 2, 3);
        assertArrayEquals(got, split, 0f);
    }

    /** Folded BN, bias, residual sum and ReLU or Clip in the output transform, the chain a compiled plan fuses. */
    @ParameterizedTest(name = "{1}{0}")
    @MethodSource("postOps")
    void fusedChain(NativeConv2d.PostOps post, WinogradTile tile) {
        Random r = new Random(7);
        Conv2dParams p = Conv2dParams.of(12, 10, 3, 3).withPadding(1, 1);
        long[] shape = {3, 12, 11, 13};
        int k = 10;
        float[] mean = random(r, k, 0.2), var = new float[k], gamma = random(r, k, 1), beta = random(r, k, 0.5);
        for (int i = 0; i < k; i++) var[i] = 0.5f + r.nextFloat();
        Conv2d conv = BnFolding.fold(p, random(r, (int) p.weightCount(), 0.3), random(r, k, 0.1), gamma, beta, mean, var, 1e-5f);
        float[] x = random(r, 3 * 12 * 11 * 13, 1);
        long[] out = p.outputShape(shape);
        float[] residual = post.residualSum() ? random(r, (int) Tensor.elementCount(out), 1) : null;
        float[] expected = direct(conv, x, shape);
        for (int i = 0; i < expected.length; i++) expected[i] += residual != null ? residual[i] : 0;
        double scale = maxAbs(expected); // before the activation: a Clip shrinks the range, not the rounding of the sum
        for (int i = 0; i < expected.length; i++) {
            if (post.activation() != null) expected[i] = post.activation().apply(expected[i], post.alpha(), post.beta());
        }
        float[] got = nativeWinograd(conv, x, shape, post, residual, tile, 1, 16);
        assertTrue(relativeError(expected, got, scale) < bound(tile), post + " " + tile + ": " + relativeError(expected, got, scale));
    }

    static Stream<Arguments> postOps() {
        NativeConv2d.PostOps[] posts = {
            NativeConv2d.PostOps.NONE,
            NativeConv2d.PostOps.of(false, true),
            NativeConv2d.PostOps.of(true, false),
            NativeConv2d.PostOps.of(true, true),
            new NativeConv2d.PostOps(false, EltwiseAlgorithm.CLIP, 0f, 6f),
            new NativeConv2d.PostOps(true, EltwiseAlgorithm.CLIP, -0.5f, 0.7f),
        };
        return Stream.of(posts).flatMap(po -> Stream.of(WinogradTile.values()).map(t -> Arguments.of(po, t)));
    }

    /** The residual may be the output buffer itself (a plan's in-place sum): each tile reads before it writes. */
    /** The α² planes of a block's V and M start in distinct L1 sets (64 sets of 64-byte lines, 4 KiB apart), whatever T and C. */
    @Test
    void planesOfABlockFallIntoDistinctCacheSets() {
        for (int tiles : new int[] {1, 7, 8, 40, 48, 49, 64, 196}) {
            for (int channels : new int[] {8, 32, 64, 128, 256, 512}) {
                long plane = NativeWinograd.planeBytes(tiles, channels);
                assertTrue(plane >= (long) tiles * channels * Float.BYTES && plane % 64 == 0, tiles + "x" + channels);
                java.util.Set<Long> sets = new java.util.HashSet<>();
                for (int xi = 0; xi < 36; xi++) sets.add(xi * plane / 64 % 64);
                assertEquals(36, sets.size(), "planes of " + tiles + "x" + channels + " share L1 sets, plane " + plane + " B");
            }
        }
    }

    @Test
    void residualInPlace() {
        Random r = new Random(11);
        Conv2dParams p = Conv2dParams.of(9, 9, 3, 3).withPadding(1, 1);
        long[] shape = {1, 9, 10, 10};
        Conv2d conv = new Conv2d(p, random(r, (int) p.weightCount(), 0.3), null);
        float[] x = random(r, 900, 1), residual = random(r, 900, 1);
        float[] expected = direct(conv, x, shape);
        for (int i = 0; i < expected.length; i++) expected[i] = Math.max(0, expected[i] + residual[i]);
        try (Arena arena = Arena.ofConfined(); NativeWinograd wino = new NativeWinograd(conv, shape, NativeConv2d.PostOps.of(true, true), WinogradTile.F4X4, 1)) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, toNhwc(x, shape));
            MemorySegment dst = arena.allocateFrom(ValueLayout.JAVA_FLOAT, toNhwc(residual, shape));
            try (NativeWinograd.Bound run = wino.bind(src, dst, dst)) {
                run.run();
            }
            float[] got = toNchw(dst.toArray(ValueLayout.JAVA_FLOAT), shape);
            assertTrue(relativeError(expected, got) < bound(WinogradTile.F4X4));
        }
    }

    @Test
    void refusesWhatItCannotRun() {
        Conv2d strided = new Conv2d(Conv2dParams.of(4, 4, 3, 3).withStride(2, 2), new float[144], null);
        String m = assertThrows(IllegalArgumentException.class,
                () -> new NativeWinograd(strided, new long[] {1, 4, 8, 8}, NativeConv2d.PostOps.NONE, WinogradTile.F2X2, 1)).getMessage();
        assertTrue(m.contains("stride 1"), m);
        Conv2d conv = new Conv2d(Conv2dParams.of(4, 4, 3, 3), new float[144], null);
        NativeConv2d.PostOps tanh = new NativeConv2d.PostOps(false, EltwiseAlgorithm.TANH, 0f, 0f);
        m = assertThrows(IllegalArgumentException.class, () -> new NativeWinograd(conv, new long[] {1, 4, 8, 8}, tanh, WinogradTile.F2X2, 1)).getMessage();
        assertTrue(m.contains("ReLU or Clip"), m);
        try (Arena arena = Arena.ofConfined(); NativeWinograd wino = new NativeWinograd(conv, new long[] {1, 4, 8, 8}, NativeConv2d.PostOps.NONE, WinogradTile.F2X2, 1)) {
            MemorySegment small = arena.allocate(16);
            m = assertThrows(IllegalArgumentException.class, () -> wino.bind(small, small, null)).getMessage();
            assertTrue(m.contains("at least 1024 bytes"), m);
            wino.close();
            wino.close(); // idempotent
            assertThrows(IllegalStateException.class, () -> wino.bind(small, small, null));
        }
    }
}
