package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/** MatMul with numpy semantics (1-D operands promoted, batch dimensions broadcast): plain loops, double accumulation. */
public final class MatMul implements Op {
    static void register(Registry.Table t) {
        t.add("MatMul", 1, new MatMul());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.requireFloat(0, node, "A");
        in.requireFloat(1, node, "B");
        return matmul(node, in.require(0, node, "A"), in.require(1, node, "B"));
    }

    static Step matmul(Node node, long[] a, long[] b) {
        if (a.length == 0 || b.length == 0) throw error(node, "MatMul inputs must have rank >= 1");
        long[] a2 = a.length == 1 ? new long[] {1, a[0]} : a;
        long[] b2 = b.length == 1 ? new long[] {b[0], 1} : b;
        int m = (int) a2[a2.length - 2], k = (int) a2[a2.length - 1], n = (int) b2[b2.length - 1];
        if (b2[b2.length - 2] != k) throw error(node, "inner dimensions differ: " + format(a) + " · " + format(b));
        long[] batchA = java.util.Arrays.copyOf(a2, a2.length - 2), batchB = java.util.Arrays.copyOf(b2, b2.length - 2);
        long[] batch = broadcast(batchA, batchB, node);
        int[] ia = broadcastIndex(batchA, batch), ib = broadcastIndex(batchB, batch);
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
}
