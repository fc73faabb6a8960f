package dev.jdnn.graph;

/**
 * What a native session does to a graph when it prepares it. Each switch exists for debugging and for
 * the fused-vs-unfused comparison; results agree with every combination (within float rounding).
 *
 * @param compile        run the graph as a {@link CompiledPlan}: oneDNN chooses blocked layouts and
 *                       tensors stay in them between native ops (reordered only at inputs, outputs, taps
 *                       and Java-only ops); intermediate buffers are planned by liveness and preallocated;
 *                       every primitive is created up front, and a run allocates nothing but its result.
 *                       Off: every node runs on plain NCHW tensors, one by one (the simple path).
 * @param foldBatchNorm  fold an inference BatchNormalization into the Conv before it (needs {@code compile})
 * @param fuseActivation run a Relu or Clip after a Conv (or a ReLU after a BatchNormalization) inside
 *                       that primitive (needs {@code compile})
 * @param fuseAdd        add a residual inside the Conv that produces one side of an Add (oneDNN's sum
 *                       post-op; needs {@code compile})
 */
public record Optimizations(boolean compile, boolean foldBatchNorm, boolean fuseActivation, boolean fuseAdd) {
    /** Everything on: the default. */
    public static Optimizations all() {
        return new Optimizations(true, true, true, true);
    }

    /** Compiled (layouts, planned memory) but no fusion: every node is its own primitive. */
    public static Optimizations unfused() {
        return new Optimizations(true, false, false, false);
    }

    /** The simple node-by-node path on plain tensors. */
    public static Optimizations none() {
        return new Optimizations(false, false, false, false);
    }

    @Override
    public String toString() {
        if (!compile) return "none";
        if (foldBatchNorm && fuseActivation && fuseAdd) return "all";
        if (!foldBatchNorm && !fuseActivation && !fuseAdd) return "unfused";
        return "compile" + (foldBatchNorm ? "+foldBatchNorm" : "") + (fuseActivation ? "+fuseActivation" : "") + (fuseAdd ? "+fuseAdd" : "");
    }
}
