package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.List;
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
        int axis = Indexing.elementsAxis(node, data, ishape);
        long[] out = ishape.clone();
        arraySize(out, node);
        Function<List<Value>, int[]> sources = Indexing.fromIndices(in, node, Indexing.alongAxis(data, out, axis, node));
        return step(out, in.type(0), v -> Indexing.take(v.get(0), sources.apply(v), out));
    }
}
