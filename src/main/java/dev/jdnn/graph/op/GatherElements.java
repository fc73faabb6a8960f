package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import java.util.function.Function;

/**
 * GatherElements (opset 11+): {@code out[i][j][k] = data[index[i][j][k]][j][k]} for axis 0 (likewise for
 * any axis), i.e. numpy's {@code take_along_axis}. data r-D, indices r-D of the same rank with
 * {@code indices.shape[d] <= data.shape[d]} off the axis → output shaped like indices, data's dtype.
 * Indices are int32 or int64, negative ones count from the end; when they are computed at run time the
 * source map is built per run.
 */
public final class GatherElements implements Op {
    static void register(Registry.Table t) {
        t.add("GatherElements", 11, new GatherElements());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] data = in.require(0, node, "data");
        long[] ishape = in.require(1, node, "indices");
        Indexing.requireIndices(in, 1, node, "indices");
        if (ishape.length != data.length) {
            throw error(node, "indices " + format(ishape) + " must have the rank of data " + format(data));
        }
        if (data.length == 0) throw error(node, "data must have rank >= 1");
        int axis = axis(node.attributes().getInt("axis", 0), data.length, node);
        for (int d = 0; d < data.length; d++) {
            if (d != axis && ishape[d] > data[d]) {
                throw error(node, "indices " + format(ishape) + " exceed data " + format(data) + " in dimension " + d);
            }
        }
        long[] out = ishape.clone();
        int n = arraySize(out, node);
        long[] ds = strides(data);
        Function<long[], int[]> sources = idx -> {
            int[] src = new int[n];
            long[] coord = new long[out.length];
            for (int i = 0; i < n; i++) {
                long offset = 0;
                for (int d = 0; d < out.length; d++) {
                    offset += (d == axis ? Indexing.resolve(idx[i], data[axis], axis, node) : coord[d]) * ds[d];
                }
                src[i] = (int) offset;
                for (int d = out.length - 1; d >= 0; d--) {
                    if (++coord[d] < out[d]) break;
                    coord[d] = 0;
                }
            }
            return src;
        };
        if (in.isConstant(1)) {
            int[] src = sources.apply(in.constantLongs(1, node, "indices"));
            return step(out, in.type(0), v -> Indexing.take(v.get(0), src, out));
        }
        return step(out, in.type(0), v -> Indexing.take(v.get(0), sources.apply(longs(v, 1, node)), out));
    }
}
