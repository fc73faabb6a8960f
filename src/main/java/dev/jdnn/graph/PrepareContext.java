package dev.jdnn.graph;

import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.ops.conv.AutotuneCache;
import dev.jdnn.ops.conv.SharedWeights;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

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
 * @param background where convolution weights are reordered (null: on the preparing thread)
 */
public record PrepareContext(SharedWeights weights, AutotuneCache autotune, PrepareStats stats, Staging staging, Background background) {
    public static final ScopedValue<PrepareContext> CURRENT = ScopedValue.newInstance();

    public PrepareContext(SharedWeights weights, AutotuneCache autotune, PrepareStats stats) {
        this(weights, autotune, stats, new Staging(), new Background(stats));
    }

    /** The bound context, or one that shares nothing and whose times nobody reads. */
    public static PrepareContext current() {
        return CURRENT.isBound() ? CURRENT.get() : new PrepareContext(null, null, new PrepareStats(), null, null);
    }

    /**
     * One native buffer for staging plain weights before their reorder, grown to the largest conv's weights
     * and reused by every conv of the plan being prepared (one thread at a time uses it: the {@link Background}
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

    /**
     * One thread that reorders a plan's convolution weights ({@link SharedWeights#acquire(SharedWeights.Source,
     * java.lang.foreign.MemorySegment, java.util.function.Consumer, java.util.concurrent.Executor)}) while the
     * preparing thread goes on creating primitives. In a cold JVM much of that work is the kernel handing out
     * fresh pages for the reordered weights, which another core does as well as this one. Started by the first
     * task; tasks run one after another in the order given (so they can share the {@link Staging} buffer), each
     * with one oneDNN thread. A plan waits for its weights before it is done ({@link NativeOp#awaitWeights});
     * {@link #close} waits for whatever is left (never drops a task) and ends the thread.
     */
    public static final class Background implements java.util.concurrent.Executor, AutoCloseable {
        private final PrepareStats stats;
        private ExecutorService thread;

        Background(PrepareStats stats) {
            this.stats = stats;
        }

        @Override
        public synchronized void execute(Runnable task) {
            if (thread == null) {
                thread = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("jdnn-prepare-weights").unstarted(() -> {
                    try {
                        Dnnl.setThreads(1);
                    } catch (RuntimeException notOpenMp) {
                        // a oneDNN without OpenMP thread controls: its reorders run as it decides
                    }
                    r.run();
                }));
            }
            thread.execute(() -> {
                long t0 = System.nanoTime();
                try {
                    task.run();
                } finally {
                    stats.backgroundNanos.addAndGet(System.nanoTime() - t0);
                }
            });
        }

        @Override
        public synchronized void close() {
            if (thread == null) return;
            thread.shutdown();
            boolean interrupted = false;
            while (true) {
                try {
                    if (thread.awaitTermination(1, TimeUnit.MINUTES)) break;
                } catch (InterruptedException e) {
                    interrupted = true;   // the tasks write memory others free after this returns: finish waiting
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            thread = null;
        }
    }
}
