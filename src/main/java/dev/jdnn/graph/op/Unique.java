package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Unique (11+), numpy's {@code unique} with all four results: the distinct elements of X (any type;
 * without {@code axis}, of the flattened X → 1-D) or its distinct slices along {@code axis} (negative
 * counts from the back), as
 * <ul>
 *   <li>Y: X's type, the distinct ones ascending ({@code sorted=1}, default; slices compared
 *       lexicographically, row-major) or in order of first occurrence ({@code sorted=0});</li>
 *   <li>indices (int64 [u]): where each first occurs in X;</li>
 *   <li>inverse_indices (int64 [n]): for each element/slice of X, its position in Y;</li>
 *   <li>counts (int64 [u]): how often each occurs.</li>
 * </ul>
 * Floats compare as numpy does: −0 equals 0, and all NaNs are one value, sorted after +∞. Every output's
 * shape depends on X's values, so X must be known when the plan is prepared ({@link DataDependentException}
 * otherwise: an initializer, computed from shapes, or a small graph input the session specialises on).
 */
public final class Unique implements Op {
    static void register(Registry.Table t) {
        t.add("Unique", 11, new Unique());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] shape = in.require(0, node, "X");
        long sorted = node.attributes().getInt("sorted", 1);
        if (sorted != 0 && sorted != 1) throw error(node, "attribute sorted=" + sorted + " must be 0 or 1");
        boolean hasAxis = node.attributes().has("axis");
        if (hasAxis && shape.length == 0) throw error(node, "axis is given but X is a scalar");
        int axis = hasAxis ? axis(node.attributes().getInt("axis", 0), shape.length, node) : -1;
        arraySize(shape, node);
        Value x = in.constant(0);
        if (x == null) {
            throw new DataDependentException(node.opType() + " node " + node.label()
                    + ": its output shapes depend on the values of X, which must be known when the plan is prepared (an initializer, computable from shapes, or a small graph input)");
        }
        List<Value> result = unique(x, axis, sorted == 1);
        List<long[]> shapes = result.stream().map(Value::shape).toList();
        DataType type = in.type(0);
        return step(shapes, List.of(type, DataType.INT64, DataType.INT64, DataType.INT64), v -> unique(v.get(0), axis, sorted == 1));
    }

    /** Y, indices, inverse_indices, counts of x along axis (−1: flattened). */
    static List<Value> unique(Value x, int axis, boolean sorted) {
        long[] shape = x.shape();
        // x as [outer, n, inner]: n candidates (slices along axis, or single elements), each outer×inner elements.
        int n = (int) (axis < 0 ? count(shape) : shape[axis]);
        long outer = 1, inner = 1;
        if (axis >= 0) {
            for (int d = 0; d < axis; d++) outer *= shape[d];
            for (int d = axis + 1; d < shape.length; d++) inner *= shape[d];
        }
        long o = outer, c = inner;
        Comparator<Integer> bySlice = slices(x, n, (int) o, (int) c);
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, bySlice); // stable: equal slices stay in order of occurrence, the first one first
        // Groups of equal slices, ascending: first occurrence and count of each.
        List<int[]> groups = new ArrayList<>(); // {first occurrence, count, start in order}
        for (int i = 0; i < n; i++) {
            if (i == 0 || bySlice.compare(order[i - 1], order[i]) != 0) groups.add(new int[] {order[i], 0, i});
            groups.get(groups.size() - 1)[1]++;
        }
        if (!sorted) groups.sort(Comparator.comparingInt(g -> g[0]));
        int u = groups.size();
        long[] indices = new long[u], counts = new long[u], inverse = new long[n];
        for (int g = 0; g < u; g++) {
            int[] group = groups.get(g);
            indices[g] = group[0];
            counts[g] = group[1];
            for (int i = group[2]; i < group[2] + group[1]; i++) inverse[order[i]] = g;
        }
        long[] yShape = axis < 0 ? new long[] {u} : shape.clone();
        if (axis >= 0) yShape[axis] = u;
        int[] source = new int[(int) (o * u * c)];
        int at = 0;
        for (long a = 0; a < o; a++) {
            for (long first : indices) for (long e = 0; e < c; e++) source[at++] = (int) ((a * n + first) * c + e);
        }
        return List.of(Indexing.take(x, source, yShape), new Value.Longs(new long[] {u}, indices),
                new Value.Longs(new long[] {n}, inverse), new Value.Longs(new long[] {u}, counts));
    }

    /** Orders candidates i, j by their elements at (a, i, e) for a in outer, e in inner, row-major. */
    private static Comparator<Integer> slices(Value x, int n, int outer, int inner) {
        if (x instanceof Value.Longs l) {
            long[] d = l.view();
            return (i, j) -> {
                for (int a = 0; a < outer; a++) {
                    for (int e = 0; e < inner; e++) {
                        int cmp = Long.compare(d[(a * n + i) * inner + e], d[(a * n + j) * inner + e]);
                        if (cmp != 0) return cmp;
                    }
                }
                return 0;
            };
        }
        float[] d = ((Value.Floats) x).tensor().toArray();
        return (i, j) -> {
            for (int a = 0; a < outer; a++) {
                for (int e = 0; e < inner; e++) {
                    int cmp = compareFloats(d[(a * n + i) * inner + e], d[(a * n + j) * inner + e]);
                    if (cmp != 0) return cmp;
                }
            }
            return 0;
        };
    }

    /** numpy's order: −0 == 0, NaN == NaN, NaN after everything else. */
    static int compareFloats(float p, float q) {
        boolean pn = Float.isNaN(p), qn = Float.isNaN(q);
        if (pn || qn) return pn == qn ? 0 : pn ? 1 : -1;
        return p < q ? -1 : p > q ? 1 : 0;
    }
}
