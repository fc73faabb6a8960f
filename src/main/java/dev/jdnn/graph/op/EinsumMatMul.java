package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.dnnl.DnnlException;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The matmul-shaped Einsums on oneDNN: two operands, output labels {@code [batch…, row, col]} where
 * {@code col} is only in B, {@code row} only in A, the one summed label in both, and each batch label
 * in either operand (a size-1 dimension in the other, which oneDNN broadcasts). Each operand is seen
 * through a strided descriptor in {@code [batch…, row, k]} / {@code [batch…, k, col]} order, so
 * transposed operands need no copy; the output is plain. Anything else (diagonals, sums over one
 * operand's own labels, several summed labels) is left to {@link Einsum}'s reference.
 */
final class EinsumMatMul {
    private EinsumMatMul() {}

    /** Label ids of the batch dimensions, row, column and summed label (-1: absent, a size-1 dimension). */
    record Plan(int[] batch, int row, int col, int sum) {}

    static Plan plan(Einsum.Spec spec, List<long[]> shapes) {
        if (shapes.size() != 2) return null;
        int labelCount = spec.sizes().length;
        boolean[] inA = new boolean[labelCount], inB = new boolean[labelCount], inOut = new boolean[labelCount];
        for (int[] labels : new int[][] {spec.labels()[0], spec.labels()[1]}) {
            boolean[] seen = new boolean[labelCount];
            for (int l : labels) {
                if (seen[l]) return null; // a diagonal
                seen[l] = true;
            }
        }
        for (int l : spec.labels()[0]) inA[l] = true;
        for (int l : spec.labels()[1]) inB[l] = true;
        for (int l : spec.output()) inOut[l] = true;
        int sum = -1;
        for (int l = 0; l < labelCount; l++) {
            if (inOut[l] || !(inA[l] || inB[l])) continue;
            if (!(inA[l] && inB[l])) return null;   // summed within one operand
            if (sum >= 0) return null;              // several summed labels
            sum = l;
        }
        int[] out = spec.output();
        int end = out.length, col = -1, row = -1;
        if (end > 0 && inB[out[end - 1]] && !inA[out[end - 1]]) col = out[--end];
        if (end > 0 && inA[out[end - 1]] && !inB[out[end - 1]]) row = out[--end];
        if (end + 2 > 6) return null;
        // Labels of broadcast '...' axes may be 1 in one operand: fine, oneDNN broadcasts size-1 batch dims.
        return new Plan(java.util.Arrays.copyOf(out, end), row, col, sum);
    }

    /** oneDNN matmul over strided views of A and B (B packed once when constant), or null if oneDNN refuses. */
    static NativeOp primitive(Node node, Einsum.Spec spec, Plan p, List<long[]> shapes, Value constantB, long[] out) {
        long[] a = shapes.get(0), b = shapes.get(1);
        if (!Primitives.nativeShape(a) || !Primitives.nativeShape(b) || !Primitives.nativeShape(out)) return null;
        int rank = p.batch().length + 2;
        long[] aDims = new long[rank], aStrides = new long[rank], bDims = new long[rank], bStrides = new long[rank], dst = new long[rank];
        int[] aLabels = new int[rank], bLabels = new int[rank];
        for (int i = 0; i < p.batch().length; i++) {
            aLabels[i] = bLabels[i] = p.batch()[i];
        }
        aLabels[rank - 2] = p.row();
        aLabels[rank - 1] = p.sum();
        bLabels[rank - 2] = p.sum();
        bLabels[rank - 1] = p.col();
        view(shapes.get(0), spec.labels()[0], aLabels, aDims, aStrides);
        view(shapes.get(1), spec.labels()[1], bLabels, bDims, bStrides);
        for (int i = 0; i < rank - 2; i++) dst[i] = Math.max(aDims[i], bDims[i]);
        dst[rank - 2] = aDims[rank - 2];
        dst[rank - 1] = bDims[rank - 1];
        if (Ops.count(dst) != Ops.count(out)) return null;
        String description = node.label() + ": Einsum '" + node.attributes().getString("equation", "") + "' as matmul "
                + MemoryDescs.dims(aDims) + " · " + MemoryDescs.dims(bDims) + (constantB != null ? " (B constant)" : "");
        NativeStep.Viewed op = new NativeStep.Viewed(description);
        try {
            Arena arena = op.arena;
            MemorySegment src = NativeStep.strided(arena, aDims, aStrides);
            MemorySegment weights = constantB != null ? MemoryDescs.any(arena, bDims) : NativeStep.strided(arena, bDims, bStrides);
            MemorySegment dstDesc = MemoryDescs.plain(arena, dst);
            MemorySegment attr = Primitives.userScratchpad(arena, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_matmul_primitive_desc_create", o -> dnnl_matmul_primitive_desc_create(o, engine, src, weights, MemorySegment.NULL, dstDesc, attr));
            op.input(DNNL_ARG_SRC(), src, a);
            if (constantB != null) {
                op.packed(DNNL_ARG_WEIGHTS(), dnnl_query_weights_md(), bDims, gather(((Value.Floats) constantB).tensor().toArray(), bDims, bStrides));
            } else {
                op.input(DNNL_ARG_WEIGHTS(), weights, b);
            }
            op.output(DNNL_ARG_DST(), dstDesc, out);
            return op;
        } catch (DnnlException e) {
            op.close();
            return null;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /** Dims and strides of an operand seen in the order {@code want} (a label it lacks, or -1: size 1). */
    private static void view(long[] shape, int[] axes, int[] want, long[] dims, long[] strides) {
        long[] s = Ops.strides(shape);
        for (int i = 0; i < want.length; i++) {
            dims[i] = 1;
            strides[i] = 1;
            for (int a = 0; a < axes.length; a++) {
                if (want[i] >= 0 && axes[a] == want[i]) {
                    dims[i] = shape[a];
                    strides[i] = s[a];
                }
            }
        }
    }

    /** The elements of a strided view, row-major. */
    private static float[] gather(float[] data, long[] dims, long[] strides) {
        float[] r = new float[(int) Ops.count(dims)];
        long[] coord = new long[dims.length];
        for (int i = 0; i < r.length; i++) {
            long off = 0;
            for (int d = 0; d < dims.length; d++) off += coord[d] * strides[d];
            r[i] = data[(int) off];
            for (int d = dims.length - 1; d >= 0; d--) {
                if (++coord[d] < dims[d]) break;
                coord[d] = 0;
            }
        }
        return r;
    }
}
