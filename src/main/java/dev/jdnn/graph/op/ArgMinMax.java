package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * ArgMax and ArgMin along one axis → int64 indices: {@code d0×…×dr-1 → } the same with {@code axis}
 * 1 (keepdims=1, the default) or removed. Ties go to the first index, or the last with
 * select_last_index=1 (opset 12+). A NaN wins over every number (as NumPy's argmax/argmin: the first
 * NaN). Float32 and the integer types; Java only (a few comparisons per element, no oneDNN primitive).
 */
public final class ArgMinMax implements Op {
    private final boolean max;

    private ArgMinMax(boolean max) {
        this.max = max;
    }

    static void register(Registry.Table t) {
        t.add("ArgMax", 1, new ArgMinMax(true));
        t.add("ArgMin", 1, new ArgMinMax(false));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "data");
        DataType type = in.type(0);
        if (x.length == 0) throw error(node, "data must have rank >= 1, got a scalar");
        int axis = axis(node.attributes().getInt("axis", 0), x.length, node);
        long keep = node.attributes().getInt("keepdims", 1);
        if (keep != 0 && keep != 1) throw error(node, "keepdims must be 0 or 1, got " + keep);
        long last = node.attributes().getInt("select_last_index", 0);
        if (last != 0 && last != 1) throw error(node, "select_last_index must be 0 or 1, got " + last);
        if (last == 1 && ctx.opset() < 12) throw error(node, "select_last_index exists from opset 12 on (model opset " + ctx.opset() + ")");
        if (x[axis] == 0) throw error(node, "axis " + axis + " of " + format(x) + " is empty: there is no " + (max ? "maximum" : "minimum"));
        arraySize(x, node);
        long[] out = new long[keep == 1 ? x.length : x.length - 1];
        for (int i = 0, j = 0; i < x.length; i++) {
            if (i != axis) out[j++] = x[i];
            else if (keep == 1) out[j++] = 1;
        }
        int outer = 1, inner = 1, dim = (int) x[axis];
        for (int i = 0; i < axis; i++) outer *= (int) x[i];
        for (int i = axis + 1; i < x.length; i++) inner *= (int) x[i];
        int o = outer, n = inner;
        boolean lastIndex = last == 1;
        return step(out, DataType.INT64, inputs -> {
            Value v = inputs.get(0);
            // better(p, q) > 0: the element at p beats the one at q (flat positions).
            java.util.function.IntBinaryOperator better;
            if (v instanceof Value.Floats f) {
                float[] a = f.tensor().toArray();
                better = (p, q) -> {
                    float x1 = a[p], y1 = a[q];
                    if (Float.isNaN(y1)) return -1;   // the first NaN stays chosen
                    if (Float.isNaN(x1)) return 1;
                    if (x1 == y1) return 0;           // -0 and +0 tie
                    return (max ? x1 > y1 : x1 < y1) ? 1 : -1;
                };
            } else {
                long[] a = longs(inputs, 0, node);
                better = (p, q) -> max ? Long.compare(a[p], a[q]) : Long.compare(a[q], a[p]);
            }
            long[] idx = new long[o * n];
            for (int a = 0; a < o; a++) {
                for (int c = 0; c < n; c++) {
                    int base = a * dim * n + c;
                    int best = 0;
                    for (int j = 1; j < dim; j++) {
                        int b = better.applyAsInt(base + j * n, base + best * n);
                        if (b > 0 || (b == 0 && lastIndex)) best = j;
                    }
                    idx[a * n + c] = best;
                }
            }
            return result(DataType.INT64, idx, out);
        });
    }
}
