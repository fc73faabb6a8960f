package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import java.util.function.Function;

/**
 * ScatterElements (opset 11+; the deprecated Scatter of opsets 9-10 is the same op): the output is a copy
 * of data where, for every position p of indices, {@code out[p with p[axis] = indices[p]] = updates[p]}
 * (reduced with {@code reduction}: none, add, mul from opset 16; max, min from 18). data r-D, indices
 * and updates of one shape and data's rank → output shaped like data. Indices int32/int64, possibly
 * computed at run time; negative ones count from the end.
 */
public final class ScatterElements implements Op {
    static void register(Registry.Table t) {
        t.add("Scatter", 9, 10, new ScatterElements());
        t.add("ScatterElements", 11, new ScatterElements());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] data = in.require(0, node, "data");
        long[] ishape = in.require(1, node, "indices");
        long[] ushape = in.require(2, node, "updates");
        Indexing.requireIndices(in, 1, node, "indices");
        Indexing.sameType(in, 0, 2, node, "updates");
        Indexing.Reduction reduction = Indexing.Reduction.of(node, ctx.opset());
        if (data.length == 0) throw error(node, "data must have rank >= 1");
        if (ishape.length != data.length || !java.util.Arrays.equals(ishape, ushape)) {
            throw error(node, "indices " + format(ishape) + " and updates " + format(ushape) + " must have one shape, of data's rank " + data.length);
        }
        int axis = axis(node.attributes().getInt("axis", 0), data.length, node);
        for (int d = 0; d < data.length; d++) {
            if (d != axis && ishape[d] > data[d]) {
                throw error(node, "indices " + format(ishape) + " exceed data " + format(data) + " in dimension " + d);
            }
        }
        int n = arraySize(ishape, node);
        arraySize(data, node);
        long[] ds = strides(data);
        Function<long[], int[]> destinations = idx -> {
            int[] dst = new int[n];
            long[] coord = new long[ishape.length];
            for (int i = 0; i < n; i++) {
                long offset = 0;
                for (int d = 0; d < ishape.length; d++) {
                    offset += (d == axis ? Indexing.resolve(idx[i], data[axis], axis, node) : coord[d]) * ds[d];
                }
                dst[i] = (int) offset;
                for (int d = ishape.length - 1; d >= 0; d--) {
                    if (++coord[d] < ishape[d]) break;
                    coord[d] = 0;
                }
            }
            return dst;
        };
        int[] fixed = in.isConstant(1) ? destinations.apply(in.constantLongs(1, node, "indices")) : null;
        return step(data, in.type(0), v -> Indexing.scatter(v.get(0), v.get(2),
                fixed != null ? fixed : destinations.apply(longs(v, 1, node)), reduction));
    }
}
