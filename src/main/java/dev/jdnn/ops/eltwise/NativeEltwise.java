package dev.jdnn.ops.eltwise;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.dnnl.Primitive;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * An element-wise op compiled for one shape: oneDNN {@code eltwise_forward} (inference) on plain
 * row-major f32. {@code src} and {@code dst} may be the same tensor (in place).
 * Twin of {@link ReferenceEltwise}.
 */
public final class NativeEltwise implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final long[] shape;
    private final Primitive primitive;
    private final Execution execution;

    public NativeEltwise(EltwiseAlgorithm algorithm, float alpha, float beta, long... shape) {
        this.shape = shape.clone();
        String description = "eltwise " + algorithm + "(alpha=" + alpha + ", beta=" + beta + ") f32 " + MemoryDescs.dims(shape);
        try {
            MemorySegment md = MemoryDescs.plain(arena, shape);
            MemorySegment engine = Engine.cpu();
            primitive = Primitive.create("dnnl_eltwise_forward_primitive_desc_create", description,
                    out -> dnnl_eltwise_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                            algorithm.dnnl(), md, md, alpha, beta, MemorySegment.NULL));
            execution = new Execution(primitive, 2).arg(DNNL_ARG_SRC(), md).arg(DNNL_ARG_DST(), md);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Computes {@code dst = f(src)}; both must have the compiled shape. Not for concurrent use of one instance. */
    public synchronized void run(Tensor src, Tensor dst) {
        requireShape("src", src);
        requireShape("dst", dst);
        execution.set(DNNL_ARG_SRC(), src.segment()).set(DNNL_ARG_DST(), dst.segment()).run();
    }

    private void requireShape(String name, Tensor t) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(name + " has shape " + Tensor.format(t.shape()) + ", this eltwise was compiled for "
                    + Tensor.format(shape));
        }
    }

    @Override
    public void close() {
        if (execution != null) execution.close();
        if (primitive != null) primitive.close();
        arena.close();
    }
}
