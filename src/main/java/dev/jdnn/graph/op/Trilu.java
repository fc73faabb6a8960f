package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * Trilu (opset 14+): the upper ({@code upper=1}, default) or lower triangle of each of the last-two-axes
 * matrices of x (rank >= 2, any dtype), other elements zero. Element (i, j) is kept when
 * {@code j - i >= k} (upper) or {@code j - i <= k} (lower); k is the optional int64 scalar input
 * (default 0), read at run time when it is not a constant.
 */
public final class Trilu implements Op {
    static void register(Registry.Table t) {
        t.add("Trilu", 14, new Trilu());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "input");
        if (x.length < 2) throw error(node, "input " + format(x) + " must have rank >= 2");
        long upper = node.attributes().getInt("upper", 1);
        if (upper != 0 && upper != 1) throw error(node, "attribute upper=" + upper + " must be 0 or 1");
        if (in.has(1)) {
            if (in.type(1) != dev.jdnn.DataType.INT64) throw error(node, "k must be int64, got " + in.type(1).onnxName());
            if (count(in.shape(1)) != 1) throw error(node, "k must be a scalar, got shape " + format(in.shape(1)));
        }
        int size = arraySize(x, node);
        long rows = x[x.length - 2], cols = x[x.length - 1];
        return step(x, in.type(0), v -> {
            long k = v.size() > 1 && v.get(1) != null ? longs(v, 1, node)[0] : 0;
            boolean[] keep = new boolean[size];
            for (int p = 0; p < size; p++) {
                long j = p % cols, i = (p / cols) % rows;
                keep[p] = upper == 1 ? j - i >= k : j - i <= k;
            }
            if (v.get(0) instanceof Value.Longs l) {
                long[] d = l.data();
                for (int p = 0; p < size; p++) if (!keep[p]) d[p] = 0;
                return new Value.Longs(l.type(), x, d);
            }
            float[] d = floats(v, 0, node).toArray();
            for (int p = 0; p < size; p++) if (!keep[p]) d[p] = 0;
            return result(d, x);
        });
    }
}
