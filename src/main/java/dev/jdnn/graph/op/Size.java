package dev.jdnn.graph.op;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/** Size (1+): the input's element count as an int64 scalar, any element type ({@code d0×…×dr−1 → []}). */
public final class Size implements Op {
    static void register(Registry.Table t) {
        t.add("Size", 1, new Size());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long n = Ops.count(in.require(0, node, "data"));
        return Ops.step(new long[0], DataType.INT64, v -> Value.Longs.scalar(n));
    }
}
