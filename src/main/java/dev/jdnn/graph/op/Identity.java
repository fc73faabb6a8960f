package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import java.util.List;

/** Identity, and Dropout at inference (identity; its mask output is refused): any dtype, layout kept when compiled. */
public final class Identity implements Op {
    static void register(Registry.Table t) {
        t.add("Identity", 1, new Identity());
        t.add("Dropout", 1, new Identity());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        if (node.outputs().size() > 1 && !node.outputs().get(1).isEmpty()) {
            throw error(node, "the mask output of Dropout is not supported (inference has no mask)");
        }
        if (node.opType().equals("Dropout") && node.input(2) != null && in.isConstant(2)
                && in.constant(2) instanceof dev.jdnn.graph.Value.Longs l && l.view()[0] != 0) {
            throw error(node, "training_mode=true is not supported (jdnn runs inference)");
        }
        long[] shape = in.require(0, node, "input");
        boolean dropout = node.opType().equals("Dropout");
        return step(List.of(shape), List.of(in.type(0)), inputs -> {
            // training_mode computed at run time (opset 12+): refuse a true one rather than answer wrongly.
            if (dropout && inputs.size() > 2 && inputs.get(2) instanceof dev.jdnn.graph.Value.Longs l && l.view().length > 0 && l.view()[0] != 0) {
                throw error(node, "training_mode=true is not supported (jdnn runs inference)");
            }
            return List.of(copy(inputs.get(0)));
        });
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (lowering.runtimeDescs().size() != 1 || in.isConstant(0) || !in.type(0).isFloat()) return null;
        return Primitives.identity(node, lowering.output(), lowering.desc(0));
    }
}
