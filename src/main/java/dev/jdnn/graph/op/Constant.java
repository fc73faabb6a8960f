package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.List;

/** Constant: a tensor attribute ({@code value}) or a scalar/list one ({@code value_float(s)}, {@code value_int(s)}); folded at prepare. */
public final class Constant implements Op {
    static void register(Registry.Table t) {
        t.add("Constant", 1, new Constant());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        var at = node.attributes();
        Value value = at.getTensor("value");
        if (value == null && at.has("value_float")) value = result(new float[] {at.getFloat("value_float", 0)}, new long[0]);
        if (value == null && at.has("value_floats")) {
            float[] f = at.getFloats("value_floats", null);
            value = result(f, new long[] {f.length});
        }
        if (value == null && at.has("value_int")) value = Value.Longs.scalar(at.getInt("value_int", 0));
        if (value == null && at.has("value_ints")) value = Value.Longs.vector(at.getInts("value_ints", null));
        if (value == null) throw error(node, "only value, value_float(s) and value_int(s) constants are supported (attributes: " + at.names() + ")");
        Value v = value;
        return step(List.of(v.shape()), List.of(v.type()), inputs -> List.of(copy(v)));
    }
}
