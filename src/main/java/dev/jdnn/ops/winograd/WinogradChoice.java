package dev.jdnn.ops.winograd;

import dev.jdnn.dnnl.DnnlException;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.ops.conv.AutotuneCache;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

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
    private static final java.util.EnumSet<WinogradTile> WARM = java.util.EnumSet.noneOf(WinogradTile.class);
    private static boolean segmentClassesLoaded;
    private static int warmUpAttempts;

    /**
     * What a layer runs: jdnn's {@code winograd}, or oneDNN's own Winograd convolution {@code onednn}, or (both
     * null) the direct convolution; and the timings that decided it, for {@code explain}.
     */
    public record Choice(NativeWinograd winograd, NativeConv2d onednn, String reason) {
        public Choice(NativeWinograd winograd, String reason) {
            this(winograd, null, reason);
        }
    }

    /** Whether {@code -Djdnn.winograd.choice=always} makes every eligible layer Winograd, untimed (tests, comparisons). */
    public static boolean forced() {
        return System.getProperty(CHOICE_PROPERTY, "timed").equals("always");
    }

    /** The label of oneDNN's own Winograd convolution in timings and decisions. */
    public static final String ONEDNN = "oneDNN winograd";

    /**
     * Times {@code direct} and a {@link NativeWinograd} per tile in {@code tiles} and returns the fastest
     * Winograd if it beats direct by the margin (the others are closed); {@code direct} stays the caller's.
     */
    public static Choice choose(Conv2d conv, long[] input, NativeConv2d.PostOps post, NativeConv2d direct, List<WinogradTile> tiles, int threads) {
        return choose(conv, input, post, direct, null, tiles, threads, null);
    }

    /**
     * As above, with oneDNN's own Winograd convolution ({@code onednnWinograd} makes it; null: not a candidate)
     * timed beside them where this oneDNN build has one ({@link #onednnWinogradAvailable}) and it uses the
     * direct convolution's layouts; and with decisions read from and recorded in {@code cache} (null: only this
     * JVM's memo), so a later JVM on the same machine chooses without timing.
     */
    public static Choice choose(Conv2d conv, long[] input, NativeConv2d.PostOps post, NativeConv2d direct, Supplier<NativeConv2d> onednnWinograd,
                                List<WinogradTile> tiles, int threads, AutotuneCache cache) {
        Conv2dParams p = conv.params();
        boolean jdnnEligible = !tiles.isEmpty() && NativeWinograd.supports(p) && NativeWinograd.supports(post);
        boolean onednnEligible = onednnWinograd != null && NativeWinograd.supports(p) && onednnWinogradAvailable();
        if (!jdnnEligible && !onednnEligible) return new Choice(null, "direct");
        if (jdnnEligible && forced()) {
            // For tests and comparisons: the largest allowed tile on every eligible layer, untimed (the JIT still warmed).
            WinogradTile largest = tiles.get(tiles.size() - 1);
            warmUp(List.of(largest));
            return new Choice(new NativeWinograd(conv, input, post, largest, threads), CHOICE_PROPERTY + "=always");
        }
        // One decision per layer shape, post-ops, candidates and threads in a JVM: every session of a model (and
        // every plan with the same layer) then runs the same kernels and gives the same bits, whatever the timing
        // noise of the moment would have chosen. The same key in the autotune cache carries it to later JVMs.
        String key = key(p, input, post, jdnnEligible ? tiles : List.of(), onednnEligible, threads);
        String known = decision(key, cache);
        if (known != null) {
            Choice c = decided(conv, input, post, threads, known, onednnWinograd);
            if (c != null) {
                DECIDED.putIfAbsent(key, known);
                return c;
            }
        }
        if (jdnnEligible && !warmUp(tiles)) {
            if (!onednnEligible) return new Choice(null, "direct (the Winograd transforms are not JIT-compiled yet)");
            jdnnEligible = false;
        }
        List<NativeWinograd> candidates = new ArrayList<>();
        List<WinogradTile> timed = new ArrayList<>();
        NativeConv2d onednn = null;
        String onednnNote = "";
        try (Arena arena = Arena.ofShared()) {
            if (onednnEligible) {
                try {
                    onednn = onednnWinograd.get();
                    if (!MemoryDescs.equal(onednn.srcDesc(), direct.srcDesc()) || !MemoryDescs.equal(onednn.dstDesc(), direct.dstDesc())) {
                        // Other layouts would add reorders around the layer that this timing does not see.
                        onednnNote = ", " + ONEDNN + " [" + onednn.implementation() + "] skipped: other layouts than direct";
                        onednn.close();
                        onednn = null;
                    }
                } catch (DnnlException e) {
                    onednn = null;   // no oneDNN Winograd kernel for this shape or these post-ops
                }
            }
            for (WinogradTile t : jdnnEligible ? tiles : List.<WinogradTile>of()) {
                try {
                    // Made (and its weights packed) here, not on the plan's background thread: it is timed at once, and
                    // would otherwise wait for everything queued there before it.
                    candidates.add(ScopedValue.where(dev.jdnn.dnnl.BackgroundWork.CURRENT, null).call(() -> new NativeWinograd(conv, input, post, t, threads)));
                    timed.add(t);
                } catch (DnnlException e) {
                    // oneDNN has no matmul for this GEMM shape here: that tile size is simply not a candidate.
                }
            }
            if (candidates.isEmpty() && onednn == null) return new Choice(null, "direct (no Winograd available" + onednnNote + ")");
            MemorySegment directSrc = arena.allocate(MemoryDescs.size(direct.srcDesc()), 64);
            MemorySegment directDst = arena.allocate(MemoryDescs.size(direct.dstDesc()), 64);
            List<NativeWinograd.Bound> runs = new ArrayList<>();
            try {
                List<String> labels = new ArrayList<>();
                List<Runnable> all = new ArrayList<>();
                labels.add("direct");
                all.add(() -> direct.runInNativeLayout(directSrc, directDst));
                NativeConv2d own = onednn;
                if (own != null) {
                    labels.add(ONEDNN);
                    all.add(() -> own.runInNativeLayout(directSrc, directDst));
                }
                if (!candidates.isEmpty()) {
                    MemorySegment src = arena.allocate(MemoryDescs.size(candidates.get(0).srcDesc()), 64);
                    MemorySegment dst = arena.allocate(MemoryDescs.size(candidates.get(0).dstDesc()), 64);
                    for (int i = 0; i < candidates.size(); i++) {
                        runs.add(candidates.get(i).bind(src, dst, dst));
                        labels.add(timed.get(i).label());
                        all.add(runs.get(i)::run);
                    }
                }
                double[] best = new double[all.size()];
                java.util.Arrays.fill(best, Double.MAX_VALUE);
                for (Runnable r : all) r.run(); // first touch of buffers, caches, pool threads
                // Alternating rounds share a noisy neighbour's bursts between the candidates; the minimum is the layer's own speed.
                for (int round = 0; round < ROUNDS; round++) {
                    for (int i = 0; i < all.size(); i++) {
                        long t0 = System.nanoTime();
                        all.get(i).run();
                        best[i] = Math.min(best[i], System.nanoTime() - t0);
                    }
                }
                int winner = 0;
                for (int i = 1; i < all.size(); i++) if (best[i] <= MARGIN * best[0] && best[i] < best[winner]) winner = i;
                StringBuilder reason = new StringBuilder("timed:");
                for (int i = 0; i < all.size(); i++) reason.append(String.format(Locale.ROOT, "%s %s %.3f ms", i == 0 ? "" : ",", labels.get(i), best[i] / 1e6));
                reason.append(onednnNote).append(" → ").append(own != null && winner == 1 ? ONEDNN + " [" + own.implementation() + "]" : labels.get(winner));
                String decision = labels.get(winner);
                String first = DECIDED.putIfAbsent(key, decision);
                if (first != null && !first.equals(decision)) {
                    Choice c = decided(conv, input, post, threads, first, onednnWinograd);   // another plan timed it first
                    if (c != null) return c;
                }
                if (cache != null) cache.put(key, toCache(decision));
                if (decision.equals(ONEDNN)) {
                    onednn = null;   // the caller's now
                    return new Choice(null, own, reason.toString());
                }
                NativeWinograd chosen = winner == 0 ? null : candidates.get(winner - (own != null ? 2 : 1));
                candidates.remove(chosen);
                return new Choice(chosen, reason.toString());
            } finally {
                for (NativeWinograd.Bound b : runs) b.close();
            }
        } finally {
            for (NativeWinograd w : candidates) w.close();
            if (onednn != null) onednn.close();
        }
    }

    /**
     * The layer as a {@link NativeWinograd} if this JVM or the autotune cache already chose one of jdnn's tile sizes
     * for it (with the candidates {@link #choose} would time: {@code tiles}, and oneDNN's Winograd if
     * {@code onednnCandidate}); else null, and nothing is made. Lets a plan skip making the direct convolution
     * (its kernel and reordered weights) that the layer would never run.
     */
    public static Choice known(Conv2dParams p, Supplier<Conv2d> conv, long[] input, NativeConv2d.PostOps post, List<WinogradTile> tiles, boolean onednnCandidate,
                               int threads, AutotuneCache cache) {
        if (tiles.isEmpty() || forced()) return null;
        if (!NativeWinograd.supports(p) || !NativeWinograd.supports(post)) return null;
        // The plan's first layer that may run Winograd: C2 compiles the transforms on another core while the plan goes on
        // lowering (timing a layer, or binding one for a run, waits for it).
        warmUpInBackground(tiles);
        String key = key(p, input, post, tiles, onednnCandidate && onednnWinogradAvailable(), threads);
        String decision = decision(key, cache);
        if (decision == null || decision.equals("direct") || decision.equals(ONEDNN)) return null;
        Choice c = decided(conv.get(), input, post, threads, decision, null);
        if (c != null) DECIDED.putIfAbsent(key, decision);
        return c;
    }

    /** The decision made for {@code key} in this JVM, else the one in {@code cache} (may be null); null if neither has one. */
    private static String decision(String key, AutotuneCache cache) {
        String known = DECIDED.get(key);
        return known == null && cache != null ? fromCache(cache.get(key)) : known;
    }

    /** The decision's key: what was timed against what (one line of the autotune cache). */
    static String key(Conv2dParams p, long[] input, NativeConv2d.PostOps post, List<WinogradTile> tiles, boolean onednn, int threads) {
        // The transforms' kind too: a JVM without the Vector API runs the (much slower) scalar ones.
        return "winograd " + p + " in " + MemoryDescs.dims(input) + post + " " + tiles + (onednn ? " +" + ONEDNN : "") + " t" + threads
                + (Transforms.VECTOR_API ? "" : " scalar");
    }

    /** Decisions made in this JVM, by layer (see {@link #choose}): "direct", {@link #ONEDNN} or a tile's label. */
    private static final java.util.Map<String, String> DECIDED = new java.util.concurrent.ConcurrentHashMap<>();

    /** A decision as the autotune cache's number: 0 direct, 1 oneDNN's Winograd, 2 + ordinal for a jdnn tile. */
    private static int toCache(String decision) {
        if (decision.equals("direct")) return 0;
        if (decision.equals(ONEDNN)) return 1;
        for (WinogradTile t : WinogradTile.values()) if (t.label().equals(decision)) return 2 + t.ordinal();
        throw new IllegalArgumentException(decision);
    }

    /** The decision an autotune cache number stands for; null for none or a number this version does not know. */
    private static String fromCache(Integer number) {
        if (number == null) return null;
        if (number == 0) return "direct";
        if (number == 1) return ONEDNN;
        int tile = number - 2;
        return tile >= 0 && tile < WinogradTile.values().length ? WinogradTile.values()[tile].label() : null;
    }

    /** The choice {@code decision} stands for, made now; null if it cannot be made here (then the layer is timed). */
    private static Choice decided(Conv2d conv, long[] input, NativeConv2d.PostOps post, int threads, String decision, Supplier<NativeConv2d> onednn) {
        if (decision.equals("direct")) return new Choice(null, "direct (timed earlier)");
        if (decision.equals(ONEDNN)) {
            if (onednn == null) return null;
            try {
                NativeConv2d c = onednn.get();
                return new Choice(null, c, ONEDNN + " (timed earlier)");
            } catch (DnnlException e) {
                return null;
            }
        }
        for (WinogradTile t : WinogradTile.values()) {
            // No JIT warm-up needed to make it: binding it for a run waits for that (NativeWinograd.bind), so the plan goes on
            // lowering meanwhile, and the warm-up started by Model.load has more time to finish.
            if (t.label().equals(decision)) return new Choice(new NativeWinograd(conv, input, post, t, threads), t.label() + " (timed earlier)");
        }
        return null;
    }

    private static volatile Boolean onednnAvailable;

    /**
     * Whether the loaded oneDNN creates a Winograd convolution at all (its {@code dnnl_convolution_winograd}
     * kernels are AVX-512 only, and the 3.13 build jdnn ships has none for CPUs: every request returns
     * {@code dnnl_unimplemented}). Asked once per JVM, on a 64→64 3×3 convolution of a 1×64×16×16 input, the
     * shape those kernels were written for, so that plans do not pay a failed primitive creation per layer.
     */
    public static boolean onednnWinogradAvailable() {
        Boolean known = onednnAvailable;
        if (known != null) return known;
        synchronized (WinogradChoice.class) {
            if (onednnAvailable == null) {
                Conv2dParams probe = new Conv2dParams(64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
                boolean made;
                try (NativeConv2d c = new NativeConv2d(probe, NativeConv2d.Weights.of(new Conv2d(probe, new float[64 * 64 * 9], null)),
                        new long[] {1, 64, 16, 16}, NativeConv2d.PostOps.NONE, NativeConv2d.Algorithm.WINOGRAD, 0, null)) {
                    made = true;
                } catch (DnnlException e) {
                    made = false;
                }
                onednnAvailable = made;
            }
            return onednnAvailable;
        }
    }

    /**
     * Calls every tile size's transforms (with and without a residual) on small L1-resident buffers until
     * C2 has compiled them: at least {@code jdnn.winograd.warmupCalls} calls (C2 compiles a method after a
     * few thousand), then until a batch of 200 calls takes under 1 ms (compiled, ~0.1 ms; interpreted or
     * C1-compiled Vector API code takes 5 ms to 100 ms and more). Gives up after 20 s the first time
     * (C2's threads get little CPU on a loaded machine) and 2 s on each later call, and says whether the
     * transforms are compiled; once they are, it returns at once.
     *
     * <p>The memory segment and session classes a program meets are loaded first: compiled code that
     * assumed the only implementation so far would otherwise be thrown away when another one loads.
     */
    public static boolean warmUp() {
        return warmUp(List.of(WinogradTile.values()));
    }

    private static final java.util.Set<WinogradTile> WARMING = java.util.EnumSet.noneOf(WinogradTile.class);

    /**
     * Starts {@link #warmUp} for {@code tiles} on a daemon thread, once per tile size and JVM, and returns at once:
     * {@link #known} calls it for each layer that may run Winograd, so that C2 compiles the transforms while the
     * plan is lowered; whoever needs them compiled later ({@link #choose}, {@link NativeWinograd#bind}) waits for it.
     */
    public static void warmUpInBackground(List<WinogradTile> tiles) {
        List<WinogradTile> start;
        synchronized (WARMING) {
            start = tiles.stream().filter(WARMING::add).toList();
        }
        if (start.isEmpty()) return;
        Thread.ofPlatform().name("jdnn-winograd-warmup").daemon().start(() -> warmUp(start));
    }

    /** {@link #warmUp()} for these tile sizes only (EXACT never runs F(4×4): its transforms need no compiling). */
    public static synchronized boolean warmUp(List<WinogradTile> tiles) {
        if (WARM.containsAll(tiles)) return true;
        if (!segmentClassesLoaded) loadSegmentClasses();
        int minCalls = Integer.getInteger("jdnn.winograd.warmupCalls", 6000);
        long deadline = System.nanoTime() + (warmUpAttempts++ == 0 ? 20_000_000_000L : 2_000_000_000L);
        // Shared, as a plan's frames are: code compiled against another kind of segment would deoptimize on first real use.
        try (Arena arena = Arena.ofShared()) {
            int chunks = 4;
            MemorySegment patch = arena.allocate(6 * 6 * 32L * chunks, 64), v = arena.allocate(36 * 32L * chunks, 64);
            float[] bias = new float[8 * chunks];
            for (WinogradTile t : tiles) {
                if (WARM.contains(t)) continue;
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
                    if (!fast && calls >= minCalls) {
                        // Queued for C2 by now: leave the core to the compiler threads (on a busy 2-core machine this
                        // loop competing with them stretched the warm-up from ~0.7 s to 10–15 s).
                        try {
                            Thread.sleep(2);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return false;
                        }
                    }
                }
                if (fast) WARM.add(t);
            }
        }
        return WARM.containsAll(tiles);
    }

    /**
     * The memory segment and session classes a program meets, loaded before anything is compiled: compiled
     * code that assumed the only implementation so far would be thrown away when another one loads.
     */
    private static void loadSegmentClasses() {
        segmentClassesLoaded = true;
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
    }
}
