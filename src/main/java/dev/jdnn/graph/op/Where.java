package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * Where (opset 9+): {@code condition ? X : Y} element-wise, the three inputs broadcast together
 * ({@code [N,1,S,S] bool, [] float, [N,H,S,S] float → [N,H,S,S]}, the attention-mask pattern). The
 * condition is bool; X and Y share any element type, which the output takes. Java only.
 */
public final class Where implements Op {
    static void register(Registry.Table t) {
        t.add("Where", 9, new Where());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.require(0, node, "condition");
        in.require(1, node, "X");
        in.require(2, node, "Y");
        if (in.type(0) != DataType.BOOL) throw error(node, "condition must be bool, got " + in.type(0).onnxName());
        DataType t = Broadcast.sameType(node, in, 1, 3);
        Broadcast.Plan p = Broadcast.plan(node, Broadcast.shapes(in, 0, 3), false);
        return step(p.out(), t, inputs -> {
            long[] c = Broadcast.longs(inputs.get(0), node);
            if (t == DataType.FLOAT) {
                float[] x = Broadcast.floats(inputs.get(1), node), y = Broadcast.floats(inputs.get(2), node), r = new float[p.count()];
                for (int i = 0; i < r.length; i++) r[i] = c[p.at(0, i)] != 0 ? x[p.at(1, i)] : y[p.at(2, i)];
                return result(r, p.out());
            }
            long[] x = Broadcast.longs(inputs.get(1), node), y = Broadcast.longs(inputs.get(2), node), r = new long[p.count()];
            for (int i = 0; i < r.length; i++) r[i] = c[p.at(0, i)] != 0 ? x[p.at(1, i)] : y[p.at(2, i)];
            return new Value.Longs(t, p.out(), r);
        });
    }
}
