package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/** Softmax, numerically stable (max subtracted), in double. */
public final class Softmax implements Op {
    static void register(Registry.Table t) {
        t.add("Softmax", 1, new Softmax());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.requireFloat(0, node, "input");
        return softmax(node, in.require(0, node, "input"), ctx.opset());
    }

    /**
     * Softmax along one axis (opset 13+, default -1); before opset 13 the input is coerced to 2-D at
     * {@code axis} (default 1) and normalised over the whole second part.
     */
    static Step softmax(Node node, long[] x, int opset) {
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
