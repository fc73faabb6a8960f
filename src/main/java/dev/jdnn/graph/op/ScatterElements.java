package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.List;
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
        Indexing.Reduction reduction = Indexing.scatterInputs(node, in, ctx.opset());
        long[] data = in.shape(0), ishape = in.shape(1), ushape = in.shape(2);
        if (data.length == 0) throw error(node, "data must have rank >= 1");
        if (ishape.length != data.length || !java.util.Arrays.equals(ishape, ushape)) {
            throw error(node, "indices " + format(ishape) + " and updates " + format(ushape) + " must have one shape, of data's rank " + data.length);
        }
        int axis = Indexing.elementsAxis(node, data, ishape);
        arraySize(ishape, node);
        arraySize(data, node);
        Function<List<Value>, int[]> destinations = Indexing.fromIndices(in, node, Indexing.alongAxis(data, ishape, axis, node));
        return step(data, in.type(0), v -> Indexing.scatter(v.get(0), v.get(2), destinations.apply(v), reduction));
    }
}
