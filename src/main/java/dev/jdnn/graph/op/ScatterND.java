package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * ScatterND (opset 11+): data r-D, indices q-D with last dimension k (1..r) holding index tuples into
 * data's first k axes, updates shaped {@code indices.shape[:-1] + data.shape[k:]} → output shaped like
 * data: a copy of data with each addressed slice replaced by (or, from opset 16, reduced with: add, mul;
 * from 18 also max, min) its update slice, in order. Indices int32/int64, possibly computed at run time.
 */
public final class ScatterND implements Op {
    static void register(Registry.Table t) {
        t.add("ScatterND", 11, new ScatterND());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        Indexing.Reduction reduction = Indexing.scatterInputs(node, in, ctx.opset());
        long[] data = in.shape(0), ishape = in.shape(1), ushape = in.shape(2);
        if (data.length == 0 || ishape.length == 0) throw error(node, "data and indices must have rank >= 1");
        int k = toInt(ishape[ishape.length - 1], node, "indices' last dimension");
        if (k < 1 || k > data.length) throw error(node, "indices' last dimension " + k + " must be 1.." + data.length + " (data's rank)");
        long[] expected = Indexing.concat(Arrays.copyOf(ishape, ishape.length - 1), Arrays.copyOfRange(data, k, data.length));
        if (!Arrays.equals(expected, ushape)) {
            throw error(node, "updates " + format(ushape) + " must have shape " + format(expected) + " (indices " + format(ishape) + ", data " + format(data) + ")");
        }
        arraySize(data, node);
        int tuples = arraySize(Arrays.copyOf(ishape, ishape.length - 1), node);
        int slice = (int) count(Arrays.copyOfRange(data, k, data.length));
        int n = arraySize(ushape, node);
        long[] ds = strides(data);
        Function<long[], int[]> map = idx -> {
            int[] dst = new int[n];
            for (int t = 0; t < tuples; t++) {
                long offset = 0;
                for (int j = 0; j < k; j++) offset += Indexing.resolve(idx[t * k + j], data[j], j, node) * ds[j];
                for (int s = 0; s < slice; s++) dst[t * slice + s] = (int) offset + s;
            }
            return dst;
        };
        Function<List<Value>, int[]> destinations = Indexing.fromIndices(in, node, map);
        return step(data, in.type(0), v -> Indexing.scatter(v.get(0), v.get(2), destinations.apply(v), reduction));
    }
}
