package dev.jdnn.graph.op;

import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;

/**
 * Tile (6+): repeats {@code input} {@code repeats[d]} times along each axis, any element type:
 * {@code d0×…×dr−1 → r0·d0×…×rr−1·dr−1}. The repeats input (int64, one per axis, each ≥ 0) must be
 * known at prepare time. The output, read row-major as {@code r0×d0×r1×d1×…}, is the input through
 * strides {@code 0, s0, 0, s1, …}; natively a {@link Strided} copy of plain float32 data.
 */
public final class Tile implements Op {
    static void register(Registry.Table t) {
        t.add("Tile", 6, new Tile());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        return plan(node, in).step(node, in.type(0));
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        return Strided.lower(node, in, lowering, () -> plan(node, in));
    }

    static Strided plan(Node node, Inputs in) {
        long[] x = in.require(0, node, "input");
        in.require(1, node, "repeats");
        long[] repeats = in.constantLongs(1, node, "repeats");
        if (repeats.length != x.length) {
            throw Ops.error(node, "repeats " + Ops.format(repeats) + " has " + repeats.length + " values, the input " + Ops.format(x) + " has rank " + x.length);
        }
        int r = x.length;
        long[] out = new long[r], walk = new long[2 * r], strides = new long[2 * r];
        long[] inStrides = Ops.strides(x);
        for (int d = 0; d < r; d++) {
            if (repeats[d] < 0) throw Ops.error(node, "repeats " + Ops.format(repeats) + " has a negative value");
            out[d] = Math.multiplyExact(x[d], repeats[d]);
            walk[2 * d] = repeats[d];
            walk[2 * d + 1] = x[d];
            strides[2 * d] = 0;
            strides[2 * d + 1] = inStrides[d];
        }
        return new Strided(x, out, walk, 0, strides);
    }
}
