package dev.jdnn.graph;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where the time to prepare one plan went, by phase (nanoseconds, summed over the convolutions; the
 * phases run one after another on the preparing thread, except the work handed to the background thread,
 * counted apart):
 * <ul>
 *   <li>shapes: shape inference and constant folding over the graph</li>
 *   <li>lowering: fusion and layout planning, other ops' primitives and their weights, buffer planning
 *       (the total minus the other phases)</li>
 *   <li>fold: writing each convolution's plain weights with a batch norm folded in (native memory)</li>
 *   <li>primitive creation: oneDNN convolution primitive descriptors and kernels</li>
 *   <li>autotune: timing candidate kernels (0 with autotune off or every decision cached)</li>
 *   <li>weight reorders: into each kernel's layout (0 for weights another plan had reordered)</li>
 *   <li>background: oneDNN kernel generation and conv weight folding and reordering handed to
 *       {@link dev.jdnn.dnnl.BackgroundWork} (its thread, or the preparing thread when that needed a kernel
 *       first), and how long the preparing thread waited at the end for the last of them</li>
 * </ul>
 */
public final class PrepareStats {
    final AtomicLong totalNanos = new AtomicLong();
    public final AtomicLong shapeNanos = new AtomicLong();
    public final AtomicLong foldNanos = new AtomicLong();
    public final AtomicLong primitiveNanos = new AtomicLong();
    public final AtomicLong autotuneNanos = new AtomicLong();
    public final AtomicLong reorderNanos = new AtomicLong();
    public final AtomicLong backgroundNanos = new AtomicLong();
    public final AtomicLong waitNanos = new AtomicLong();
    public final AtomicLong convolutions = new AtomicLong();
    public final AtomicLong sharedWeightHits = new AtomicLong();

    /** The whole preparation took {@code nanos}. */
    public void total(long nanos) {
        totalNanos.set(nanos);
    }

    public long totalNanos() {
        return totalNanos.get();
    }

    /** One line per phase, for {@code explain}. */
    public List<String> lines() {
        long phases = shapeNanos.get() + foldNanos.get() + primitiveNanos.get() + autotuneNanos.get() + reorderNanos.get() + waitNanos.get();
        return List.of(
                String.format(Locale.ROOT, "prepare: %.1f ms (shapes %.1f, lowering %.1f, conv weights: fold %.1f, conv primitive creation %.1f,"
                                + " autotune %.1f, weight reorders %.1f, waiting for the background %.1f; %d convolutions, %d found their weights"
                                + " already reordered; background work meanwhile (kernels, weight folds and reorders) %.1f)",
                        ms(totalNanos.get()), ms(shapeNanos.get()), ms(Math.max(0, totalNanos.get() - phases)), ms(foldNanos.get()), ms(primitiveNanos.get()),
                        ms(autotuneNanos.get()), ms(reorderNanos.get()), ms(waitNanos.get()), convolutions.get(), sharedWeightHits.get(),
                        ms(backgroundNanos.get())));
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
