package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.ops.reorder.NativeReorder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Transpose by {@code perm} (default: reverse the axes), any dtype: an index map in Java. Compiled, a
 * float tensor is one oneDNN reorder from the producer's layout into the output seen through permuted
 * strides ({@code X[d0..dn] → Y[perm⁻¹]}), so ConvNeXt's NCHW↔NHWC and ShuffleNet's channel shuffle
 * stay native and need no reorder to plain first.
 */
public final class Transpose implements Op {
    static void register(Registry.Table t) {
        t.add("Transpose", 1, new Transpose());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        return transpose(node, in, ctx);
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (!in.type(0).isFloat() || in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        long[] x = in.shape(0), out = lowering.output();
        long[] perm = node.attributes().getInts("perm", null);
        if (perm == null) {
            perm = new long[x.length];
            for (int i = 0; i < x.length; i++) perm[i] = x.length - 1 - i;
        }
        // Output element [i0..in] is input element [j] with j[perm[k]] = i[k]: writing X into Y's bytes
        // means giving X's axis perm[k] the stride of Y's axis k.
        long[] outStrides = strides(out);
        long[] viewStrides = new long[x.length];
        for (int k = 0; k < x.length; k++) viewStrides[Checks.axis(node, "perm", perm[k], x.length)] = outStrides[k];
        Arena arena = Arena.ofShared();
        try {
            MemorySegment src = lowering.desc(0);
            MemorySegment view = NativeStep.strided(arena, x, viewStrides);
            MemorySegment plainOut = MemoryDescs.plain(arena, out);
            String description = node.label() + ": Transpose " + format(perm) + " as reorder " + MemoryDescs.dims(x) + " -> " + MemoryDescs.dims(out);
            NativeReorder reorder = new NativeReorder(src, view, description);
            return new NativeOp() {
                @Override public MemorySegment inputDesc(int i) { return src; }
                @Override public MemorySegment outputDesc() { return plainOut; }
                @Override public long scratchpadBytes() { return 0; }
                @Override public String description() { return description; }
                @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                    Execution e = reorder.bind(inputs[0], output);
                    return new Bound() {
                        @Override public void run() { e.run(); }
                        @Override public void close() { e.close(); }
                    };
                }
                @Override public void close() {
                    reorder.close();
                    arena.close();
                }
            };
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    static Step transpose(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "data");
        long[] perm = node.attributes().getInts("perm", null);
        if (perm == null) {
            perm = new long[x.length];
            for (int i = 0; i < x.length; i++) perm[i] = x.length - 1 - i;
        }
        if (perm.length != x.length) throw error(node, "perm " + format(perm) + " does not match rank " + x.length);
        long[] out = new long[x.length];
        boolean[] seen = new boolean[x.length];
        for (int i = 0; i < x.length; i++) {
            int p = Checks.axis(node, "perm", perm[i], x.length);
            if (seen[p]) throw error(node, "perm " + format(perm) + " is not a permutation");
            seen[p] = true;
            out[i] = x[p];
        }
        long[] axes = perm;
        return lazyIndexStep(node, out, in.type(0), () -> gatherIndex(x, out, axes), 0);
    }

    /** For each element of the transposed output, the input element it copies. */
    private static int[] gatherIndex(long[] x, long[] out, long[] perm) {
        long[] inStrides = strides(x);
        int[] index = new int[(int) count(out)];
        long[] coord = new long[out.length];
        for (int i = 0; i < index.length; i++) {
            long offset = 0;
            for (int d = 0; d < out.length; d++) offset += coord[d] * inStrides[(int) perm[d]];
            index[i] = (int) offset;
            for (int d = out.length - 1; d >= 0; d--) {
                if (++coord[d] < out[d]) break;
                coord[d] = 0;
            }
        }
        return index;
    }
}
