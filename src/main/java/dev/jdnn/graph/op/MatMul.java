package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.dnnl.DnnlException;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * MatMul with numpy semantics: A …×M×K · B …×K×N → …×M×N, a 1-D A (K) promoted to 1×K and a 1-D B (K)
 * to K×1 (the promoted dimension dropped from the output), batch dimensions broadcast. The Java
 * reference is plain loops with double accumulation; natively oneDNN's matmul (batch broadcast of size-1
 * dimensions included), with a constant B reordered once into the layout oneDNN picks.
 *
 * <p>{@code jdnn.MatMulAdd(A, B, bias)} is a MatMul followed by {@code Add(·, bias)} with a constant float
 * bias of shape [N] broadcast over the rows (what {@link dev.jdnn.graph.rewrite.MatMulBias} makes of a
 * Linear layer): natively the matmul's bias argument; in Java the MatMul's float result plus the bias, as
 * the two exported nodes compute it.
 */
public final class MatMul implements Op {
    static void register(Registry.Table t) {
        t.add("MatMul", 1, new MatMul(false));
        t.add("jdnn.MatMulAdd", 1, new MatMul(true));
    }

    private final boolean withBias;

    private MatMul(boolean withBias) {
        this.withBias = withBias;
    }

    /** The constant bias of {@code jdnn.MatMulAdd} ([N] floats), checked against the output's N; null for MatMul. */
    private float[] bias(Node node, Inputs in, Geometry g) {
        if (!withBias) return null;
        in.require(2, node, "bias");
        if (!(in.constant(2) instanceof Value.Floats c)) throw error(node, "the bias must be a float32 constant");
        long[] shape = c.tensor().shape();
        if (shape.length != 1 || shape[0] != g.n()) throw error(node, "the bias must have shape [" + g.n() + "] (N), got " + format(shape));
        return c.tensor().toArray();
    }

    /**
     * The shapes of one MatMul: A and B padded to one rank R (leading 1s, 1-D operands promoted), the
     * R-D destination and the node's output shape.
     */
    record Geometry(long[] a, long[] b, long[] dst, long[] out, int m, int k, int n) {}

    static Geometry geometry(Node node, long[] a, long[] b) {
        if (a.length == 0 || b.length == 0) throw error(node, "MatMul inputs must have rank >= 1, got " + format(a) + " and " + format(b));
        long[] a2 = a.length == 1 ? new long[] {1, a[0]} : a;
        long[] b2 = b.length == 1 ? new long[] {b[0], 1} : b;
        long m = a2[a2.length - 2], k = a2[a2.length - 1], n = b2[b2.length - 1];
        if (b2[b2.length - 2] != k) throw error(node, "inner dimensions differ: " + format(a) + " · " + format(b));
        long[] batchA = Arrays.copyOf(a2, a2.length - 2), batchB = Arrays.copyOf(b2, b2.length - 2);
        long[] batch = broadcast(batchA, batchB, node);
        int rank = batch.length + 2;
        long[] dst = Arrays.copyOf(batch, rank);
        dst[rank - 2] = m;
        dst[rank - 1] = n;
        List<Long> outDims = new ArrayList<>();
        for (long d : batch) outDims.add(d);
        if (a.length > 1) outDims.add(m);
        if (b.length > 1) outDims.add(n);
        long[] out = outDims.stream().mapToLong(Long::longValue).toArray();
        arraySize(dst, node);
        return new Geometry(pad(a2, rank), pad(b2, rank), dst, out,
                toInt(m, node, "M"), toInt(k, node, "K"), toInt(n, node, "N"));
    }

    private static long[] pad(long[] s, int rank) {
        long[] r = new long[rank];
        Arrays.fill(r, 1);
        System.arraycopy(s, 0, r, rank - s.length, s.length);
        return r;
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.requireFloat(0, node, "A");
        in.requireFloat(1, node, "B");
        long[] a = in.require(0, node, "A"), b = in.require(1, node, "B");
        Geometry g = geometry(node, a, b);
        float[] bias = bias(node, in, g);
        if (ctx.backend() == Backend.NATIVE && !in.isConstant(0)) {
            Value constantB = in.constant(1);
            NativeOp op = primitive(node, a, b, g, constantB, null, bias);
            if (op != null) return NativeStep.of(op, constantB != null ? new int[] {0} : new int[] {0, 1}, g.out(), node);
        }
        return reference(node, g, bias);
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.type(0) != DataType.FLOAT || in.type(1) != DataType.FLOAT || in.isConstant(0)) return null;
        long[] a = in.shape(0), b = in.shape(1);
        Geometry g = geometry(node, a, b);
        return primitive(node, a, b, g, in.constant(1), lowering.fused(), bias(node, in, g));
    }

    /** An activation after the MatMul (a transformer's MLP: MatMul → GELU) runs as the matmul's eltwise post-op. */
    @Override
    public boolean fusesPostOp(Node node, Inputs in, PostOp activation) {
        return !in.isConstant(0) && in.type(0) == DataType.FLOAT;
    }

    /**
     * oneDNN matmul on plain A (and B unless constant), or null when the shapes do not fit oneDNN (rank
     * above 6, empty tensors, a 0-D output) or it has no implementation for them.
     */
    static NativeOp primitive(Node node, long[] a, long[] b, Geometry g, Value constantB, PostOp fused, float[] bias) {
        if (!Primitives.nativeShape(g.dst()) || !Primitives.nativeShape(g.out()) || !Primitives.nativeShape(a) || !Primitives.nativeShape(b)) return null;
        String description = node.label() + ": matmul " + MemoryDescs.dims(a) + " · " + MemoryDescs.dims(b) + (constantB != null ? " (B constant)" : "")
                + (bias != null ? " + bias" : "");
        NativeStep.Viewed op = new NativeStep.Viewed(description);
        try {
            Arena arena = op.arena;
            MemorySegment src = MemoryDescs.plain(arena, g.a());
            MemorySegment weights = constantB != null ? MemoryDescs.any(arena, g.b()) : MemoryDescs.plain(arena, g.b());
            MemorySegment dst = MemoryDescs.plain(arena, g.dst());
            // The bias as oneDNN wants it: the destination's rank, 1 on every axis but the last (N).
            long[] biasDims = new long[g.dst().length];
            java.util.Arrays.fill(biasDims, 1);
            biasDims[biasDims.length - 1] = g.n();
            MemorySegment biasDesc = bias != null ? MemoryDescs.plain(arena, biasDims) : MemorySegment.NULL;
            MemorySegment attr = Primitives.userScratchpad(arena, description);
            Primitives.appendEltwise(arena, attr, fused, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_matmul_primitive_desc_create", o -> dnnl_matmul_primitive_desc_create(o, engine, src, weights, biasDesc, dst, attr));
            op.input(DNNL_ARG_SRC(), src, a);
            if (constantB != null) {
                op.packed(DNNL_ARG_WEIGHTS(), dnnl_query_weights_md(), g.b(), ((Value.Floats) constantB).tensor().toArray());
            } else {
                op.input(DNNL_ARG_WEIGHTS(), weights, b);
            }
            if (bias != null) op.constant(DNNL_ARG_BIAS(), biasDesc, bias);
            op.output(DNNL_ARG_DST(), dst, g.out());
            return op;
        } catch (DnnlException e) {
            op.close();
            return null; // no oneDNN implementation for these shapes: the Java kernel runs
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /** Plain loops, double accumulation, batch dimensions broadcast; then the bias (if any) added to the float result. */
    static Step reference(Node node, Geometry g, float[] bias) {
        int rank = g.dst().length;
        long[] batch = Arrays.copyOf(g.dst(), rank - 2);
        int[] ia = broadcastIndex(Arrays.copyOf(g.a(), rank - 2), batch), ib = broadcastIndex(Arrays.copyOf(g.b(), rank - 2), batch);
        int m = g.m(), k = g.k(), n = g.n();
        long[] out = g.out();
        return step(out, in -> {
            float[] x = floats(in, 0, node).toArray(), y = floats(in, 1, node).toArray();
            float[] r = new float[ia.length * m * n];
            for (int bi = 0; bi < ia.length; bi++) {
                int ao = ia[bi] * m * k, bo = ib[bi] * k * n, ro = bi * m * n;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double acc = 0;
                        for (int p = 0; p < k; p++) acc += (double) x[ao + i * k + p] * y[bo + p * n + j];
                        r[ro + i * n + j] = bias == null ? (float) acc : (float) acc + bias[j];
                    }
                }
            }
            return result(r, out);
        });
    }
}
