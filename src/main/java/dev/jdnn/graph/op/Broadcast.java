package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.Arrays;
import java.util.List;

/**
 * Numpy-style multidirectional broadcasting over any number of inputs, and the typed element access the
 * element-wise families share (Binary, Variadic, Compare, Logical, Mod, Where): a {@link Plan} maps every
 * output position to a flat position in each input, once at prepare time.
 */
final class Broadcast {
    private Broadcast() {}

    /**
     * The output shape and, per input, the flat input position of each output position ({@code null}
     * where the input already has the output's shape, so its positions are the output's).
     */
    record Plan(long[] out, int count, int[][] index) {
        int at(int input, int i) {
            int[] x = index[input];
            return x == null ? i : x[i];
        }

        /** Whether input {@code i} has the output's shape. */
        boolean full(int input) {
            return index[input] == null;
        }
    }

    /** Broadcasts {@code shapes} together (every one given) or throws naming every shape. */
    static long[] shape(Node node, List<long[]> shapes) {
        int rank = 0;
        for (long[] s : shapes) rank = Math.max(rank, s.length);
        long[] out = new long[rank];
        Arrays.fill(out, 1);
        for (long[] s : shapes) {
            for (int i = 0; i < s.length; i++) {
                int o = i + rank - s.length;
                long d = s[i];
                if (d == out[o] || d == 1) continue;
                if (out[o] != 1) throw error(node, "input shapes " + list(shapes) + " cannot be broadcast together (dimension " + o + " of the result: " + out[o] + " vs " + d + ")");
                out[o] = d;
            }
        }
        // A dimension of 0 against 1 gives 0 (numpy); 0 against n > 1 was refused above.
        return out;
    }

    /** The broadcast plan of {@code shapes}; {@code sameShape} (Max/Min/Sum/Mean before opset 8) refuses any broadcasting. */
    static Plan plan(Node node, List<long[]> shapes, boolean sameShape) {
        if (sameShape) {
            for (long[] s : shapes) {
                if (!Arrays.equals(s, shapes.get(0))) {
                    throw error(node, "inputs must all have the same shape before opset 8 (no broadcasting), got " + list(shapes));
                }
            }
        }
        long[] out = shape(node, shapes);
        int count = arraySize(out, node);
        int[][] index = new int[shapes.size()][];
        for (int k = 0; k < shapes.size(); k++) {
            if (!Arrays.equals(shapes.get(k), out)) index[k] = broadcastIndex(shapes.get(k), out);
        }
        return new Plan(out, count, index);
    }

    static String list(List<long[]> shapes) {
        StringBuilder b = new StringBuilder();
        for (long[] s : shapes) b.append(b.isEmpty() ? "" : ", ").append(format(s));
        return b.toString();
    }

    /** Every given input (indices {@code from..to-1}) has the same element type, which is returned; else an error naming the types. */
    static DataType sameType(Node node, Inputs in, int from, int to) {
        DataType t = in.type(from);
        for (int i = from + 1; i < to; i++) {
            if (in.has(i) && in.type(i) != t) {
                throw error(node, "inputs must have the same element type, got " + t.onnxName() + " (input " + from + ") and " + in.type(i).onnxName() + " (input " + i + ")");
            }
        }
        return t;
    }

    /** Refuses bool for ops ONNX defines on numbers only. */
    static void requireNumeric(Node node, DataType t) {
        if (t == DataType.BOOL) throw error(node, node.opType() + " takes numeric tensors, not bool");
    }

    /** The float data of a value (a copy). */
    static float[] floats(Value v, Node node) {
        if (v instanceof Value.Floats f) return f.tensor().toArray();
        throw error(node, "expected float32 data, got " + (v == null ? "a missing input" : v.type().onnxName()));
    }

    /** The integer/bool data of a value (not copied). */
    static long[] longs(Value v, Node node) {
        if (v instanceof Value.Longs l) return l.view();
        throw error(node, "expected integer or bool data, got " + (v == null ? "a missing input" : v.type().onnxName()));
    }

    /** The shapes of inputs {@code from..to-1}. */
    static List<long[]> shapes(Inputs in, int from, int to) {
        return in.shapes().subList(from, to);
    }
}
