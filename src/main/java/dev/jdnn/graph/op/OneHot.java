package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * OneHot (9+): indices (any shape, any numeric type; float indices are truncated toward zero), depth (a
 * scalar or one-element tensor, any numeric type), values {@code [off, on]} (any type, the output's) →
 * indices' shape with a new axis of size depth inserted at {@code axis} (default −1 = innermost; negative
 * counts from the back over the output's rank, range {@code [−r−1, r]}). Output element
 * {@code [..., d, ...]} is {@code on} where the index equals d, else {@code off}. An index outside the range
 * gives a row of all {@code off}: from opset 11 the range is {@code [−depth, depth)} and negative indices
 * count from the end (−1 is depth − 1, as {@code F.one_hot} never produces but exporters rely on); opset 9
 * and 10 accept only {@code [0, depth)}. The output's shape depends on depth's value, so depth must be known
 * when the plan is prepared ({@link DataDependentException} otherwise).
 */
public final class OneHot implements Op {
    static void register(Registry.Table t) {
        t.add("OneHot", 9, new OneHot());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] indices = in.require(0, node, "indices");
        long[] depthShape = in.require(1, node, "depth");
        long[] valuesShape = in.require(2, node, "values");
        if (depthShape.length > 1 || count(depthShape) != 1) throw error(node, "depth must be a scalar or a one-element 1-D tensor, got shape " + format(depthShape));
        if (valuesShape.length != 1 || valuesShape[0] != 2) throw error(node, "values must be a 1-D tensor [off_value, on_value], got shape " + format(valuesShape));
        Value depthValue = in.constant(1);
        if (depthValue == null) {
            throw new DataDependentException(node.opType() + " node " + node.label()
                    + ": its output shape depends on the value of depth, which must be known when the plan is prepared (an initializer, computable from shapes, or a small graph input)");
        }
        long depth = depthValue instanceof Value.Floats f ? truncate(f.tensor().getFlat(0)) : ((Value.Longs) depthValue).view()[0];
        if (depth <= 0) throw error(node, "depth must be positive, got " + depth);
        int rank = indices.length + 1;
        int axis = axis(node.attributes().getInt("axis", -1), rank, node);
        long[] out = new long[rank];
        System.arraycopy(indices, 0, out, 0, axis);
        out[axis] = depth;
        System.arraycopy(indices, axis, out, axis + 1, indices.length - axis);
        int size = arraySize(out, node);
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= indices[d];
        for (int d = axis; d < indices.length; d++) inner *= indices[d];
        boolean wrapNegative = ctx.opset() >= 11;
        long o = outer, c = inner;
        return step(out, in.type(2), inputs -> {
            long[] idx = indexValues(inputs.get(0));
            // Output [outer, depth, inner]: position (a, d, e) is on where indices[a, e] resolves to d.
            boolean[] hot = new boolean[size];
            for (long a = 0; a < o; a++) {
                for (long e = 0; e < c; e++) {
                    long i = idx[(int) (a * c + e)];
                    if (wrapNegative && i < 0) i += depth;
                    if (i >= 0 && i < depth) hot[(int) ((a * depth + i) * c + e)] = true;
                }
            }
            Value values = inputs.get(2);
            if (values instanceof Value.Longs l) {
                long off = l.view()[0], on = l.view()[1];
                long[] y = new long[size];
                for (int p = 0; p < size; p++) y[p] = hot[p] ? on : off;
                return new Value.Longs(l.type(), out, y);
            }
            float[] v = floats(inputs, 2, node).toArray(), y = new float[size];
            for (int p = 0; p < size; p++) y[p] = hot[p] ? v[1] : v[0];
            return result(y, out);
        });
    }

    /** Indices as integers: float ones truncated toward zero (NaN and ±∞ fall outside every range). */
    private static long[] indexValues(Value v) {
        if (v instanceof Value.Longs l) return l.view();
        float[] f = ((Value.Floats) v).tensor().toArray();
        long[] r = new long[f.length];
        for (int i = 0; i < f.length; i++) r[i] = truncate(f[i]);
        return r;
    }

    private static long truncate(float x) {
        return Float.isNaN(x) ? Long.MIN_VALUE : (long) x; // (long) saturates ±∞ to the long range
    }
}
