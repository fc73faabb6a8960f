package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Shared pieces of the indexing ops (Gather, GatherElements, GatherND, ScatterElements, ScatterND):
 * index inputs (int32 or int64, constant or computed at run time), negative-index wrapping with a
 * clear out-of-range error, element copies for any dtype and the scatter reductions.
 */
final class Indexing {
    private Indexing() {}

    /** Input i must be an int32 or int64 tensor of indices (ONNX's Tind). */
    static void requireIndices(Inputs in, int i, Node node, String what) {
        DataType t = in.type(i);
        if (t != DataType.INT64 && t != DataType.INT32) {
            throw error(node, what + " must be int32 or int64, got " + (t == null ? "nothing" : t.onnxName()));
        }
    }

    /**
     * {@code index} along an axis of size {@code dim}, negative counted from the end ({@code -1} is the
     * last); anything outside {@code [-dim, dim)} is an error naming the index, the axis and its size.
     */
    static long resolve(long index, long dim, int axis, Node node) {
        long j = index < 0 ? index + dim : index;
        if (j < 0 || j >= dim) {
            throw error(node, "index " + index + " is out of range for axis " + axis + " of size " + dim + " (valid: " + -dim + " to " + (dim - 1) + ")");
        }
        return j;
    }

    /** A value of {@code shape} taking element i from {@code data[source[i]]} (any dtype). */
    static Value take(Value data, int[] source, long[] shape) {
        if (data instanceof Value.Longs l) {
            long[] src = l.view(), dst = new long[source.length];
            for (int i = 0; i < source.length; i++) dst[i] = src[source[i]];
            return new Value.Longs(l.type(), shape, dst);
        }
        float[] src = ((Value.Floats) data).tensor().toArray(), dst = new float[source.length];
        for (int i = 0; i < source.length; i++) dst[i] = src[source[i]];
        return result(dst, shape);
    }

    /** The data of input 0 and 2 must have one type (scatter's data and updates). */
    static void sameType(Inputs in, int a, int b, Node node, String what) {
        if (in.type(a) != in.type(b)) {
            throw error(node, what + " must have the data's type " + in.type(a).onnxName() + ", got " + in.type(b).onnxName());
        }
    }

    /** Scatter reductions: what happens where an update lands on an existing element. */
    enum Reduction {
        NONE, ADD, MUL, MAX, MIN;

        float apply(float old, float update) {
            return switch (this) {
                case NONE -> update;
                case ADD -> old + update;
                case MUL -> old * update;
                case MAX -> Math.max(old, update);
                case MIN -> Math.min(old, update);
            };
        }

        long apply(long old, long update) {
            return switch (this) {
                case NONE -> update;
                case ADD -> old + update;
                case MUL -> old * update;
                case MAX -> Math.max(old, update);
                case MIN -> Math.min(old, update);
            };
        }

        /**
         * The {@code reduction} attribute: absent before opset 16, none/add/mul from 16, also max/min from
         * 18 (as ONNX defines the attribute per opset).
         */
        static Reduction of(Node node, int opset) {
            String r = node.attributes().getString("reduction", "none");
            List<String> allowed = opset >= 18 ? List.of("none", "add", "mul", "max", "min") : opset >= 16 ? List.of("none", "add", "mul") : List.of("none");
            if (!allowed.contains(r)) {
                throw error(node, "attribute reduction='" + r + "' is not valid at opset " + opset + " (allowed: " + String.join(", ", allowed) + ")");
            }
            return valueOf(r.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /**
     * A copy of {@code data} into which, in order, update i is reduced into element {@code destinations[i]}
     * (with NONE a repeated destination keeps the last update, as ONNX's reference does).
     */
    static Value scatter(Value data, Value updates, int[] destinations, Reduction reduction) {
        if (data instanceof Value.Longs l) {
            long[] out = l.data(), upd = ((Value.Longs) updates).view();
            for (int i = 0; i < destinations.length; i++) out[destinations[i]] = reduction.apply(out[destinations[i]], upd[i]);
            return new Value.Longs(l.type(), l.shape(), out);
        }
        float[] out = ((Value.Floats) data).tensor().toArray(), upd = ((Value.Floats) updates).tensor().toArray();
        for (int i = 0; i < destinations.length; i++) out[destinations[i]] = reduction.apply(out[destinations[i]], upd[i]);
        return result(out, data.shape());
    }

    /**
     * Scatter's inputs: data (0), indices (1, int32 or int64) and updates (2, of data's type); returns the
     * {@code reduction} the opset allows.
     */
    static Reduction scatterInputs(Node node, Inputs in, int opset) {
        in.require(0, node, "data");
        in.require(1, node, "indices");
        in.require(2, node, "updates");
        requireIndices(in, 1, node, "indices");
        sameType(in, 0, 2, node, "updates");
        return Reduction.of(node, opset);
    }

    /**
     * The {@code axis} attribute of GatherElements/ScatterElements, after checking that {@code indices}
     * (of data's rank) fits inside {@code data} on every other axis.
     */
    static int elementsAxis(Node node, long[] data, long[] indices) {
        int axis = axis(node.attributes().getInt("axis", 0), data.length, node);
        for (int d = 0; d < data.length; d++) {
            if (d != axis && indices[d] > data[d]) {
                throw error(node, "indices " + format(indices) + " exceed data " + format(data) + " in dimension " + d);
            }
        }
        return axis;
    }

    /**
     * GatherElements/ScatterElements' index map: for each position p of {@code indices} (row-major), the
     * data offset of p with {@code p[axis]} replaced by the index stored at p.
     */
    static Function<long[], int[]> alongAxis(long[] data, long[] indices, int axis, Node node) {
        int n = (int) count(indices);
        long[] ds = strides(data);
        return idx -> {
            int[] map = new int[n];
            long[] coord = new long[indices.length];
            for (int i = 0; i < n; i++) {
                long offset = 0;
                for (int d = 0; d < indices.length; d++) {
                    offset += (d == axis ? resolve(idx[i], data[axis], axis, node) : coord[d]) * ds[d];
                }
                map[i] = (int) offset;
                for (int d = indices.length - 1; d >= 0; d--) {
                    if (++coord[d] < indices[d]) break;
                    coord[d] = 0;
                }
            }
            return map;
        };
    }

    /**
     * An element map computed from the indices (input 1): once here when they are constant (so bad
     * indices fail at prepare), else on every run.
     */
    static Function<List<Value>, int[]> fromIndices(Inputs in, Node node, Function<long[], int[]> map) {
        if (in.isConstant(1)) {
            int[] fixed = map.apply(in.constantLongs(1, node, "indices"));
            return v -> fixed;
        }
        return v -> map.apply(longs(v, 1, node));
    }

    static long[] concat(long[] a, long[] b) {
        long[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
