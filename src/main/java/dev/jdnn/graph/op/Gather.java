package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Gather along an axis ({@code data[..., indices, ...]}), any dtype, int32 or int64 indices that are
 * constant or computed at run time; compiled, one constant index on a float tensor is a copy of one slab
 * per outer index.
 */
public final class Gather implements Op {
    static void register(Registry.Table t) {
        t.add("Gather", 1, new Gather());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        return gather(node, in, ctx);
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (lowering.runtimeDescs().size() != 1 || in.isConstant(0) || !in.type(0).isFloat()) return null;
        return gatherOne(node, in.shape(0), in.constants(), lowering.output());
    }

    /**
     * data r-D, indices q-D (int32 or int64, negative counting from the end) → output
     * {@code data.shape[:axis] + indices.shape + data.shape[axis+1:]}, data's dtype. Constant indices
     * give a source map fixed at prepare; indices computed at run time are read, and range-checked, per run.
     */
    static Step gather(Node node, Inputs in, Context ctx) {
        long[] data = in.require(0, node, "data");
        long[] ishape = in.require(1, node, "indices");
        Indexing.requireIndices(in, 1, node, "indices");
        if (data.length == 0) throw error(node, "data must have rank >= 1");
        int axis = axis(node.attributes().getInt("axis", 0), data.length, node);
        long[] out = new long[data.length - 1 + ishape.length];
        System.arraycopy(data, 0, out, 0, axis);
        System.arraycopy(ishape, 0, out, axis, ishape.length);
        System.arraycopy(data, axis + 1, out, axis + ishape.length, data.length - axis - 1);
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= data[d];
        for (int d = axis + 1; d < data.length; d++) inner *= data[d];
        int n = arraySize(out, node);
        arraySize(data, node);
        long o = outer, c = inner;
        java.util.function.Function<long[], int[]> sources = indices -> {
            int[] index = new int[n];
            int at = 0;
            for (long a = 0; a < o; a++) {
                for (long idx : indices) {
                    long j = Indexing.resolve(idx, data[axis], axis, node);
                    for (long e = 0; e < c; e++) index[at++] = (int) ((a * data[axis] + j) * c + e);
                }
            }
            return index;
        };
        if (in.isConstant(1)) return indexStep(node, out, in.type(0), sources.apply(in.constantLongs(1, node, "indices")), 0);
        return step(out, in.type(0), v -> Indexing.take(v.get(0), sources.apply(longs(v, 1, node)), out));
    }


    /** Gather of one constant index along an axis of a plain tensor: a copy of one slab per outer index. */
    private static NativeOp gatherOne(Node node, long[] in, List<Value> constants, long[] out) {
        if (!(constants.get(1) instanceof Value.Longs idx) || idx.data().length != 1) return null;
        int axis = axis(node.attributes().getInt("axis", 0), in.length, node);
        long index = idx.data()[0] < 0 ? idx.data()[0] + in[axis] : idx.data()[0];
        if (index < 0 || index >= in[axis]) return null; // the Java kernel reports it
        long outer = 1, inner = Float.BYTES;
        for (int i = 0; i < axis; i++) outer *= in[i];
        for (int i = axis + 1; i < in.length; i++) inner *= in[i];
        long slabs = outer, slab = inner, stride = in[axis] * inner, first = index * inner;
        String description = node.label() + ": Gather index " + index + " of axis " + axis + " (copy) " + MemoryDescs.dims(in) + " -> " + MemoryDescs.dims(out);
        return Primitives.move(in, out, description, (src, output) -> () -> {
            for (long o = 0; o < slabs; o++) MemorySegment.copy(src, o * stride + first, output, o * slab, slab);
        });
    }

}
