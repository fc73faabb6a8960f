package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Value;
import dev.jdnn.graph.Node;
import java.util.List;

/** Identity, and Dropout at inference (identity, and an all-true mask when asked for): any dtype, layout kept when compiled. */
public final class Identity implements Op {
    static void register(Registry.Table t) {
        t.add("Identity", 1, new Identity());
        t.add("Dropout", 1, new Identity());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        // Training mode drops elements at random, except with ratio 0 (torchvision's F.dropout(x, p=0.0) exports
        // training_mode=true): then it is the identity, mask all true, and that is exact.
        boolean zeroRatio = node.opType().equals("Dropout") && (ctx.opset() >= 12
                ? in.has(1) && in.isConstant(1) && in.constantScalar(1, node, "ratio", 0.5f) == 0f
                : node.attributes().getFloat("ratio", 0.5f) == 0f);
        if (node.opType().equals("Dropout") && !zeroRatio && node.input(2) != null && in.isConstant(2)
                && in.constant(2) instanceof Value.Longs l && l.view().length > 0 && l.view()[0] != 0) {
            throw error(node, "training_mode=true with a nonzero ratio is not supported (jdnn runs inference)");
        }
        long[] shape = in.require(0, node, "input");
        boolean dropout = node.opType().equals("Dropout");
        // Inference keeps every element: Dropout's optional mask is all true (bool from opset 10; before, of the input's type).
        boolean mask = dropout && node.outputs().size() > 1 && !node.outputs().get(1).isEmpty();
        DataType maskType = ctx.opset() >= 10 ? DataType.BOOL : in.type(0);
        List<long[]> shapes = mask ? List.of(shape, shape) : List.of(shape);
        List<DataType> types = mask ? List.of(in.type(0), maskType) : List.of(in.type(0));
        return step(shapes, types, inputs -> {
            // training_mode computed at run time (opset 12+): refuse a true one rather than answer wrongly.
            if (dropout && !zeroRatio && inputs.size() > 2 && inputs.get(2) instanceof Value.Longs l && l.view().length > 0 && l.view()[0] != 0) {
                throw error(node, "training_mode=true with a nonzero ratio is not supported (jdnn runs inference)");
            }
            if (!mask) return List.of(copy(inputs.get(0)));
            int n = arraySize(shape, node);
            Value ones;
            if (maskType == DataType.FLOAT) {
                float[] f = new float[n];
                java.util.Arrays.fill(f, 1f);
                ones = result(f, shape);
            } else {
                long[] l = new long[n];
                java.util.Arrays.fill(l, 1);
                ones = new Value.Longs(maskType, shape, l);
            }
            return List.of(copy(inputs.get(0)), ones);
        });
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (lowering.runtimeDescs().size() != 1 || in.isConstant(0) || !in.type(0).isFloat()) return null;
        return Primitives.identity(node, lowering.output(), lowering.desc(0));
    }
}
