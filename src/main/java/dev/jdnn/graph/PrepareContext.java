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
 * @param staging    the buffer plain weights are staged in (null: each convolution allocates its own)
 * @param background where oneDNN kernels are made and convolution weights reordered (null: on the preparing thread)
 */
public record PrepareContext(SharedWeights weights, AutotuneCache autotune, PrepareStats stats, Staging staging, BackgroundWork background) {
    public static final ScopedValue<PrepareContext> CURRENT = ScopedValue.newInstance();

    public PrepareContext(SharedWeights weights, AutotuneCache autotune, PrepareStats stats) {
        this(weights, autotune, stats, new Staging(), new BackgroundWork());
    }

    /** The bound context, or one that shares nothing and whose times nobody reads. */
    public static PrepareContext current() {
        return CURRENT.isBound() ? CURRENT.get() : new PrepareContext(null, null, new PrepareStats(), null, null);
    }

    /**
     * One native buffer for staging plain weights before their reorder, grown to the largest conv's weights
     * and reused by every conv of the plan being prepared (one thread at a time uses it: the {@link BackgroundWork}
     * thread, which runs one reorder after another); freed by {@link #close}.
     */
    public static final class Staging implements AutoCloseable {
        private java.lang.foreign.Arena arena;
        private java.lang.foreign.MemorySegment buffer;

        public synchronized java.lang.foreign.MemorySegment get(long bytes) {
            if (buffer == null || buffer.byteSize() < bytes) {
                close();
                arena = java.lang.foreign.Arena.ofShared();
                buffer = arena.allocate(Math.max(bytes, 1 << 20), 64);
            }
            return buffer;
        }

        @Override
        public synchronized void close() {
            if (arena != null) arena.close();
            arena = null;
            buffer = null;
        }
    }
}
