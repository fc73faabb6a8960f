package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/**
 * Hardmax: 1 at the first maximum, 0 elsewhere (float32). From opset 13 along one axis (default -1);
 * before, the input is coerced to 2-D at {@code axis} (default 1) and each row of the flattened
 * {@code shape[axis:]} block gets one 1.
 */
public final class Hardmax implements Op {
    static void register(Registry.Table t) {
        t.add("Hardmax", 1, new Hardmax());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "input");
        in.requireFloat(0, node, "input");
        Softmax.Blocks b = Softmax.blocks(node, x, ctx.opset());
        int o = b.outer(), d = b.dim(), inner = b.inner();
        return step(x, v -> {
            float[] a = floats(v, 0, node).toArray();
            float[] r = new float[a.length];
            for (int p = 0; p < o; p++) {
                for (int c = 0; c < inner; c++) {
                    int best = 0;
                    for (int j = 1; j < d; j++) if (a[(p * d + j) * inner + c] > a[(p * d + best) * inner + c]) best = j;
                    if (d > 0) r[(p * d + best) * inner + c] = 1;
                }
            }
            return result(r, x);
        });
    }
}
