package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * IsNaN (9+) and IsInf (10+: {@code detect_negative}, {@code detect_positive}, both 1 by default): a float32
 * X → a bool mask of X's shape. Java only (a mask is bool, which oneDNN's eltwise does not produce).
 */
public final class IsNaNInf implements Op {
    private final boolean inf;

    private IsNaNInf(boolean inf) {
        this.inf = inf;
    }

    static void register(Registry.Table t) {
        t.add("IsNaN", 9, new IsNaNInf(false));
        t.add("IsInf", 10, new IsNaNInf(true));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] shape = in.require(0, node, "X");
        in.requireFloat(0, node, "input X");
        boolean negative = inf && flag(node, "detect_negative"), positive = inf && flag(node, "detect_positive");
        return step(shape, DataType.BOOL, inputs -> {
            float[] x = floats(inputs, 0, node).toArray();
            long[] y = new long[x.length];
            for (int i = 0; i < x.length; i++) {
                boolean hit = inf ? (negative && x[i] == Float.NEGATIVE_INFINITY) || (positive && x[i] == Float.POSITIVE_INFINITY) : Float.isNaN(x[i]);
                y[i] = hit ? 1 : 0;
            }
            return new Value.Longs(DataType.BOOL, shape, y);
        });
    }

    private static boolean flag(Node node, String name) {
        long v = node.attributes().getInt(name, 1);
        if (v != 0 && v != 1) throw error(node, "attribute " + name + "=" + v + " must be 0 or 1");
        return v == 1;
    }
}
