package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.Arrays;
import java.util.List;

/**
 * TopK: the k largest (or, with largest=0, smallest) elements along {@code axis} (default −1) and their
 * int64 indices: {@code X d0×…×dr-1, K → Values, Indices}, both of X's shape with {@code d[axis] = k}.
 * k is an attribute before opset 10 and a one-element int64 input from then on (jdnn needs it as a
 * constant: the output shape depends on it); largest and sorted arrive at opset 11. Output order is
 * always sorted (best first; sorted=0 leaves the order to the implementation); equal values keep the
 * lower index first, and a NaN counts as larger than every number. Float32 and the integer types; Java.
 */
public final class TopK implements Op {
    static void register(Registry.Table t) {
        t.add("TopK", 1, new TopK());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        DataType type = in.type(0);
        if (x.length == 0) throw error(node, "X must have rank >= 1, got a scalar");
        int axis = axis(node.attributes().getInt("axis", -1), x.length, node);
        long k;
        if (ctx.opset() < 10) {
            if (!node.attributes().has("k")) throw error(node, "attribute k is required before opset 10");
            k = node.attributes().getInt("k", 0);
        } else {
            if (node.attributes().has("k")) throw error(node, "k is an input from opset 10 on, not an attribute (model opset " + ctx.opset() + ")");
            long[] kv = in.constantLongs(1, node, "K");
            if (kv == null) throw error(node, "K (input 1) is required");
            if (kv.length != 1) throw error(node, "K must hold one value, got " + kv.length);
            k = kv[0];
        }
        if (k < 0 || k > x[axis]) throw error(node, "k " + k + " is out of range: axis " + axis + " of " + format(x) + " has " + x[axis] + " elements");
        long largest = node.attributes().getInt("largest", 1);
        long sorted = node.attributes().getInt("sorted", 1);
        if (largest != 0 && largest != 1) throw error(node, "largest must be 0 or 1, got " + largest);
        if (sorted != 0 && sorted != 1) throw error(node, "sorted must be 0 or 1, got " + sorted);
        if (ctx.opset() < 11 && (node.attributes().has("largest") || node.attributes().has("sorted"))) {
            throw error(node, "largest and sorted exist from opset 11 on (model opset " + ctx.opset() + ")");
        }
        arraySize(x, node);
        long[] out = x.clone();
        out[axis] = k;
        int outer = 1, inner = 1, dim = (int) x[axis], kk = (int) k;
        for (int i = 0; i < axis; i++) outer *= (int) x[i];
        for (int i = axis + 1; i < x.length; i++) inner *= (int) x[i];
        int o = outer, n = inner;
        boolean big = largest == 1;
        return step(List.of(out, out), List.of(type, DataType.INT64), inputs -> {
            Value v = inputs.get(0);
            float[] f = v instanceof Value.Floats fl ? fl.tensor().toArray() : null;
            long[] l = f == null ? longs(inputs, 0, node) : null;
            float[] fv = f != null ? new float[o * kk * n] : null;
            long[] lv = f == null ? new long[o * kk * n] : null;
            long[] idx = new long[o * kk * n];
            Integer[] order = new Integer[dim];
            for (int a = 0; a < o; a++) {
                for (int c = 0; c < n; c++) {
                    int base = a * dim * n + c;
                    for (int j = 0; j < dim; j++) order[j] = j;
                    // Stable sort: equal values keep ascending index order.
                    Arrays.sort(order, (p, q) -> {
                        int cmp = f != null ? compareFloats(f[base + p * n], f[base + q * n]) : Long.compare(l[base + p * n], l[base + q * n]);
                        return big ? -cmp : cmp;
                    });
                    for (int j = 0; j < kk; j++) {
                        int at = (a * kk + j) * n + c, from = base + order[j] * n;
                        idx[at] = order[j];
                        if (f != null) fv[at] = f[from]; else lv[at] = l[from];
                    }
                }
            }
            Value values = f != null ? result(fv, out) : result(type, lv, out);
            return List.of(values, result(DataType.INT64, idx, out));
        });
    }

    /** Numeric order with NaN above every number (−0 equals +0). */
    private static int compareFloats(float a, float b) {
        boolean na = Float.isNaN(a), nb = Float.isNaN(b);
        if (na || nb) return na == nb ? 0 : na ? 1 : -1;
        return a < b ? -1 : a > b ? 1 : 0;
    }
}
