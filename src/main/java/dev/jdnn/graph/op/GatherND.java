package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * GatherND (opset 11+; {@code batch_dims} from 12): data r-D, indices q-D whose last dimension k holds
 * index tuples into data's axes {@code b..b+k-1} (b = batch_dims leading axes shared by data and
 * indices) → output {@code indices.shape[:-1] + data.shape[b+k:]}, data's dtype. Indices int32/int64,
 * possibly computed at run time; negative ones count from the end.
 */
public final class GatherND implements Op {
    static void register(Registry.Table t) {
        t.add("GatherND", 11, new GatherND());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] data = in.require(0, node, "data");
        long[] ishape = in.require(1, node, "indices");
        Indexing.requireIndices(in, 1, node, "indices");
        long bd = node.attributes().getInt("batch_dims", 0);
        if (ctx.opset() < 12 && bd != 0) throw error(node, "attribute batch_dims is not valid before opset 12");
        if (data.length == 0 || ishape.length == 0) throw error(node, "data and indices must have rank >= 1");
        if (bd < 0 || bd >= Math.min(data.length, ishape.length)) {
            throw error(node, "attribute batch_dims=" + bd + " must be 0.." + (Math.min(data.length, ishape.length) - 1) + " (below the ranks of data and indices)");
        }
        int b = (int) bd;
        for (int d = 0; d < b; d++) {
            if (data[d] != ishape[d]) throw error(node, "batch dimension " + d + " differs: data " + format(data) + ", indices " + format(ishape));
        }
        int k = toInt(ishape[ishape.length - 1], node, "indices' last dimension");
        if (k < 1 || b + k > data.length) throw error(node, "indices' last dimension " + k + " must be 1.." + (data.length - b) + " (data's rank less batch_dims)");
        long[] out = Indexing.concat(Arrays.copyOf(ishape, ishape.length - 1), Arrays.copyOfRange(data, b + k, data.length));
        int n = arraySize(out, node);
        arraySize(data, node);
        int batches = (int) count(Arrays.copyOf(data, b));
        int tuples = (int) count(Arrays.copyOfRange(ishape, b, ishape.length - 1));
        int slice = (int) count(Arrays.copyOfRange(data, b + k, data.length));
        long block = count(Arrays.copyOfRange(data, b, data.length));
        long[] ds = strides(data);
        Function<long[], int[]> map = idx -> {
            int[] src = new int[n];
            int at = 0;
            for (int bi = 0; bi < batches; bi++) {
                for (int t = 0; t < tuples; t++) {
                    long offset = bi * block;
                    int row = (bi * tuples + t) * k;
                    for (int j = 0; j < k; j++) offset += Indexing.resolve(idx[row + j], data[b + j], b + j, node) * ds[b + j];
                    for (int s = 0; s < slice; s++) src[at++] = (int) offset + s;
                }
            }
            return src;
        };
        Function<List<Value>, int[]> sources = Indexing.fromIndices(in, node, map);
        return step(out, in.type(0), v -> Indexing.take(v.get(0), sources.apply(v), out));
    }
}
