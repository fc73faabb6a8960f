package dev.jdnn.graph.op;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;

/** Small helpers the op classes share: steps, value access, errors, axes, broadcasting. */
public final class Ops {
    private Ops() {}

    /** A step with fixed output shapes and types and a run function. */
    public static Op.Step step(List<long[]> outputShapes, List<DataType> outputTypes, Function<List<Value>, List<Value>> run) {
        List<long[]> shapes = Collections.unmodifiableList(new ArrayList<>(outputShapes));
        List<DataType> types = Collections.unmodifiableList(new ArrayList<>(outputTypes));
        return new Op.Step() {
            @Override public List<long[]> outputShapes() { return shapes; }
            @Override public List<DataType> outputTypes() { return types; }
            @Override public List<Value> run(List<Value> inputs) { return run.apply(inputs); }
        };
    }

    /** A step with one output of the given shape and type. */
    public static Op.Step step(long[] outputShape, DataType type, Function<List<Value>, Value> run) {
        return step(List.of(outputShape), List.of(type), in -> List.of(run.apply(in)));
    }

    /** A step with one float32 output. */
    public static Op.Step step(long[] outputShape, Function<List<Value>, Value> run) {
        return step(outputShape, DataType.FLOAT, run);
    }

    /** The float tensor of input i. */
    public static Tensor floats(List<Value> inputs, int i, Node node) {
        Value v = inputs.get(i);
        if (v instanceof Value.Floats f) return f.tensor();
        throw error(node, "input " + i + " must be float32" + (v == null ? ", it is missing" : ", got " + v.type().onnxName()));
    }

    /** The integer/bool data of input i (not copied: do not modify). */
    public static long[] longs(List<Value> inputs, int i, Node node) {
        Value v = inputs.get(i);
        if (v instanceof Value.Longs l) return l.view();
        throw error(node, "input " + i + " must be an integer or bool tensor" + (v == null ? ", it is missing" : ", got " + v.type().onnxName()));
    }

    public static Value.Floats result(float[] data, long[] shape) {
        return new Value.Floats(Tensor.of(data, shape));
    }

    public static Value.Longs result(DataType type, long[] data, long[] shape) {
        return new Value.Longs(type, shape, data);
    }

    /** Element count of a shape; throws on overflow. */
    public static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d != 0 && Math.abs(n) > Long.MAX_VALUE / Math.abs(d)) throw new IllegalArgumentException("shape " + format(shape) + " has more elements than a long can count");
            n *= d;
        }
        return n;
    }

    /** Element count that a Java array can hold; throws naming the node otherwise. */
    public static int arraySize(long[] shape, Node node) {
        return arraySize(shape, node, Float.BYTES);
    }

    /**
     * As {@link #arraySize(long[], Node)} for a Java array of {@code bytesPerElement}-byte elements (double
     * intermediates: 8), also refusing one that would take more than half of the JVM's maximum heap: an
     * exception naming the node instead of an OutOfMemoryError in the middle of a kernel.
     */
    public static int arraySize(long[] shape, Node node, int bytesPerElement) {
        long n = count(shape);
        if (n > Integer.MAX_VALUE - 8) throw error(node, "tensor " + format(shape) + " has " + n + " elements, more than jdnn's Java kernels hold");
        long limit = dev.jdnn.Limits.current().maxTensorBytes();
        if (n > limit / 4) throw error(node, "tensor " + format(shape) + " has " + n + " elements (" + 4 * n + " bytes as float32), more than the session's limit maxTensorBytes=" + limit);
        long heap = Runtime.getRuntime().maxMemory();
        if (n * bytesPerElement > heap / 2) {
            throw error(node, "tensor " + format(shape) + " needs " + n * bytesPerElement + " bytes of Java heap in jdnn's Java kernel, more than half of the JVM's maximum heap ("
                    + heap + " bytes, -Xmx)");
        }
        return (int) n;
    }

    /** Normalises a possibly negative axis against a rank, or throws naming the node. */
    public static int axis(long axis, int rank, Node node) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw error(node, "axis " + axis + " is out of range for rank " + rank);
        }
        return (int) a;
    }

    public static IllegalArgumentException error(Node node, String message) {
        return new IllegalArgumentException(node.opType() + " node " + node.label() + ": " + message);
    }

    public static String format(long[] shape) {
        return Arrays.toString(shape);
    }

    /** A fresh copy, so no two names ever share storage. */
    public static Value copy(Value v) {
        if (v instanceof Value.Floats f) return new Value.Floats(Tensor.copyOf(f.tensor()));
        return v; // immutable
    }

    /** {@code f} applied to every element (computed in double, rounded once to float). */
    public static Value map(Tensor x, DoubleUnaryOperator f) {
        float[] a = x.toArray();
        for (int i = 0; i < a.length; i++) a[i] = (float) f.applyAsDouble(a[i]);
        return result(a, x.shape());
    }

    /** Numpy-style multidirectional broadcasting of two shapes. */
    public static long[] broadcast(long[] a, long[] b, Node node) {
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
    public static int[] broadcastIndex(long[] in, long[] out) {
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

    /** Row-major strides (in elements) of a shape. */
    public static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** An ints attribute of exactly {@code n} values, or {@code n} copies of {@code fallback} when absent. */
    public static long[] ints(Node node, String name, int n, long fallback) {
        long[] v = node.attributes().getInts(name, null);
        if (v == null) {
            v = new long[n];
            Arrays.fill(v, fallback);
        }
        if (v.length != n) throw error(node, name + " has " + v.length + " values, expected " + n);
        return v;
    }

    /** A long attribute or value that must fit an int (for loop bounds and oneDNN dims); throws naming it otherwise. */
    public static int toInt(long v, Node node, String what) {
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw error(node, what + " " + v + " is out of range");
        return (int) v;
    }

    /**
     * A step whose one output takes element i from {@code source[index[i]]} of input 0 ({@code index[i] < 0}:
     * the fill value): the shared kernel of the data-movement ops (Transpose, Pad, Gather, ...), for any dtype.
     */
    public static Op.Step indexStep(Node node, long[] out, DataType type, int[] index, double fill) {
        return indexStep(node, out, type, () -> index, fill);
    }

    /**
     * As above, with the index map made by {@code index} on the first run (once, whichever thread runs first):
     * shape inference and compiled plans prepare every node's step, and most never run it (DenseNet's zero Pads
     * run as identities, a Transpose between native ops as a reorder), so an int per output element computed
     * up front cost a cold DenseNet-121 about 0.1 s of its preparation for nothing.
     */
    public static Op.Step lazyIndexStep(Node node, long[] out, DataType type, java.util.function.Supplier<int[]> index, double fill) {
        return indexStep(node, out, type, once(index), fill);
    }

    /** {@code make}'s result, made on the first call and kept (thread-safe). */
    static java.util.function.Supplier<int[]> once(java.util.function.Supplier<int[]> make) {
        return new java.util.function.Supplier<>() {
            private volatile int[] made;

            @Override public int[] get() {
                int[] m = made;
                if (m == null) {
                    synchronized (this) {
                        if (made == null) made = make.get();
                        m = made;
                    }
                }
                return m;
            }
        };
    }

    static Op.Step indexStep(Node node, long[] out, DataType type, java.util.function.Supplier<int[]> indexMap, double fill) {
        return step(out, type, in -> {
            int[] index = indexMap.get();
            Value v = in.get(0);
            if (v instanceof Value.Longs l) {
                long[] src = l.view(), dst = new long[index.length];
                for (int i = 0; i < index.length; i++) dst[i] = index[i] < 0 ? (long) fill : src[index[i]];
                return new Value.Longs(l.type(), out, dst);
            }
            float[] src = floats(in, 0, node).toArray(), dst = new float[index.length];
            for (int i = 0; i < index.length; i++) dst[i] = index[i] < 0 ? (float) fill : src[index[i]];
            return result(dst, out);
        });
    }
}
