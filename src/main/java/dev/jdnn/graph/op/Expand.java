package dev.jdnn.graph.op;

import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;

/**
 * Expand (8+): broadcasts {@code input} to {@code shape} numpy-style in both directions (a 1 in
 * {@code shape} keeps the input's dimension), any element type: {@code x: d0×…×dk → broadcast(x, shape)}.
 * The shape input must be known at prepare time. Every output element reads the input through stride 0
 * on the broadcast axes; natively a {@link Strided} copy of plain float32 data.
 */
public final class Expand implements Op {
    static void register(Registry.Table t) {
        t.add("Expand", 8, new Expand());
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
        in.require(1, node, "shape");
        long[] shape = in.constantLongs(1, node, "shape");
        if (in.shape(1).length != 1) throw Ops.error(node, "shape must be a 1-D tensor, got shape " + Ops.format(in.shape(1)));
        for (long d : shape) if (d < 0) throw Ops.error(node, "shape " + Ops.format(shape) + " has a negative dimension");
        long[] out = Ops.broadcast(x, shape, node);
        int r = out.length;
        long[] inStrides = Ops.strides(x);
        long[] strides = new long[r];
        for (int d = 0; d < r; d++) {
            int i = d - (r - x.length);
            strides[d] = i < 0 || x[i] == 1 ? 0 : inStrides[i];
        }
        return new Strided(x, out, out, 0, strides);
    }
}
