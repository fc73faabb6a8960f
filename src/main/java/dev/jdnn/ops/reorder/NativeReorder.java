package dev.jdnn.ops.reorder;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.dnnl.Primitive;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Copies a tensor from one memory layout to another (e.g. {@code nchw → nhwc}, or plain to a
 * blocked layout a convolution chose). Layouts are oneDNN memory descriptors; the dimensions are
 * the logical ones ({@code N×C×H×W}) whatever the layout.
 */
public final class NativeReorder implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final Primitive primitive;
    private final Execution execution;

    /** Reorder between two descriptors (both are copied by oneDNN; the caller keeps ownership). */
    public NativeReorder(MemorySegment srcDesc, MemorySegment dstDesc, String description) {
        try {
            MemorySegment engine = Engine.cpu();
            primitive = Primitive.create("dnnl_reorder_primitive_desc_create", "reorder " + description,
                    out -> dnnl_reorder_primitive_desc_create(out, srcDesc, engine, dstDesc, engine, MemorySegment.NULL));
            execution = new Execution(primitive, 2).arg(DNNL_ARG_FROM(), srcDesc).arg(DNNL_ARG_TO(), dstDesc);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Reorder between two f32 format tags over the same dimensions, e.g. {@code dnnl_nchw()} to {@code dnnl_nhwc()}. */
    public static NativeReorder between(long[] dims, int srcTag, int dstTag) {
        try (Arena descs = Arena.ofConfined()) {
            return new NativeReorder(MemoryDescs.create(descs, dims, srcTag), MemoryDescs.create(descs, dims, dstTag),
                    MemoryDescs.dims(dims) + " tag " + srcTag + " -> tag " + dstTag);
        }
    }

    /** Bytes the source and destination buffers need. */
    public long srcBytes() {
        return execution.requiredBytes(DNNL_ARG_FROM());
    }

    public long dstBytes() {
        return execution.requiredBytes(DNNL_ARG_TO());
    }

    /**
     * A separate argument list with {@code src} and {@code dst} bound once, for a caller that reorders
     * the same buffers many times, possibly beside other threads using this reorder (one per thread).
     * The caller closes it before this reorder.
     */
    public Execution bind(MemorySegment src, MemorySegment dst) {
        Execution e = new Execution(primitive, 2).arg(DNNL_ARG_FROM(), primitive.queryDesc(dnnl_query_src_md(), 0))
                .arg(DNNL_ARG_TO(), primitive.queryDesc(dnnl_query_dst_md(), 0));
        try {
            return e.set(DNNL_ARG_FROM(), src).set(DNNL_ARG_TO(), dst);
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
    }

    public synchronized void run(MemorySegment src, MemorySegment dst) {
        execution.set(DNNL_ARG_FROM(), src).set(DNNL_ARG_TO(), dst).run();
    }

    @Override
    public void close() {
        if (execution != null) execution.close();
        if (primitive != null) primitive.close();
        arena.close();
    }
}
