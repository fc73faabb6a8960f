package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/**
 * LpNormalization: {@code y = x / ‖x‖_p} along {@code axis} (default −1), p 1 or 2 (default 2); a slice
 * whose norm is 0 gives 0 (as ONNX Runtime; x/0 would be NaN). Same shape out; Java, norm in double.
 */
public final class LpNormalization implements Op {
    static void register(Registry.Table t) {
        t.add("LpNormalization", 1, new LpNormalization());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "input");
        in.requireFloat(0, node, "input");
        if (x.length == 0) throw error(node, "input must have rank >= 1, got a scalar");
        int axis = axis(node.attributes().getInt("axis", -1), x.length, node);
        long p = node.attributes().getInt("p", 2);
        if (p != 1 && p != 2) throw error(node, "p must be 1 or 2, got " + p);
        arraySize(x, node);
        int outer = 1, inner = 1, dim = (int) x[axis];
        for (int i = 0; i < axis; i++) outer *= (int) x[i];
        for (int i = axis + 1; i < x.length; i++) inner *= (int) x[i];
        int o = outer, n = inner;
        return step(x, inputs -> {
            float[] v = floats(inputs, 0, node).toArray();
            for (int a = 0; a < o; a++) {
                for (int c = 0; c < n; c++) {
                    int base = a * dim * n + c;
                    double norm = 0;
                    for (int j = 0; j < dim; j++) {
                        double e = v[base + j * n];
                        norm += p == 1 ? Math.abs(e) : e * e;
                    }
                    if (p == 2) norm = Math.sqrt(norm);
                    for (int j = 0; j < dim; j++) {
                        int at = base + j * n;
                        v[at] = norm == 0 ? 0f : (float) (v[at] / norm);
                    }
                }
            }
            return result(v, x);
        });
    }
}
