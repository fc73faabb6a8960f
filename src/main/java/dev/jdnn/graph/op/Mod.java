package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * Mod (opset 10+): the remainder of {@code A / B} element-wise with multidirectional broadcasting
 * ({@code [3,2,5] mod [1] → [3,2,5]}). Attribute {@code fmod}:
 * <ul>
 *   <li>0 (default, integers only): Python's {@code %} / {@code numpy.mod}, the result takes the divisor's
 *       sign ({@code -4 mod 3 = 2}, {@code 4 mod -3 = -2});</li>
 *   <li>1: C's {@code fmod}, truncated division, the result takes the dividend's sign
 *       ({@code -4 fmod 3 = -1}); required for float inputs (ONNX: "must be set to 1").</li>
 * </ul>
 * An integer divisor of 0 is an error (ONNX leaves it platform dependent; we refuse rather than guess);
 * a float divisor of 0 gives NaN, as fmod does. Java only.
 */
public final class Mod implements Op {
    static void register(Registry.Table t) {
        t.add("Mod", 10, new Mod());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.require(0, node, "A");
        in.require(1, node, "B");
        long fmod = node.attributes().getInt("fmod", 0);
        if (fmod != 0 && fmod != 1) throw error(node, "attribute fmod must be 0 or 1, got " + fmod);
        DataType t = Broadcast.sameType(node, in, 0, 2);
        Broadcast.requireNumeric(node, t);
        if (t == DataType.FLOAT && fmod != 1) throw error(node, "attribute fmod must be 1 for float inputs, got " + fmod);
        Broadcast.Plan p = Broadcast.plan(node, Broadcast.shapes(in, 0, 2), false);
        if (t == DataType.FLOAT) {
            return step(p.out(), inputs -> {
                float[] a = Broadcast.floats(inputs.get(0), node), b = Broadcast.floats(inputs.get(1), node), r = new float[p.count()];
                // Java's float % is IEEE fmod: exact, sign of the dividend, NaN for a zero divisor or infinite dividend.
                for (int i = 0; i < r.length; i++) r[i] = a[p.at(0, i)] % b[p.at(1, i)];
                return result(r, p.out());
            });
        }
        boolean floor = fmod == 0;
        return step(p.out(), t, inputs -> {
            long[] a = Broadcast.longs(inputs.get(0), node), b = Broadcast.longs(inputs.get(1), node), r = new long[p.count()];
            for (int i = 0; i < r.length; i++) {
                long x = a[p.at(0, i)], y = b[p.at(1, i)];
                if (y == 0) throw error(node, "integer modulo by zero (B[" + p.at(1, i) + "] = 0)");
                r[i] = floor ? Math.floorMod(x, y) : x % y;
            }
            return new Value.Longs(t, p.out(), r);
        });
    }
}
