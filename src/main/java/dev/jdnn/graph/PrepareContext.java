package dev.jdnn.graph;

import dev.jdnn.ops.conv.AutotuneCache;
import dev.jdnn.ops.conv.SharedWeights;

/**
 * What preparing a plan may share beyond the plan itself, bound by the {@code Session} around
 * {@code new Plan(...)} so the lowerings deep inside find it without every constructor passing it on:
 * the model's reordered-weight cache, the autotune decision cache, and where prepare times are counted.
 *
 * @param weights  reordered weights shared by every plan of the model (null: each primitive owns its own)
 * @param autotune autotune decisions reused across JVMs (null: always time)
 * @param stats    where this preparation's phase times are added up
 */
public record PrepareContext(SharedWeights weights, AutotuneCache autotune, PrepareStats stats) {
    public static final ScopedValue<PrepareContext> CURRENT = ScopedValue.newInstance();

    /** The bound context, or one that shares nothing and whose times nobody reads. */
    public static PrepareContext current() {
        return CURRENT.isBound() ? CURRENT.get() : new PrepareContext(null, null, new PrepareStats());
    }
}
