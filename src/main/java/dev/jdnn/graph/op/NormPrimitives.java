package dev.jdnn.graph.op;

import dev.jdnn.graph.NativeOp;
import java.lang.foreign.MemorySegment;

/**
 * {@link #reshaped}: a primitive run on a reshaped view of row-major buffers (the keepdims=0 form of a
 * reduction, layer normalisation on its 2-D view), reporting the node's own shapes.
 */
final class NormPrimitives {
    private NormPrimitives() {}

    /**
     * {@code op} (whose one runtime input and output descriptors describe a reshaped view) as a node whose
     * input and output are the plain row-major {@code inDesc} and {@code outDesc} of the same sizes: the
     * bytes are the same, only the dimensions differ.
     */
    static NativeOp reshaped(Primitives.PrimitiveOp op, MemorySegment inDesc, MemorySegment outDesc) {
        return new NativeOp() {
            @Override public MemorySegment inputDesc(int i) { return inDesc; }
            @Override public MemorySegment outputDesc() { return outDesc; }
            @Override public long scratchpadBytes() { return op.scratchpadBytes(); }
            @Override public int reusesInput() { return op.reusesInput(); }
            @Override public String description() { return op.description(); }
            @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                return op.bind(inputs, output, scratchpad);
            }
            @Override public void close() { op.close(); }
        };
    }
}
