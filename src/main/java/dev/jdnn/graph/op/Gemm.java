package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.reorder.NativeReorder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Gemm {@code Y = alpha·op(A)·op(B) + beta·C}: plain loops with double accumulation as the reference;
 * compiled, the common classifier-head case (constant B and C) is oneDNN's inner product.
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
        return gemm(node, in.shapes());
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        return lowerGemm(node, in.shapes(), in.constants(), lowering.runtimeDescs(), lowering.output());
    }

    /** Y = alpha·op(A)·op(B) + beta·C, A: M×K (or K×M with transA), B: K×N (or N×K with transB), C broadcast to M×N. */
    static Step gemm(Node node, List<long[]> shapes) {
        long[] a = shapes.get(0), b = shapes.get(1);
        if (a.length != 2 || b.length != 2) throw error(node, "A " + format(a) + " and B " + format(b) + " must be matrices");
        boolean ta = node.attributes().getInt("transA", 0) == 1, tb = node.attributes().getInt("transB", 0) == 1;
        float alpha = node.attributes().getFloat("alpha", 1f), beta = node.attributes().getFloat("beta", 1f);
        int m = (int) (ta ? a[1] : a[0]), k = (int) (ta ? a[0] : a[1]);
        int kb = (int) (tb ? b[1] : b[0]), n = (int) (tb ? b[0] : b[1]);
        if (k != kb) throw error(node, "inner dimensions differ: A " + format(a) + (ta ? "ᵀ" : "") + " · B " + format(b) + (tb ? "ᵀ" : ""));
        long[] out = {m, n};
        boolean hasC = node.input(2) != null;
        int[] ci = hasC ? broadcastIndex(shapes.get(2), broadcast(shapes.get(2), out, node)) : null;
        if (hasC && count(broadcast(shapes.get(2), out, node)) != (long) m * n) throw error(node, "C " + format(shapes.get(2)) + " does not broadcast to " + format(out));
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
    private static NativeOp lowerGemm(Node node, List<long[]> shapes, List<Value> constants, List<MemorySegment> descs, long[] out) {
        if (descs.size() != 1 || constants.get(0) != null || node.attributes().getInt("transA", 0) == 1) return null;
        if (!(constants.get(1) instanceof Value.Floats b)) return null;
        boolean hasC = node.input(2) != null;
        long n = out[1], m = out[0], k = shapes.get(0)[1];
        if (hasC && (!(constants.get(2) instanceof Value.Floats) || count(shapes.get(2)) != n || shapes.get(2).length > 1 && shapes.get(2)[shapes.get(2).length - 1] != n)) {
            return null;
        }
        boolean transB = node.attributes().getInt("transB", 0) == 1;
        float alpha = node.attributes().getFloat("alpha", 1f), beta = node.attributes().getFloat("beta", 1f);
        float[] bv = b.tensor().toArray();
        float[] weights = new float[(int) (n * k)]; // N×K ("oi")
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < k; p++) weights[(int) (j * k + p)] = alpha * (transB ? bv[(int) (j * k + p)] : bv[(int) (p * n + j)]);
        }
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
            MemorySegment weightsPlain = MemoryDescs.plain(a, new long[] {n, k});
            MemorySegment biasDesc = MemoryDescs.plain(a, new long[] {n});
            MemorySegment dst = MemoryDescs.plain(a, out);
            MemorySegment attr = Primitives.userScratchpad(a, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_inner_product_forward_primitive_desc_create", o -> dnnl_inner_product_forward_primitive_desc_create(o, engine,
                    dnnl_forward_inference(), src, weightsAny, biasDesc, dst, attr));
            MemorySegment weightsDesc = op.primitive.queryDesc(dnnl_query_weights_md(), 0);
            MemorySegment packed = a.allocate(Math.max(64, MemoryDescs.size(weightsDesc)), 64);
            try (Arena staging = Arena.ofConfined(); NativeReorder pack = new NativeReorder(weightsPlain, weightsDesc, "weights of " + description)) {
                pack.run(staging.allocateFrom(ValueLayout.JAVA_FLOAT, weights), packed);
            }
            op.constants.add(new Primitives.PrimitiveOp.Constant(DNNL_ARG_WEIGHTS(), weightsDesc, packed));
            op.constant(DNNL_ARG_BIAS(), bias);
            op.inputKinds = new int[] {DNNL_ARG_SRC()};
            op.inputDescs = new MemorySegment[] {op.primitive.queryDesc(dnnl_query_src_md(), 0)};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = op.primitive.queryDesc(dnnl_query_dst_md(), 0);
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

}
