package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;

/**
 * The ReLU family: Relu, LeakyRelu (alpha), Clip (min/max as attributes before opset 11, optional inputs
 * from 11) and Sigmoid. Each is one oneDNN eltwise algorithm: a primitive of its own, or a post-op
 * of the conv before it in a compiled plan. Clip with bounds computed at run time stays in Java.
 */
public final class Activation implements Op {
    private final String type;

    private Activation(String type) {
        this.type = type;
    }

    static void register(Registry.Table t) {
        for (String type : new String[] {"Relu", "LeakyRelu", "Clip", "Sigmoid"}) t.add(type, 1, new Activation(type));
    }

    /** The function as oneDNN eltwise, or null when Clip's bounds are not known at prepare time. */
    @Override
    public PostOp postOp(Node node, Inputs in, Context ctx) {
        return switch (type) {
            case "Relu" -> new PostOp(EltwiseAlgorithm.RELU, 0f, 0f);
            case "LeakyRelu" -> new PostOp(EltwiseAlgorithm.RELU, node.attributes().getFloat("alpha", 0.01f), 0f);
            case "Sigmoid" -> new PostOp(EltwiseAlgorithm.LOGISTIC, 0f, 0f);
            case "Clip" -> {
                if (ctx.opset() < 11) {
                    yield new PostOp(EltwiseAlgorithm.CLIP, node.attributes().getFloat("min", -Float.MAX_VALUE),
                            node.attributes().getFloat("max", Float.MAX_VALUE));
                }
                for (int i = 1; i <= 2; i++) if (in.has(i) && !in.isConstant(i)) yield null;
                yield new PostOp(EltwiseAlgorithm.CLIP, in.constantScalar(1, node, "min", -Float.MAX_VALUE),
                        in.constantScalar(2, node, "max", Float.MAX_VALUE));
            }
            default -> throw new IllegalStateException(type);
        };
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] shape = in.require(0, node, "X");
        if (in.type(0) != DataType.FLOAT) {
            if (type.equals("Relu") || type.equals("Clip")) return integer(node, in, shape);
            throw error(node, "input must be float32, got " + in.type(0).onnxName());
        }
        PostOp f = postOp(node, in, ctx);
        if (f == null) {
            // Clip bounds computed at run time: read them per run (Java; the bounds are scalars).
            return step(shape, inputs -> {
                float lo = inputs.size() > 1 && inputs.get(1) != null ? floats(inputs, 1, node).getFlat(0) : -Float.MAX_VALUE;
                float hi = inputs.size() > 2 && inputs.get(2) != null ? floats(inputs, 2, node).getFlat(0) : Float.MAX_VALUE;
                return map(floats(inputs, 0, node), x -> EltwiseAlgorithm.CLIP.apply((float) x, lo, hi));
            });
        }
        boolean nativeOk = ctx.backend() == Backend.NATIVE && Primitives.nativeShape(shape);
        if (!nativeOk) return step(shape, inputs -> map(floats(inputs, 0, node), x -> f.algorithm().apply((float) x, f.alpha(), f.beta())));
        return Primitives.eltwiseStep(node, f, shape);
    }

    /** Relu and Clip on integer tensors (opset 12+ allows them): exact integer max/min. */
    private Step integer(Node node, Inputs in, long[] shape) {
        DataType t = in.type(0);
        return step(shape, t, inputs -> {
            long[] x = longs(inputs, 0, node);
            long lo = type.equals("Relu") ? 0 : inputs.size() > 1 && inputs.get(1) != null ? longs(inputs, 1, node)[0] : Long.MIN_VALUE;
            long hi = type.equals("Relu") || inputs.size() <= 2 || inputs.get(2) == null ? Long.MAX_VALUE : longs(inputs, 2, node)[0];
            long[] y = new long[x.length];
            for (int i = 0; i < x.length; i++) y[i] = Math.min(Math.max(x[i], lo), hi);
            return new Value.Longs(t, shape, y);
        });
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.type(0) != DataType.FLOAT || in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        PostOp f = postOp(node, in, lowering.context());
        return f == null ? null : Primitives.eltwise(node, f, lowering.output(), lowering.desc(0));
    }
}
