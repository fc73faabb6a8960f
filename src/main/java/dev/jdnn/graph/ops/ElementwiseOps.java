package dev.jdnn.graph.ops;

import static dev.jdnn.graph.ops.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Kernel;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.ops.eltwise.NativeEltwise;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleBinaryOperator;
import java.util.function.LongBinaryOperator;

/** Relu, LeakyRelu, Clip, Sigmoid, Identity, Dropout (inference: identity) and broadcasting Add/Sub/Mul/Div. */
final class ElementwiseOps {
    private ElementwiseOps() {}

    static void register(Map<String, Kernel> k) {
        k.put("Relu", (node, shapes, constants, ctx) -> eltwise(node, shapes.get(0), EltwiseAlgorithm.RELU, 0f, Float.MAX_VALUE, ctx));
        k.put("LeakyRelu", (node, shapes, constants, ctx) ->
                eltwise(node, shapes.get(0), EltwiseAlgorithm.RELU, node.attributes().getFloat("alpha", 0.01f), 0f, ctx));
        k.put("Clip", (node, shapes, constants, ctx) -> {
            if (ctx.opset() < 11) {
                return eltwise(node, shapes.get(0), EltwiseAlgorithm.CLIP, node.attributes().getFloat("min", -Float.MAX_VALUE),
                        node.attributes().getFloat("max", Float.MAX_VALUE), ctx);
            }
            boolean boundsKnown = (node.input(1) == null || constants.get(1) != null) && (node.input(2) == null || constants.get(2) != null);
            if (boundsKnown) {
                return eltwise(node, shapes.get(0), EltwiseAlgorithm.CLIP, constantScalar(constants, shapes, 1, node, "min", -Float.MAX_VALUE),
                        constantScalar(constants, shapes, 2, node, "max", Float.MAX_VALUE), ctx);
            }
            // Bounds computed at run time: read them per run (Java; the bounds are scalars).
            return step(shapes.get(0), in -> {
                float lo = in.size() > 1 && in.get(1) != null ? floats(in, 1, node).getFlat(0) : -Float.MAX_VALUE;
                float hi = in.size() > 2 && in.get(2) != null ? floats(in, 2, node).getFlat(0) : Float.MAX_VALUE;
                return map(floats(in, 0, node), x -> EltwiseAlgorithm.CLIP.apply((float) x, lo, hi));
            });
        });
        k.put("Sigmoid", (node, shapes, constants, ctx) -> step(shapes.get(0), in -> map(floats(in, 0, node), x -> 1.0 / (1.0 + Math.exp(-x)))));
        Kernel identity = (node, shapes, constants, ctx) -> {
            if (node.outputs().size() > 1 && !node.outputs().get(1).isEmpty()) {
                throw error(node, "the mask output of Dropout is not supported (inference has no mask)");
            }
            return step(shapes.get(0), in -> copy(in.get(0)));
        };
        k.put("Identity", identity);
        k.put("Dropout", identity);
        k.put("Add", binary(Double::sum, Long::sum));
        k.put("Sub", binary((a, b) -> a - b, (a, b) -> a - b));
        k.put("Mul", binary((a, b) -> a * b, (a, b) -> a * b));
        k.put("Div", binary((a, b) -> a / b, (a, b) -> {
            if (b == 0) throw new ArithmeticException("int64 division by zero in Div");
            return a / b; // truncates, as ONNX's integer Div
        }));
    }

    /** A fresh copy, so no two names ever share storage. */
    static Value copy(Value v) {
        if (v instanceof Value.Floats f) return new Value.Floats(Tensor.copyOf(f.tensor()));
        return v;
    }

    static Value map(Tensor x, java.util.function.DoubleUnaryOperator f) {
        float[] a = x.toArray();
        for (int i = 0; i < a.length; i++) a[i] = (float) f.applyAsDouble(a[i]);
        return result(a, x.shape());
    }

    /** ReLU-family functions: oneDNN eltwise on the native backend (compiled here), the reference loop on Java. */
    static Kernel.Step eltwise(Node node, long[] shape, EltwiseAlgorithm algorithm, float alpha, float beta, Kernel.Context ctx) {
        boolean nativeOk = ctx.backend() == Backend.NATIVE && shape.length >= 1 && shape.length <= 6 && count(shape) > 0;
        if (!nativeOk) {
            return step(shape, in -> map(floats(in, 0, node), x -> algorithm.apply((float) x, alpha, beta)));
        }
        NativeEltwise compiled = new NativeEltwise(algorithm, alpha, beta, shape);
        return new Kernel.Step() {
            @Override public List<long[]> outputShapes() { return List.of(shape); }
            @Override public List<Value> run(List<Value> inputs) {
                Tensor y = Tensor.zeros(shape);
                compiled.run(floats(inputs, 0, node), y);
                return List.of(new Value.Floats(y));
            }
            @Override public void close() { compiled.close(); }
        };
    }

    /** Numpy-style multidirectional broadcasting of two shapes. */
    static long[] broadcast(long[] a, long[] b, Node node) {
        int rank = Math.max(a.length, b.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            long db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw error(node, "shapes " + format(a) + " and " + format(b) + " cannot be broadcast together");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** For each output position, the flat index into an input of shape {@code in} broadcast to {@code out}. */
    static int[] broadcastIndex(long[] in, long[] out) {
        int n = (int) count(out);
        int rank = out.length;
        long[] strides = new long[rank];
        long s = 1;
        for (int i = in.length - 1; i >= 0; i--) {
            int o = i + rank - in.length;
            strides[o] = in[i] == 1 ? 0 : s;
            s *= in[i];
        }
        int[] index = new int[n];
        long[] coord = new long[rank];
        long offset = 0;
        for (int i = 0; i < n; i++) {
            index[i] = (int) offset;
            for (int d = rank - 1; d >= 0; d--) {
                coord[d]++;
                offset += strides[d];
                if (coord[d] < out[d]) break;
                offset -= strides[d] * coord[d];
                coord[d] = 0;
            }
        }
        return index;
    }

    static Kernel binary(DoubleBinaryOperator f, LongBinaryOperator g) {
        return (node, shapes, constants, ctx) -> {
            long[] out = broadcast(shapes.get(0), shapes.get(1), node);
            int[] ia = broadcastIndex(shapes.get(0), out);
            int[] ib = broadcastIndex(shapes.get(1), out);
            return step(out, in -> {
                if (in.get(0) instanceof Value.Longs a && in.get(1) instanceof Value.Longs b) {
                    long[] x = a.data(), y = b.data(), r = new long[ia.length];
                    for (int i = 0; i < r.length; i++) r[i] = g.applyAsLong(x[ia[i]], y[ib[i]]);
                    return new Value.Longs(out, r);
                }
                float[] x = floats(in, 0, node).toArray(), y = floats(in, 1, node).toArray();
                float[] r = new float[ia.length];
                for (int i = 0; i < r.length; i++) r[i] = (float) f.applyAsDouble(x[ia[i]], y[ib[i]]);
                return result(r, out);
            });
        };
    }
}
