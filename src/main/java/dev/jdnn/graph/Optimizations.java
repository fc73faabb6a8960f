package dev.jdnn.graph;

/**
 * What a native session does to a graph when it prepares it. Each switch exists for debugging and for
 * the fused-vs-unfused comparison; results agree with every combination (within float rounding).
 *
 * @param compile        run the graph as a {@link CompiledPlan}: oneDNN chooses layouts (NHWC or blocked) and
 *                       tensors stay in them between native ops (reordered only at inputs, outputs, taps
 *                       and Java-only ops); intermediate buffers are planned by liveness and preallocated;
 *                       every primitive is created up front, and a run allocates nothing but its result.
 *                       Off: every node runs on plain NCHW tensors, one by one (the simple path).
 * @param foldBatchNorm  fold an inference BatchNormalization into the Conv before it (needs {@code compile})
 * @param fuseActivation run a Relu or Clip after a Conv (or a ReLU after a BatchNormalization) inside
 *                       that primitive (needs {@code compile})
 * @param fuseAdd        add a residual inside the Conv that produces one side of an Add (oneDNN's sum
 *                       post-op; needs {@code compile})
 * @param autotune       time oneDNN's two best-ranked convolution kernels for each conv when the plan
 *                       is prepared and keep the faster (costs a few runs of each conv at prepare time;
 *                       needs {@code compile})
 * @param concatInPlace  at batch 1, let the ops that produce a channel Concat's inputs write straight into
 *                       their slices of its output, so the Concat copies nothing; only where the layout
 *                       makes a channel range contiguous (plain NCHW, {@code nChw8c}/{@code nChw16c}), which
 *                       on AVX2 with oneDNN 3.13 is GoogLeNet's input Concat but not the NHWC inception or
 *                       DenseNet Concats (needs {@code compile})
 * @param winograd       which Winograd convolutions a 3×3, stride-1 conv chain may run as instead of oneDNN's
 *                       direct convolution; each layer takes the fastest candidate, timed on its real shapes
 *                       when the plan is prepared (needs {@code compile}; see {@link Winograd})
 * @param batchSplit     with several oneDNN threads and a batch they divide, run the batch as that many slices
 *                       side by side, each slice's plan on one thread, instead of forking every primitive
 *                       over all threads; only where every op treats samples independently (see
 *                       {@code BatchSplit}; needs {@code compile})
 */
public record Optimizations(boolean compile, boolean foldBatchNorm, boolean fuseActivation, boolean fuseAdd, boolean autotune,
                            boolean concatInPlace, Winograd winograd, boolean batchSplit) {
    /**
     * Winograd 3×3 convolutions ({@code dev.jdnn.ops.winograd}): which tile sizes a layer may choose
     * between, beside the direct convolution, by timing them at prepare.
     */
    public enum Winograd {
        /** Direct convolutions only. */
        OFF,
        /** F(2×2,3×3) where it is faster: as exact as the direct convolution (max error ~1e-6 of the output range). */
        EXACT,
        /** F(2×2,3×3) or F(4×4,3×3), the fastest: F(4×4) rounds ~10× worse (up to ~5e-5 of a layer's output range). */
        FAST
    }

    public Optimizations {
        if (winograd == null) throw new IllegalArgumentException("winograd must be OFF, EXACT or FAST, not null");
    }

    /** The six fusion and layout switches alone: no Winograd, no batch split (as before either existed). */
    public Optimizations(boolean compile, boolean foldBatchNorm, boolean fuseActivation, boolean fuseAdd, boolean autotune, boolean concatInPlace) {
        this(compile, foldBatchNorm, fuseActivation, fuseAdd, autotune, concatInPlace, Winograd.OFF, false);
    }

    /**
     * Every fusion and the batch split (the default). Autotune off: it measured no reliable gain on ResNet-50 here
     * and slows preparing. Winograd EXACT (F(2×2,3×3), as exact as the direct convolution) unless
     * {@code -Djdnn.winograd=off|fast}: each 3×3 stride-1 layer runs it where timing at prepare found it faster (the
     * decision is kept in the autotune cache). Only where a plan runs on one thread (a one-thread session, the slices
     * of a split batch). It costs the first result of a fresh one-thread JVM about a second (ResNet-50: the weight
     * transforms, the transforms' JIT compilation on a background thread), more on a machine whose cache has no
     * decision yet; {@code -Djdnn.winograd=off} or {@link #withWinograd} turn it off where start-up matters more.
     */
    public static Optimizations all() {
        return new Optimizations(true, true, true, true, false, true, defaultWinograd(), true);
    }

    /** {@code -Djdnn.winograd=off|exact|fast}, EXACT when unset. */
    static Winograd defaultWinograd() {
        String v = System.getProperty("jdnn.winograd", "exact");
        try {
            return Winograd.valueOf(v.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-Djdnn.winograd must be off, exact or fast, got '" + v + "'", e);
        }
    }

    /** Compiled (layouts, planned memory) but no fusion: every node is its own primitive, every Concat copies. */
    public static Optimizations unfused() {
        return new Optimizations(true, false, false, false, false, false);
    }

    /** The simple node-by-node path on plain tensors. */
    public static Optimizations none() {
        return new Optimizations(false, false, false, false, false, false);
    }

    public Optimizations withAutotune(boolean on) {
        return new Optimizations(compile, foldBatchNorm, fuseActivation, fuseAdd, on, concatInPlace, winograd, batchSplit);
    }

    public Optimizations withConcatInPlace(boolean on) {
        return new Optimizations(compile, foldBatchNorm, fuseActivation, fuseAdd, autotune, on, winograd, batchSplit);
    }

    public Optimizations withBatchSplit(boolean on) {
        return new Optimizations(compile, foldBatchNorm, fuseActivation, fuseAdd, autotune, concatInPlace, winograd, on);
    }

    public Optimizations withWinograd(Winograd w) {
        return new Optimizations(compile, foldBatchNorm, fuseActivation, fuseAdd, autotune, concatInPlace, w, batchSplit);
    }

    @Override
    public String toString() {
        if (!compile) return "none";
        boolean allFusions = foldBatchNorm && fuseActivation && fuseAdd && concatInPlace;
        // Winograd is named when it differs from the preset's own (all: -Djdnn.winograd, default exact; the others: off);
        // the batch split when it differs from the preset's own (all: on, the others: off).
        String tune = (autotune ? " (autotune)" : "") + (winograd == (allFusions ? defaultWinograd() : Winograd.OFF) ? ""
                : " (winograd " + winograd.name().toLowerCase(java.util.Locale.ROOT) + ")") + (batchSplit == allFusions ? "" : batchSplit ? " (batch split)" : " (no batch split)");
        if (foldBatchNorm && fuseActivation && fuseAdd && concatInPlace) return "all" + tune;
        if (!foldBatchNorm && !fuseActivation && !fuseAdd && !concatInPlace) return "unfused" + tune;
        return "compile" + (foldBatchNorm ? "+foldBatchNorm" : "") + (fuseActivation ? "+fuseActivation" : "") + (fuseAdd ? "+fuseAdd" : "")
                + (concatInPlace ? "+concatInPlace" : "") + tune;
    }
}
