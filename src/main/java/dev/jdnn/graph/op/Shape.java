package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.Arrays;

/**
 * Shape (with start/end from opset 15): the input's dimensions as int64. It reads only the shape, which
 * is known when a plan is prepared, so it is always folded to a constant there.
 */
public final class Shape implements Op {
    static void register(Registry.Table t) {
        t.add("Shape", 1, new Shape());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "data");
        int start = (int) clampAxis(node.attributes().getInt("start", 0), x.length);
        int end = (int) clampAxis(node.attributes().getInt("end", x.length), x.length);
        long[] dims = Arrays.copyOfRange(x, start, Math.max(start, end));
        return step(new long[] {dims.length}, DataType.INT64, inputs -> Value.Longs.vector(dims));
    }

    static long clampAxis(long a, int rank) {
        if (a < 0) a += rank;
        return Math.max(0, Math.min(rank, a));
    }
}
