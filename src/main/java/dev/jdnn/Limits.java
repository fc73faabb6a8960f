package dev.jdnn;

/**
 * What one {@link Session} may use, set by a server through {@link Session.Options#withLimits}. Every
 * limit is checked before the memory is allocated, and exceeding it is an {@link IllegalArgumentException}
 * naming the limit, the node or tensor and the bytes asked for:
 *
 * @param maxTensorBytes     largest tensor a plan may compute (any node output, constant-folded values
 *                           included), in bytes; checked while a plan is prepared from the inferred shapes
 * @param maxActivationBytes largest activation memory of one plan: a compiled plan's buffer per run
 *                           (after liveness sharing), or for node-by-node plans the sum of every computed
 *                           tensor (an upper bound: no sharing)
 * @param maxPlans           prepared plans a session keeps (one per input-shape × requested-names
 *                           combination); the least recently used one is dropped beyond it
 * @param maxPlanBytes       activation bytes the kept plans may add up to; least recently used plans are
 *                           dropped beyond it (the plan just prepared is always kept)
 */
public record Limits(long maxTensorBytes, long maxActivationBytes, int maxPlans, long maxPlanBytes) {
    /** Default: tensors up to 16 GiB, no activation limit per plan, 32 plans, 8 GiB of plans. */
    public static final Limits DEFAULT = new Limits(16L << 30, Long.MAX_VALUE, 32, 8L << 30);

    public Limits {
        if (maxTensorBytes < 1) throw new IllegalArgumentException("maxTensorBytes must be >= 1, got " + maxTensorBytes);
        if (maxActivationBytes < 1) throw new IllegalArgumentException("maxActivationBytes must be >= 1, got " + maxActivationBytes);
        if (maxPlans < 1) throw new IllegalArgumentException("maxPlans must be >= 1, got " + maxPlans);
        if (maxPlanBytes < 1) throw new IllegalArgumentException("maxPlanBytes must be >= 1, got " + maxPlanBytes);
    }

    public static Limits defaults() {
        return DEFAULT;
    }

    public Limits withMaxTensorBytes(long bytes) { return new Limits(bytes, maxActivationBytes, maxPlans, maxPlanBytes); }
    public Limits withMaxActivationBytes(long bytes) { return new Limits(maxTensorBytes, bytes, maxPlans, maxPlanBytes); }
    public Limits withMaxPlans(int plans) { return new Limits(maxTensorBytes, maxActivationBytes, plans, maxPlanBytes); }
    public Limits withMaxPlanBytes(long bytes) { return new Limits(maxTensorBytes, maxActivationBytes, maxPlans, bytes); }

    /**
     * Bytes of a tensor of this shape and element type, or an exception naming {@code what} when it is
     * over {@link #maxTensorBytes} or its size overflows a long.
     */
    public long checkTensor(String what, long[] shape, DataType type) {
        long bytes = type.bytes();
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(what + " has a negative dimension: " + Tensor.format(shape));
            if (d != 0 && bytes > Long.MAX_VALUE / d) {
                throw new IllegalArgumentException(what + " of shape " + Tensor.format(shape) + " has more bytes than a long can count");
            }
            bytes *= d;
        }
        if (bytes > maxTensorBytes) {
            throw new IllegalArgumentException(what + " of shape " + Tensor.format(shape) + " " + type.onnxName() + " needs " + bytes
                    + " bytes, more than the session's limit maxTensorBytes=" + maxTensorBytes + " (Session.Options.withLimits)");
        }
        return bytes;
    }

    private static final ThreadLocal<Limits> PREPARING = new ThreadLocal<>();

    /**
     * The limits of the plan being prepared on this thread ({@link #DEFAULT} outside one): Java kernels
     * that size arrays while preparing (index maps, outputs) check them through this before allocating.
     */
    public static Limits current() {
        Limits l = PREPARING.get();
        return l == null ? DEFAULT : l;
    }

    /** Runs {@code body} with these limits as {@link #current()} on this thread (for plan preparation). */
    public void during(Runnable body) {
        Limits outer = PREPARING.get();
        PREPARING.set(this);
        try {
            body.run();
        } finally {
            if (outer == null) PREPARING.remove();
            else PREPARING.set(outer);
        }
    }
}
