package dev.jdnn.graph.ops;

import static dev.jdnn.graph.ops.Ops.*;

import dev.jdnn.graph.Kernel;
import dev.jdnn.graph.Node;
import java.util.Map;

/** Gemm, MatMul (numpy semantics, batch dims broadcast) and Softmax, in plain loops with double accumulation. */
final class LinearOps {
    private LinearOps() {}

    static void register(Map<String, Kernel> k) {
        k.put("Gemm", (node, shapes, constants, ctx) -> gemm(node, shapes));
        k.put("MatMul", (node, shapes, constants, ctx) -> matmul(node, shapes.get(0), shapes.get(1)));
        k.put("Softmax", (node, shapes, constants, ctx) -> softmax(node, shapes.get(0), ctx.opset()));
    }

    /** Y = alpha·op(A)·op(B) + beta·C, A: M×K (or K×M with transA), B: K×N (or N×K with transB), C broadcast to M×N. */
    static Kernel.Step gemm(Node node, java.util.List<long[]> shapes) {
        long[] a = shapes.get(0), b = shapes.get(1);
        if (a.length != 2 || b.length != 2) throw error(node, "A " + format(a) + " and B " + format(b) + " must be matrices");
        boolean ta = node.attributes().getInt("transA", 0) == 1, tb = node.attributes().getInt("transB", 0) == 1;
        float alpha = node.attributes().getFloat("alpha", 1f), beta = node.attributes().getFloat("beta", 1f);
        int m = (int) (ta ? a[1] : a[0]), k = (int) (ta ? a[0] : a[1]);
        int kb = (int) (tb ? b[1] : b[0]), n = (int) (tb ? b[0] : b[1]);
        if (k != kb) throw error(node, "inner dimensions differ: A " + format(a) + (ta ? "ᵀ" : "") + " · B " + format(b) + (tb ? "ᵀ" : ""));
        long[] out = {m, n};
        boolean hasC = node.input(2) != null;
        int[] ci = hasC ? ElementwiseOps.broadcastIndex(shapes.get(2), ElementwiseOps.broadcast(shapes.get(2), out, node)) : null;
        if (hasC && count(ElementwiseOps.broadcast(shapes.get(2), out, node)) != (long) m * n) throw error(node, "C " + format(shapes.get(2)) + " does not broadcast to " + format(out));
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

    static Kernel.Step matmul(Node node, long[] a, long[] b) {
        if (a.length == 0 || b.length == 0) throw error(node, "MatMul inputs must have rank >= 1");
        long[] a2 = a.length == 1 ? new long[] {1, a[0]} : a;
        long[] b2 = b.length == 1 ? new long[] {b[0], 1} : b;
        int m = (int) a2[a2.length - 2], k = (int) a2[a2.length - 1], n = (int) b2[b2.length - 1];
        if (b2[b2.length - 2] != k) throw error(node, "inner dimensions differ: " + format(a) + " · " + format(b));
        long[] batchA = java.util.Arrays.copyOf(a2, a2.length - 2), batchB = java.util.Arrays.copyOf(b2, b2.length - 2);
        long[] batch = ElementwiseOps.broadcast(batchA, batchB, node);
        int[] ia = ElementwiseOps.broadcastIndex(batchA, batch), ib = ElementwiseOps.broadcastIndex(batchB, batch);
        long[] full = java.util.Arrays.copyOf(batch, batch.length + 2);
        full[batch.length] = m;
        full[batch.length + 1] = n;
        java.util.List<Long> outDims = new java.util.ArrayList<>();
        for (long d : batch) outDims.add(d);
        if (a.length > 1) outDims.add((long) m);
        if (b.length > 1) outDims.add((long) n);
        long[] out = outDims.stream().mapToLong(Long::longValue).toArray();
        return step(out, in -> {
            float[] x = floats(in, 0, node).toArray(), y = floats(in, 1, node).toArray();
            float[] r = new float[ia.length * m * n];
            for (int bi = 0; bi < ia.length; bi++) {
                int ao = ia[bi] * m * k, bo = ib[bi] * k * n, ro = bi * m * n;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double acc = 0;
                        for (int p = 0; p < k; p++) acc += (double) x[ao + i * k + p] * y[bo + p * n + j];
                        r[ro + i * n + j] = (float) acc;
                    }
                }
            }
            return result(r, out);
        });
    }

    /**
     * Softmax along one axis (opset 13+, default -1); before opset 13 the input is coerced to 2-D at
     * {@code axis} (default 1) and normalised over the whole second part.
     */
    static Kernel.Step softmax(Node node, long[] x, int opset) {
        int axis = axis(node.attributes().getInt("axis", opset >= 13 ? -1 : 1), x.length, node);
        long outer = 1, inner = 1, dim;
        if (opset >= 13) {
            for (int i = 0; i < axis; i++) outer *= x[i];
            for (int i = axis + 1; i < x.length; i++) inner *= x[i];
            dim = x[axis];
        } else {
            for (int i = 0; i < axis; i++) outer *= x[i];
            dim = 1;
            for (int i = axis; i < x.length; i++) dim *= x[i];
        }
        int o = (int) outer, d = (int) dim, in = (int) inner;
        return step(x, inputs -> {
            float[] v = floats(inputs, 0, node).toArray();
            for (int a = 0; a < o; a++) {
                for (int c = 0; c < in; c++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < d; j++) max = Math.max(max, v[(a * d + j) * in + c]);
                    double sum = 0;
                    for (int j = 0; j < d; j++) sum += Math.exp(v[(a * d + j) * in + c] - max);
                    for (int j = 0; j < d; j++) {
                        int at = (a * d + j) * in + c;
                        v[at] = (float) (Math.exp(v[at] - max) / sum);
                    }
                }
            }
            return result(v, x);
        });
    }
}
