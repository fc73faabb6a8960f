package dev.jdnn.graph;

import dev.jdnn.dnnl.BackgroundWork;
import dev.jdnn.ops.conv.AutotuneCache;
import dev.jdnn.ops.conv.SharedWeights;

/**
 * What preparing a plan may share beyond the plan itself, bound by the {@code Session} around
 * {@code new Plan(...)} so the lowerings deep inside find it without every constructor passing it on:
 * the model's reordered-weight cache, the autotune decision cache, where prepare times are counted, and the
 * thread that writes convolution weights in the background.
 *
 * @param weights    reordered weights shared by every plan of the model (null: each primitive owns its own)
 * @param autotune   autotune decisions reused across JVMs (null: always time)
 * @param stats      where this preparation's phase times are added up
 * @param background where oneDNN kernels are made and convolution weights reordered (null: on the preparing thread)
 */
public record PrepareContext(SharedWeights weights, AutotuneCache autotune, PrepareStats stats, BackgroundWork background) {
    public static final ScopedValue<PrepareContext> CURRENT = ScopedValue.newInstance();

    public PrepareContext(SharedWeights weights, AutotuneCache autotune, PrepareStats stats) {
        this(weights, autotune, stats, new BackgroundWork());
    }

    /** The bound context, or one that shares nothing and whose times nobody reads. */
    public static PrepareContext current() {
        return CURRENT.isBound() ? CURRENT.get() : new PrepareContext(null, null, new PrepareStats(), null);
    }
}
