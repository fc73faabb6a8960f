package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/** Transpose by {@code perm} (default: reverse the axes), any dtype, by an index map. Java only. */
public final class Transpose implements Op {
    static void register(Registry.Table t) {
        t.add("Transpose", 1, new Transpose());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        return transpose(node, in, ctx);
    }

    static Step transpose(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "data");
        long[] perm = node.attributes().getInts("perm", null);
        if (perm == null) {
            perm = new long[x.length];
            for (int i = 0; i < x.length; i++) perm[i] = x.length - 1 - i;
        }
        if (perm.length != x.length) throw error(node, "perm " + format(perm) + " does not match rank " + x.length);
        long[] out = new long[x.length];
        boolean[] seen = new boolean[x.length];
        for (int i = 0; i < x.length; i++) {
            int p = axis(perm[i], x.length, node);
            if (seen[p]) throw error(node, "perm " + format(perm) + " is not a permutation");
            seen[p] = true;
            out[i] = x[p];
        }
        long[] inStrides = strides(x);
        int[] index = new int[(int) count(out)];
        long[] coord = new long[out.length];
        for (int i = 0; i < index.length; i++) {
            long offset = 0;
            for (int d = 0; d < out.length; d++) offset += coord[d] * inStrides[(int) perm[d]];
            index[i] = (int) offset;
            for (int d = out.length - 1; d >= 0; d--) {
                if (++coord[d] < out[d]) break;
                coord[d] = 0;
            }
        }
        return indexStep(node, out, in.type(0), index, 0);
    }
}
