package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.Arrays;
import java.util.List;

/**
 * MatMulInteger and QLinearMatMul (opset 10+), numpy matmul semantics as {@link MatMul} (1-D operands
 * promoted, batch dimensions broadcast):
 * <pre>
 *   acc = (a - a_zp) · (b - b_zp)                                  int32 accumulation (wraps as int32 does)
 *   MatMulInteger(a, b, a_zp?, b_zp?)                                → acc                               int32
 *   QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp)
 *       y = saturate(rint(acc · (a_scale · b_scale / y_scale) + y_zp))                                uint8 | int8
 * </pre>
 * a and b are uint8 or int8 (each its own; its zero point of the same type). a's scale and zero point are a
 * scalar, a 1-D tensor of M values (per row) or a tensor broadcastable to a ({@code [D1, D2, M, 1]}); b's a
 * scalar, a 1-D tensor of N values (per column) or a tensor broadcastable to b ({@code [D1, D2, 1, N]}). The
 * requantization is the ONNX reference's: the multiplier in float32, the product with the accumulator and the
 * zero point's addition in double, round half to even, saturation to y_zp's type. Java only (plain loops).
 */
public final class IntegerMatMul implements Op {
    private final boolean qlinear;

    private IntegerMatMul(boolean qlinear) {
        this.qlinear = qlinear;
    }

    static void register(Registry.Table t) {
        t.add("MatMulInteger", 10, new IntegerMatMul(false));
        t.add("QLinearMatMul", 10, new IntegerMatMul(true));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        int bIn = qlinear ? 3 : 1, aZp = 2, bZp = qlinear ? 5 : 3;
        long[] a = in.require(0, node, "a"), b = in.require(bIn, node, "b");
        requireQuantized(node, in, 0, "a");
        requireQuantized(node, in, bIn, "b");
        MatMul.Geometry g = MatMul.geometry(node, a, b);
        int[] aZpIndex = in.has(aZp) ? paramIndex(node, in, aZp, "a_zero_point", a, true, a) : null;
        int[] bZpIndex = in.has(bZp) ? paramIndex(node, in, bZp, "b_zero_point", b, false, b) : null;
        if (in.has(aZp) && in.type(aZp) != in.type(0)) throw error(node, "a_zero_point's type " + in.type(aZp).onnxName() + " differs from a's " + in.type(0).onnxName());
        if (in.has(bZp) && in.type(bZp) != in.type(bIn)) throw error(node, "b_zero_point's type " + in.type(bZp).onnxName() + " differs from b's " + in.type(bIn).onnxName());
        if (!qlinear) {
            return step(g.out(), DataType.INT32, v -> new Value.Longs(DataType.INT32, g.out(), accumulate(node, g, v, bIn, aZp, bZp, aZpIndex, bZpIndex)));
        }
        for (int s : new int[] {1, 4, 6}) if (in.has(s) && in.type(s) != DataType.FLOAT) throw error(node, "input " + s + " (a scale) must be float32, got " + in.type(s).onnxName());
        int[] aScaleIndex = paramIndex(node, in, 1, "a_scale", a, true, g.dst());
        int[] bScaleIndex = paramIndex(node, in, 4, "b_scale", b, false, g.dst());
        scale(node, in, 6, "y_scale", 1);
        in.require(7, node, "y_zero_point");
        DataType yt = in.type(7);
        zeroPoint(node, in, 7, "y_zero_point", yt, 1);
        return step(g.out(), yt, v -> {
            long[] acc = accumulate(node, g, v, bIn, aZp, bZp, aZpIndex, bZpIndex);
            float[] as = floats(v, 1, node).toArray(), bs = floats(v, 4, node).toArray();
            float ys = floats(v, 6, node).getFlat(0);
            long yzp = longs(v, 7, node)[0];
            long[] y = new long[acc.length];
            for (int i = 0; i < acc.length; i++) y[i] = requantize(acc[i], as[aScaleIndex[i]] * bs[bScaleIndex[i]] / ys, yzp, yt);
            return new Value.Longs(yt, g.out(), y);
        });
    }

    /**
     * For every element of a tensor of shape {@code target}, the flat index of the parameter (input {@code i}:
     * scale or zero point of {@code operand}, a's when {@code rows}, else b's) that applies: a one-element
     * parameter is per tensor; a 1-D one is per row of a ({@code [M] → [M, 1]}) or per column of b
     * ({@code [N] → [1, N]}); others broadcast to the operand as numpy does. A scale ({@code target} the
     * output) must be 1 along K, the axis the product sums over.
     */
    private static int[] paramIndex(Node node, Inputs in, int i, String name, long[] operand, boolean rows, long[] target) {
        long[] s = in.require(i, node, name);
        if (count(s) == 1) return new int[arraySize(target, node)];
        String what = (rows ? "a " : "b ") + format(operand);
        if (operand.length < 2) throw error(node, name + " of shape " + format(s) + " must be a scalar for the 1-D operand " + what);
        long[] shape = s;
        if (s.length == 1) {
            long expected = operand[operand.length - (rows ? 2 : 1)];
            if (s[0] != expected) throw error(node, name + " has " + s[0] + " values, expected 1 or " + expected + " (the " + (rows ? "rows" : "columns") + " of " + what + ")");
            shape = rows ? new long[] {s[0], 1} : new long[] {1, s[0]};
        }
        boolean fits = shape.length <= operand.length;
        for (int d = 1; fits && d <= shape.length; d++) fits = shape[shape.length - d] == 1 || shape[shape.length - d] == operand[operand.length - d];
        if (!fits) throw error(node, name + " of shape " + format(s) + " does not broadcast to " + what);
        if (target != operand && shape[shape.length - (rows ? 1 : 2)] != 1) {
            throw error(node, name + " of shape " + format(s) + " must have size 1 along K (the summed axis) of " + what);
        }
        return broadcastIndex(shape, target);
    }

    /** The int32 accumulators of {@code (a - a_zp) · (b - b_zp)} over the (padded) destination shape. */
    private static long[] accumulate(Node node, MatMul.Geometry g, List<Value> v, int bIn, int aZp, int bZp, int[] aZpIndex, int[] bZpIndex) {
        int[] a = shifted(longs(v, 0, node), v.size() > aZp ? v.get(aZp) : null, aZpIndex);
        int[] b = shifted(longs(v, bIn, node), v.size() > bZp ? v.get(bZp) : null, bZpIndex);
        int rank = g.dst().length;
        long[] batch = Arrays.copyOf(g.dst(), rank - 2);
        int[] ia = broadcastIndex(Arrays.copyOf(g.a(), rank - 2), batch), ib = broadcastIndex(Arrays.copyOf(g.b(), rank - 2), batch);
        int m = g.m(), k = g.k(), n = g.n();
        long[] r = new long[arraySize(g.dst(), node)];
        for (int bi = 0; bi < ia.length; bi++) {
            int ao = ia[bi] * m * k, bo = ib[bi] * k * n, ro = bi * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    int acc = 0;   // int arithmetic: wraps as an int32 accumulator does
                    for (int p = 0; p < k; p++) acc += a[ao + i * k + p] * b[bo + p * n + j];
                    r[ro + i * n + j] = acc;
                }
            }
        }
        return r;
    }

    private static int[] shifted(long[] x, Value zp, int[] index) {
        int[] r = new int[x.length];
        long[] z = zp instanceof Value.Longs l ? l.view() : null;
        for (int i = 0; i < x.length; i++) r[i] = (int) (z == null ? x[i] : x[i] - z[index[i]]);
        return r;
    }

    // Shared with IntegerConv.

    /** Input i must be uint8 or int8. */
    static void requireQuantized(Node node, Inputs in, int i, String name) {
        DataType t = in.type(i);
        if (t != DataType.UINT8 && t != DataType.INT8) throw error(node, name + " of type " + t.onnxName() + " is not supported: jdnn runs " + node.opType() + " on uint8 and int8");
    }

    /** An optional zero point (input i) of {@code type}, a scalar or (perChannel > 1) 1-D of perChannel values. */
    static void zeroPoint(Node node, Inputs in, int i, String name, DataType type, int perChannel) {
        if (!in.has(i)) return;
        if (in.type(i) != type) throw error(node, name + "'s type " + in.type(i).onnxName() + " must be " + type.onnxName());
        checkPerChannel(node, name, in.shape(i), perChannel);
    }

    /** A float32 scale (input i): a scalar or (perChannel > 1) 1-D of perChannel values. */
    static void scale(Node node, Inputs in, int i, String name, int perChannel) {
        in.require(i, node, name);
        if (in.type(i) != DataType.FLOAT) throw error(node, name + " must be float32, got " + in.type(i).onnxName());
        checkPerChannel(node, name, in.shape(i), perChannel);
    }

    private static void checkPerChannel(Node node, String name, long[] s, int perChannel) {
        if (count(s) == 1 && s.length <= 1) return;
        if (perChannel > 1 && s.length == 1 && s[0] == perChannel) return;
        throw error(node, name + " must be a scalar" + (perChannel > 1 ? " or 1-D of " + perChannel + " values (per output channel)" : "") + ", got shape " + format(s));
    }

    /** The zero points of input i (absent: {@code count} zeros). */
    static long[] zeroPoints(List<Value> v, int i, int count) {
        return i < v.size() && v.get(i) instanceof Value.Longs l ? l.view() : new long[count];
    }

    /** Per output channel m: {@code x_scale · w_scale[m] / y_scale} in float32 (inputs xs, ws, ys). */
    static float[] multipliers(Node node, List<Value> v, int xs, int ws, int ys, int channels) {
        float x = floats(v, xs, node).getFlat(0), y = floats(v, ys, node).getFlat(0);
        float[] w = floats(v, ws, node).toArray();
        float[] r = new float[channels];
        for (int m = 0; m < channels; m++) r[m] = x * w[w.length == 1 ? 0 : m] / y;
        return r;
    }

    /** An int32 accumulator requantized: {@code saturate(rint(acc · multiplier + zp))}, product and sum in double. */
    static long requantize(long acc, float multiplier, long zp, DataType type) {
        return Quantize.saturate(Math.rint((double) acc * multiplier + zp), type);
    }
}
