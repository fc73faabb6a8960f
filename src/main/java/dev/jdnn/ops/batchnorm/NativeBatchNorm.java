package dev.jdnn.ops.batchnorm;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.dnnl.Primitive;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * oneDNN batch normalisation, compiled once per (shape, statistics source, ε) and cached.
 *
 * <p>The tensor {@code N×C×(spatial…)} is given to oneDNN as {@code N×C×S×1} in plain layout
 * (S = product of spatial dims), which is the same computation for every rank.
 * <ul>
 *   <li>given statistics: {@code forward_inference} with {@code use_global_stats | use_scale | use_shift};
 *       mean, variance, γ, β are inputs.</li>
 *   <li>batch statistics: {@code forward_training} with {@code use_scale | use_shift}; oneDNN writes the
 *       batch mean and the <em>biased</em> variance, which {@link BatchNorm} turns into PyTorch's update.</li>
 * </ul>
 * Per-channel arrays are staged in native buffers owned by the compiled entry, so a repeated call
 * allocates nothing. Not thread-safe on its own: {@link BatchNorm} serialises calls.
 */
final class NativeBatchNorm implements BatchNormKernel, AutoCloseable {
    private record Key(long n, long c, long s, boolean batchStatistics, float eps) {}

    /** One compiled primitive with its argument list and staging buffers for the C-sized vectors. */
    private static final class Compiled implements AutoCloseable {
        final Arena arena = Arena.ofShared();
        final Primitive primitive;
        final Execution execution;
        final MemorySegment mean, var, scale, shift;

        Compiled(Key key) {
            long[] dims = {key.n(), key.c(), key.s(), 1};
            String description = (key.batchStatistics() ? "batch_normalization forward_training (batch stats)"
                    : "batch_normalization forward_inference (global stats)")
                    + " f32 " + MemoryDescs.dims(dims) + " eps " + key.eps();
            try {
                MemorySegment data = MemoryDescs.plain(arena, dims);
                MemorySegment channel = MemoryDescs.plain(arena, new long[] {key.c()});
                MemorySegment engine = Engine.cpu();
                int flags = dnnl_use_scale() | dnnl_use_shift() | (key.batchStatistics() ? 0 : dnnl_use_global_stats());
                int prop = key.batchStatistics() ? dnnl_forward_training() : dnnl_forward_inference();
                primitive = Primitive.create("dnnl_batch_normalization_forward_primitive_desc_create", description,
                        out -> dnnl_batch_normalization_forward_primitive_desc_create(out, engine, prop, data, data,
                                key.eps(), flags, MemorySegment.NULL));
                long bytes = key.c() * Float.BYTES;
                mean = arena.allocate(bytes, 64);
                var = arena.allocate(bytes, 64);
                scale = arena.allocate(bytes, 64);
                shift = arena.allocate(bytes, 64);
                execution = new Execution(primitive, 6)
                        .arg(DNNL_ARG_SRC(), data).arg(DNNL_ARG_DST(), data)
                        .arg(DNNL_ARG_MEAN(), channel).arg(DNNL_ARG_VARIANCE(), channel)
                        .arg(DNNL_ARG_SCALE(), channel).arg(DNNL_ARG_SHIFT(), channel)
                        .set(DNNL_ARG_MEAN(), mean).set(DNNL_ARG_VARIANCE(), var)
                        .set(DNNL_ARG_SCALE(), scale).set(DNNL_ARG_SHIFT(), shift);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        void run(Tensor x, Tensor y) {
            execution.set(DNNL_ARG_SRC(), x.segment()).set(DNNL_ARG_DST(), y.segment()).run();
        }

        @Override
        public void close() {
            if (execution != null) execution.close();
            if (primitive != null) primitive.close();
            arena.close();
        }
    }

    private final Map<Key, Compiled> cache = new HashMap<>();
    private boolean closed;

    private Compiled compiled(Tensor x, boolean batchStatistics, float eps) {
        if (closed) throw new IllegalStateException("native batch norm is closed");
        long n = x.dim(0);
        long c = x.dim(1);
        Key key = new Key(n, c, x.elementCount() / (n * c), batchStatistics, eps);
        Compiled compiled = cache.get(key);
        if (compiled == null) {
            compiled = new Compiled(key);
            cache.put(key, compiled);
        }
        return compiled;
    }

    private static void stage(float[] values, MemorySegment target) {
        MemorySegment.copy(values, 0, target, ValueLayout.JAVA_FLOAT, 0, values.length);
    }

    @Override
    public void normalize(Tensor x, Tensor y, float[] mean, float[] var, float[] gamma, float[] beta, float eps) {
        Compiled compiled = compiled(x, false, eps);
        stage(mean, compiled.mean);
        stage(var, compiled.var);
        stage(gamma, compiled.scale);
        stage(beta, compiled.shift);
        compiled.run(x, y);
    }

    @Override
    public void normalizeWithBatchStatistics(Tensor x, Tensor y, float[] gamma, float[] beta, float eps,
                                             float[] meanOut, float[] varOut) {
        Compiled compiled = compiled(x, true, eps);
        stage(gamma, compiled.scale);
        stage(beta, compiled.shift);
        compiled.run(x, y);
        MemorySegment.copy(compiled.mean, ValueLayout.JAVA_FLOAT, 0, meanOut, 0, meanOut.length);
        MemorySegment.copy(compiled.var, ValueLayout.JAVA_FLOAT, 0, varOut, 0, varOut.length);
    }

    /** Number of compiled shapes (for tests of the cache). */
    int compiledCount() {
        return cache.size();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cache.values().forEach(Compiled::close);
        cache.clear();
    }
}
