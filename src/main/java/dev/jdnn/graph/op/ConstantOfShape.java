package dev.jdnn.graph.op;

import dev.jdnn.Tensor;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.Arrays;

/**
 * ConstantOfShape (9+): a tensor of shape {@code input} (1-D int64, known at prepare time) filled with the
 * one element of the {@code value} tensor attribute, whose type the output takes (default float32 0).
 * An empty shape gives a scalar; a 0 in it an empty tensor.
 */
public final class ConstantOfShape implements Op {
    static void register(Registry.Table t) {
        t.add("ConstantOfShape", 9, new ConstantOfShape());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.require(0, node, "input");
        if (in.shape(0).length != 1) throw Ops.error(node, "input must be a 1-D shape tensor, got shape " + Ops.format(in.shape(0)));
        long[] shape = in.constantLongs(0, node, "input (the output shape)");
        for (long d : shape) if (d < 0) throw Ops.error(node, "shape " + Ops.format(shape) + " has a negative dimension");
        Value value = node.attributes().getTensor("value");
        if (value == null) value = Ops.result(new float[] {0f}, new long[] {1});
        if (Ops.count(value.shape()) != 1) {
            throw Ops.error(node, "value must hold exactly one element, got shape " + Ops.format(value.shape()));
        }
        Value v = value;
        int n = Ops.arraySize(shape, node);
        return Ops.step(shape, v.type(), inputs -> {
            if (v instanceof Value.Longs l) {
                long[] data = new long[n];
                Arrays.fill(data, l.view()[0]);
                return Ops.result(l.type(), data, shape);
            }
            Tensor t = ((Value.Floats) v).tensor();
            float[] data = new float[n];
            Arrays.fill(data, t.getFlat(0));
            return Ops.result(data, shape);
        });
    }
}
