package dev.jdnn.graph.ops;

import dev.jdnn.Tensor;
import dev.jdnn.graph.Kernel;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/** The operator registry and small helpers shared by the op families. */
public final class Ops {
    private Ops() {}

    private static final Map<String, Kernel> KERNELS = new TreeMap<>();

    static {
        ElementwiseOps.register(KERNELS);
        ConvOps.register(KERNELS);
        PoolOps.register(KERNELS);
        LinearOps.register(KERNELS);
        ShapeOps.register(KERNELS);
    }

    /** The kernel for an op type, or null if jdnn does not support it. */
    public static Kernel kernel(String opType) {
        return KERNELS.get(opType);
    }

    /** Every supported op type, sorted. */
    public static List<String> supported() {
        return List.copyOf(KERNELS.keySet());
    }

    /** A step with fixed output shapes and a run function. */
    static Kernel.Step step(List<long[]> outputShapes, Function<List<Value>, List<Value>> run) {
        return new Kernel.Step() {
            @Override public List<long[]> outputShapes() { return outputShapes; }
            @Override public List<Value> run(List<Value> inputs) { return run.apply(inputs); }
        };
    }

    static Kernel.Step step(long[] outputShape, Function<List<Value>, Value> run) {
        return step(List.of(outputShape), in -> List.of(run.apply(in)));
    }

    /** The float tensor of input i. */
    static Tensor floats(List<Value> inputs, int i, Node node) {
        Value v = inputs.get(i);
        if (v instanceof Value.Floats f) return f.tensor();
        throw new IllegalArgumentException(node.opType() + " node " + node.label() + ": input " + i + " must be float32");
    }

    /** The constant int64 data of input i (must be known at prepare time). */
    static long[] constantLongs(List<Value> constants, int i, Node node, String what) {
        Value v = i < constants.size() ? constants.get(i) : null;
        if (v instanceof Value.Longs l) return l.data();
        if (v == null) {
            throw new IllegalArgumentException(node.opType() + " node " + node.label() + ": " + what
                    + " must be a constant (an initializer or computable from shapes); jdnn does not support data-dependent " + what);
        }
        throw new IllegalArgumentException(node.opType() + " node " + node.label() + ": " + what + " must be int64");
    }

    /** A constant float scalar (or 1-element tensor) input, or the fallback if the input is absent. */
    static float constantScalar(List<Value> constants, List<long[]> shapes, int i, Node node, String what, float fallback) {
        if (i >= shapes.size() || shapes.get(i) == null) return fallback;
        Value v = constants.get(i);
        if (v instanceof Value.Floats f && f.tensor().elementCount() == 1) return f.tensor().getFlat(0);
        throw new IllegalArgumentException(node.opType() + " node " + node.label() + ": " + what + " must be a constant float scalar");
    }

    static Value.Floats result(float[] data, long[] shape) {
        return new Value.Floats(Tensor.of(data, shape));
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Normalises a possibly negative axis against a rank, or throws naming the node. */
    public static int axis(long axis, int rank, Node node) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(node.opType() + " node " + node.label() + ": axis " + axis + " is out of range for rank " + rank);
        }
        return (int) a;
    }

    static IllegalArgumentException error(Node node, String message) {
        return new IllegalArgumentException(node.opType() + " node " + node.label() + ": " + message);
    }

    static String format(long[] shape) {
        return Arrays.toString(shape);
    }
}
