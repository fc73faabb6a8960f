package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.dnnl.DnnlException;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.reorder.NativeReorder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * Gemm {@code Y = alpha·op(A)·op(B) + beta·C} (A M×K or, transA, K×M; B K×N or, transB, N×K; C
 * unidirectionally broadcast to M×N, optional from opset 11): plain loops with double accumulation as
 * the reference. Natively, the common classifier-head case (A as is, constant B, C a constant row
 * vector or absent) is oneDNN's inner product; other cases with a constant C (or none) run as oneDNN
 * matmul: A seen through transposed strides, a constant B packed once as {@code alpha·op(B)} (a
 * runtime B, also through strides, when alpha is 1) and {@code beta·C} as the matmul's broadcast bias.
 */
public final class Gemm implements Op {
    static void register(Registry.Table t) {
        t.add("Gemm", 1, new Gemm());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        for (int i = 0; i < 3; i++) in.requireFloat(i, node, "input " + i);
        in.require(0, node, "A");
        in.require(1, node, "B");
        Step reference = gemm(node, in.shapes());
        if (ctx.backend() == Backend.NATIVE && !in.isConstant(0) && (!in.has(2) || in.isConstant(2))) {
            long[] out = reference.outputShapes().get(0);
            NativeOp op = lowerGemm(node, in.shapes(), in.constants(), in.isConstant(1) ? List.of(MemorySegment.NULL) : List.of(), out, null);
            if (op == null) op = viaMatMul(node, in, out, null);
            if (op != null) return NativeStep.of(op, in.isConstant(1) ? new int[] {0} : new int[] {0, 1}, out, node);
        }
        return reference;
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.isConstant(0)) return null;
        NativeOp op = lowerGemm(node, in.shapes(), in.constants(), lowering.runtimeDescs(), lowering.output(), lowering.fused());
        return op != null ? op : viaMatMul(node, in, lowering.output(), lowering.fused());
    }

    /** An activation after the Gemm (a classifier's hidden layer) runs as the primitive's eltwise post-op. */
    @Override
    public boolean fusesPostOp(Node node, Inputs in, PostOp activation) {
        return !in.isConstant(0) && (!in.has(2) || in.isConstant(2));
    }

    /** Y = alpha·op(A)·op(B) + beta·C, A: M×K (or K×M with transA), B: K×N (or N×K with transB), C broadcast to M×N. */
    static Step gemm(Node node, List<long[]> shapes) {
        long[] a = shapes.get(0), b = shapes.get(1);
        if (a.length != 2 || b.length != 2) throw error(node, "A " + format(a) + " and B " + format(b) + " must be matrices");
        boolean ta = Checks.flag(node, "transA", node.attributes().getInt("transA", 0)), tb = Checks.flag(node, "transB", node.attributes().getInt("transB", 0));
        float alpha = node.attributes().getFloat("alpha", 1f), beta = node.attributes().getFloat("beta", 1f);
        int m = (int) (ta ? a[1] : a[0]), k = (int) (ta ? a[0] : a[1]);
        int kb = (int) (tb ? b[1] : b[0]), n = (int) (tb ? b[0] : b[1]);
        if (k != kb) throw error(node, "inner dimensions differ: A " + format(a) + (ta ? "ᵀ" : "") + " · B " + format(b) + (tb ? "ᵀ" : ""));
        long[] out = {m, n};
        boolean hasC = shapes.size() > 2 && shapes.get(2) != null;
        if (hasC && !Arrays.equals(broadcast(shapes.get(2), out, node), out)) throw error(node, "C " + format(shapes.get(2)) + " does not broadcast to " + format(out));
        int[] ci = hasC ? broadcastIndex(shapes.get(2), out) : null;
        return step(out, in -> {
            float[] x = floats(in, 0, node).toArray(), y = floats(in, 1, node).toArray();
            float[] c = hasC ? floats(in, 2, node).toArray() : null;
            float[] r = new float[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        acc += (double) x[ta ? p * m + i : i * k + p] * y[tb ? j * k + p : p * n + j];
                    }
                    acc *= alpha;
                    if (hasC) acc += (double) beta * c[ci[i * n + j]];
                    r[i * n + j] = (float) acc;
                }
            }
            return result(r, out);
        });
    }


    /**
     * Gemm {@code Y = alpha·A·op(B) + beta·C} with A M×K at run time, B and C constants, no transA, C a
     * row vector (or absent): oneDNN's inner product with weights {@code alpha·B} (as N×K) and bias {@code beta·C}.
     */
    private static NativeOp lowerGemm(Node node, List<long[]> shapes, List<Value> constants, List<MemorySegment> descs, long[] out, PostOp fused) {
        if (descs.size() != 1 || constants.get(0) != null || node.attributes().getInt("transA", 0) == 1) return null;
        if (!(constants.get(1) instanceof Value.Floats b)) return null;
        boolean hasC = shapes.size() > 2 && shapes.get(2) != null;
        long n = out[1], m = out[0], k = shapes.get(0)[1];
        if (hasC && (!(constants.get(2) instanceof Value.Floats) || count(shapes.get(2)) != n || shapes.get(2).length > 1 && shapes.get(2)[shapes.get(2).length - 1] != n)) {
            return null;
        }
        boolean transB = node.attributes().getInt("transB", 0) == 1;
        float alpha = node.attributes().getFloat("alpha", 1f), beta = node.attributes().getFloat("beta", 1f);
        float[] bias = new float[(int) n];
        if (hasC) {
            float[] c = Primitives.array(constants, 2, node);
            for (int j = 0; j < n; j++) bias[j] = beta * c[j];
        }
        String description = node.label() + ": inner_product " + m + "x" + k + " · (" + n + "x" + k + ")ᵀ";
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        try {
            Arena a = op.arena;
            MemorySegment src = MemoryDescs.plain(a, new long[] {m, k});
            MemorySegment weightsAny = MemoryDescs.any(a, new long[] {n, k});
            // B as the N×K weights oneDNN wants, described rather than transposed: K×N row-major is "io", N×K is "oi".
            MemorySegment weightsUser = MemoryDescs.create(a, new long[] {n, k}, transB ? dnnl_oi() : dnnl_io());
            MemorySegment biasDesc = MemoryDescs.plain(a, new long[] {n});
            MemorySegment dst = MemoryDescs.plain(a, out);
            MemorySegment attr = Primitives.userScratchpad(a, description);
            Primitives.appendEltwise(a, attr, fused, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_inner_product_forward_primitive_desc_create", o -> dnnl_inner_product_forward_primitive_desc_create(o, engine,
                    dnnl_forward_inference(), src, weightsAny, biasDesc, dst, attr));
            MemorySegment weightsDesc = op.primitive.queryDesc(dnnl_query_weights_md(), 0);
            MemorySegment packed;
            MemorySegment inPlace = b.tensor().bytesInPlace();
            if (alpha == 1f && inPlace.address() % Float.BYTES == 0) {
                // Reordered straight from the model's (mapped) tensor: a classifier's 4–8 MB of weights are neither copied
                // to the heap nor staged in fresh native memory (whose page faults cost ~3 ms a MB on a VM).
                packed = Primitives.pack(a, weightsUser, weightsDesc, inPlace, "weights of " + description);
            } else {
                // Scaled by alpha, or floats not aligned in the file: staged in native memory, still never on the heap.
                try (Arena staging = Arena.ofConfined()) {
                    MemorySegment bw = staging.allocate(n * k * Float.BYTES, 64);
                    b.tensor().copyBytesTo(bw);
                    if (alpha != 1f) {
                        for (long i = 0; i < n * k; i++) bw.setAtIndex(ValueLayout.JAVA_FLOAT, i, alpha * bw.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                    }
                    packed = Primitives.pack(a, weightsUser, weightsDesc, bw, "weights of " + description);
                }
            }
            b.tensor().unloadMapped();   // its file pages leave the resident set now, as a conv's do, not when the plan is ready
            op.constants.add(new Primitives.PrimitiveOp.Constant(DNNL_ARG_WEIGHTS(), weightsDesc, packed));
            op.constant(DNNL_ARG_BIAS(), bias);
            return op.srcToDst();
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /**
     * Gemm as oneDNN matmul M×K · K×N + bias: A (runtime) through strides (1, M) when transposed; B
     * constant, packed once as {@code alpha·op(B)}, or at run time (through strides when transposed) when
     * alpha is 1; C constant (or absent) as {@code beta·C}, a bias of C's shape padded to 2-D, which
     * oneDNN broadcasts over M and N. Null when C is computed at run time or oneDNN has no implementation.
     */
    private static NativeOp viaMatMul(Node node, Inputs in, long[] out, PostOp fused) {
        long[] a = in.shape(0), b = in.shape(1);
        boolean ta = Checks.flag(node, "transA", node.attributes().getInt("transA", 0)), tb = Checks.flag(node, "transB", node.attributes().getInt("transB", 0));
        float alpha = node.attributes().getFloat("alpha", 1f), beta = node.attributes().getFloat("beta", 1f);
        boolean constantB = in.isConstant(1), hasC = in.has(2);
        if ((hasC && !in.isConstant(2)) || (!constantB && alpha != 1f) || !Primitives.nativeShape(out)) return null;
        long m = out[0], n = out[1], k = ta ? a[0] : a[1];
        String description = node.label() + ": Gemm as matmul " + m + "x" + k + (ta ? " (Aᵀ)" : "") + " · " + k + "x" + n + (tb ? " (Bᵀ)" : "")
                + (constantB ? " (B constant)" : "") + (hasC ? " + C " + MemoryDescs.dims(in.shape(2)) : "");
        NativeStep.Viewed op = new NativeStep.Viewed(description);
        try {
            Arena arena = op.arena;
            MemorySegment src = ta ? NativeStep.strided(arena, new long[] {m, k}, new long[] {1, m}) : MemoryDescs.plain(arena, new long[] {m, k});
            MemorySegment weights = constantB ? MemoryDescs.any(arena, new long[] {k, n})
                    : tb ? NativeStep.strided(arena, new long[] {k, n}, new long[] {1, k}) : MemoryDescs.plain(arena, new long[] {k, n});
            long[] cDims = null;
            float[] bias = null;
            if (hasC) {
                long[] c = in.shape(2);
                cDims = c.length == 0 ? new long[] {1, 1} : c.length == 1 ? new long[] {1, c[0]} : c.clone();
                bias = ((Value.Floats) in.constant(2)).tensor().toArray();
                for (int i = 0; i < bias.length; i++) bias[i] *= beta;
            }
            MemorySegment biasDesc = hasC ? MemoryDescs.plain(arena, cDims) : MemorySegment.NULL;
            MemorySegment dst = MemoryDescs.plain(arena, out);
            MemorySegment attr = Primitives.userScratchpad(arena, description);
            Primitives.appendEltwise(arena, attr, fused, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_matmul_primitive_desc_create", o -> dnnl_matmul_primitive_desc_create(o, engine, src, weights, biasDesc, dst, attr));
            op.input(DNNL_ARG_SRC(), src, a);
            if (constantB) {
                float[] bv = ((Value.Floats) in.constant(1)).tensor().toArray();
                float[] w = new float[(int) (k * n)]; // K×N, alpha folded in
                for (int p = 0; p < k; p++) {
                    for (int j = 0; j < n; j++) w[(int) (p * n + j)] = alpha * (tb ? bv[(int) (j * k + p)] : bv[(int) (p * n + j)]);
                }
                op.packed(DNNL_ARG_WEIGHTS(), dnnl_query_weights_md(), new long[] {k, n}, w);
            } else {
                op.input(DNNL_ARG_WEIGHTS(), weights, b);
            }
            if (hasC) op.constant(DNNL_ARG_BIAS(), biasDesc, bias);
            op.output(DNNL_ARG_DST(), dst, out);
            return op;
        } catch (DnnlException e) {
            op.close();
            return null;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }
}
