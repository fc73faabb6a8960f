package dev.jdnn.ops.winograd;

import dev.jdnn.dnnl.DnnlException;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Chooses, for one conv layer of a compiled plan, between oneDNN's direct convolution and the allowed
 * Winograd tile sizes by timing each on the layer's real shapes, threads and post-ops (on zeroed
 * buffers: the time does not depend on the values). Winograd must beat direct by {@link #MARGIN} so
 * that timing noise on a shared machine does not pick it for a layer where the two are even.
 *
 * <p>The Java transforms are JIT-compiled first ({@link #warmUp}, once per JVM): before C2 compiles
 * them the Vector API code runs 100–1000× slower, which would make every first timing meaningless. If C2
 * has not compiled them within the warm-up's budget (a heavily loaded machine), the layer keeps the direct
 * convolution and says so.
 */
public final class WinogradChoice {
    private WinogradChoice() {}

    /** A Winograd candidate must take at most this fraction of the direct time to be chosen. */
    static final double MARGIN = 0.95;
    /**
     * {@code -Djdnn.winograd.choice=always}: every eligible layer runs the largest allowed tile size,
     * untimed (tests use it to cover whole models deterministically); {@code timed} (default) times them.
     */
    public static final String CHOICE_PROPERTY = "jdnn.winograd.choice";
    private static final int ROUNDS = Integer.getInteger("jdnn.winograd.timingRounds", 5);
    private static boolean warm;
    private static int warmUpAttempts;

    /**
     * What a layer runs: {@code winograd} (null: the direct convolution) and the timings that decided it,
     * for {@code explain}.
     */
    public record Choice(NativeWinograd winograd, String reason) {}

    /**
     * Times {@code direct} and a {@link NativeWinograd} per tile in {@code tiles} and returns the fastest
     * Winograd if it beats direct by the margin (the others are closed); {@code direct} stays the caller's.
     */
    public static Choice choose(Conv2d conv, long[] input, NativeConv2d.PostOps post, NativeConv2d direct, List<WinogradTile> tiles, int threads) {
        Conv2dParams p = conv.params();
        if (tiles.isEmpty() || !NativeWinograd.supports(p) || !NativeWinograd.supports(post)) return new Choice(null, "direct");
        if (System.getProperty(CHOICE_PROPERTY, "timed").equals("always")) {
            // For tests and comparisons: the largest allowed tile on every eligible layer, untimed (the JIT still warmed).
            warmUp();
            WinogradTile largest = tiles.get(tiles.size() - 1);
            return new Choice(new NativeWinograd(conv, input, post, largest, threads), CHOICE_PROPERTY + "=always");
        }
        // One decision per layer shape, post-ops, candidates and threads in a JVM: every session of a model (and
        // every plan with the same layer) then runs the same kernels and gives the same bits, whatever the timing
        // noise of the moment would have chosen.
        String key = p + "|" + java.util.Arrays.toString(input) + "|" + post + "|" + tiles + "|" + threads;
        java.util.Optional<WinogradTile> known = DECIDED.get(key);
        if (known != null) return decided(conv, input, post, threads, known);
        if (!warmUp()) return new Choice(null, "direct (the Winograd transforms are not JIT-compiled yet)");
        List<NativeWinograd> candidates = new ArrayList<>();
        List<WinogradTile> timed = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            for (WinogradTile t : tiles) {
                try {
                    candidates.add(new NativeWinograd(conv, input, post, t, threads));
                    timed.add(t);
                } catch (DnnlException e) {
                    // oneDNN has no matmul for this GEMM shape here: that tile size is simply not a candidate.
                }
            }
            if (candidates.isEmpty()) return new Choice(null, "direct (no Winograd GEMM available)");
            MemorySegment directSrc = arena.allocate(MemoryDescs.size(direct.srcDesc()), 64);
            MemorySegment directDst = arena.allocate(MemoryDescs.size(direct.dstDesc()), 64);
            MemorySegment src = arena.allocate(MemoryDescs.size(candidates.get(0).srcDesc()), 64);
            MemorySegment dst = arena.allocate(MemoryDescs.size(candidates.get(0).dstDesc()), 64);
            List<NativeWinograd.Bound> runs = new ArrayList<>();
            try {
                for (NativeWinograd w : candidates) runs.add(w.bind(src, dst, dst));
                Runnable[] all = new Runnable[runs.size() + 1];
                all[0] = () -> direct.runInNativeLayout(directSrc, directDst);
                for (int i = 0; i < runs.size(); i++) all[i + 1] = runs.get(i)::run;
                double[] best = new double[all.length];
                java.util.Arrays.fill(best, Double.MAX_VALUE);
                for (Runnable r : all) r.run(); // first touch of buffers, caches, pool threads
                // Alternating rounds share a noisy neighbour's bursts between the candidates; the minimum is the layer's own speed.
                for (int round = 0; round < ROUNDS; round++) {
                    for (int i = 0; i < all.length; i++) {
                        long t0 = System.nanoTime();
                        all[i].run();
                        best[i] = Math.min(best[i], System.nanoTime() - t0);
                    }
                }
                int winner = 0;
                for (int i = 1; i < all.length; i++) if (best[i] <= MARGIN * best[0] && best[i] < best[winner]) winner = i;
                StringBuilder reason = new StringBuilder(String.format(Locale.ROOT, "timed: direct %.3f ms", best[0] / 1e6));
                for (int i = 1; i < all.length; i++) reason.append(String.format(Locale.ROOT, ", %s %.3f ms", timed.get(i - 1).label(), best[i] / 1e6));
                reason.append(" → ").append(winner == 0 ? "direct" : timed.get(winner - 1).label());
                java.util.Optional<WinogradTile> decision = java.util.Optional.ofNullable(winner == 0 ? null : timed.get(winner - 1));
                java.util.Optional<WinogradTile> first = DECIDED.putIfAbsent(key, decision);
                if (first != null && !first.equals(decision)) return decided(conv, input, post, threads, first);   // another plan timed it first
                NativeWinograd chosen = winner == 0 ? null : candidates.get(winner - 1);
                candidates.remove(chosen);
                return new Choice(chosen, reason.toString());
            } finally {
                for (NativeWinograd.Bound b : runs) b.close();
            }
        } finally {
            for (NativeWinograd w : candidates) w.close();
        }
    }

    /** Decisions made in this JVM, by layer (see {@link #choose}); empty = the direct convolution. */
    private static final java.util.Map<String, java.util.Optional<WinogradTile>> DECIDED = new java.util.concurrent.ConcurrentHashMap<>();

    private static Choice decided(Conv2d conv, long[] input, NativeConv2d.PostOps post, int threads, java.util.Optional<WinogradTile> tile) {
        return tile.isEmpty() ? new Choice(null, "direct (timed earlier in this JVM)")
                : new Choice(new NativeWinograd(conv, input, post, tile.get(), threads), tile.get().label() + " (timed earlier in this JVM)");
    }

    /**
     * Calls both tile sizes' transforms (with and without a residual) on small L1-resident buffers until
     * C2 has compiled them: at least {@code jdnn.winograd.warmupCalls} calls (C2 compiles a method after a
     * few thousand), then until a batch of 200 calls takes under 1 ms (compiled, ~0.1 ms; interpreted or
     * C1-compiled Vector API code takes 5 ms to 100 ms and more). Gives up after 20 s the first time
     * (C2's threads get little CPU on a loaded machine) and 2 s on each later call, and says whether the
     * transforms are compiled; once they are, it returns at once.
     *
     * <p>The memory segment and session classes a program meets are loaded first: compiled code that
     * assumed the only implementation so far would otherwise be thrown away when another one loads.
     */
    public static synchronized boolean warmUp() {
        if (warm) return true;
        for (Object array : new Object[] {new byte[8], new short[4], new char[4], new int[2], new float[2], new long[1], new double[1]}) {
            switch (array) {
                case byte[] a -> MemorySegment.ofArray(a);
                case short[] a -> MemorySegment.ofArray(a);
                case char[] a -> MemorySegment.ofArray(a);
                case int[] a -> MemorySegment.ofArray(a);
                case float[] a -> MemorySegment.ofArray(a);
                case long[] a -> MemorySegment.ofArray(a);
                case double[] a -> MemorySegment.ofArray(a);
                default -> throw new AssertionError(array);
            }
        }
        MemorySegment.ofBuffer(java.nio.ByteBuffer.allocateDirect(8));
        Arena.global();
        Arena.ofAuto().allocate(8);
        try (Arena confined = Arena.ofConfined()) {
            confined.allocate(8);
        }
        int minCalls = Integer.getInteger("jdnn.winograd.warmupCalls", 6000);
        long deadline = System.nanoTime() + (warmUpAttempts++ == 0 ? 20_000_000_000L : 2_000_000_000L);
        boolean compiled = true;
        // Shared, as a plan's frames are: code compiled against another kind of segment would deoptimize on first real use.
        try (Arena arena = Arena.ofShared()) {
            int chunks = 4;
            MemorySegment patch = arena.allocate(6 * 6 * 32L * chunks, 64), v = arena.allocate(36 * 32L * chunks, 64);
            float[] bias = new float[8 * chunks];
            for (WinogradTile t : WinogradTile.values()) {
                Transforms tr = Transforms.create(t);
                long pixel = 32L * chunks, plane = 32L * chunks;
                boolean fast = false;
                for (int calls = 0; !fast && System.nanoTime() < deadline; ) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < 200; i++, calls++) {
                        tr.input(patch, 0, pixel, pixel * t.alpha, chunks, v, 0, plane);
                        tr.output(v, 0, plane, chunks, bias, 0f, Float.POSITIVE_INFINITY, (i & 1) == 0 ? null : patch, 0, pixel, pixel * t.m,
                                patch, 0, pixel, pixel * t.m);
                    }
                    fast = calls >= minCalls && System.nanoTime() - t0 < 1_000_000;
                }
                compiled &= fast;
            }
        }
        warm = compiled;
        return compiled;
    }
}
