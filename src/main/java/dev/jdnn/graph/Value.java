package dev.jdnn.graph;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;

/**
 * A value flowing through a graph: float32 data in an off-heap {@link Tensor}, or integer/bool data
 * (shapes, indices, axes, masks, ArgMax results) as a small Java {@code long[]} tagged with its ONNX
 * element type. Integer values known at prepare time (initializers, shape arithmetic) are folded
 * there; ones computed from runtime data flow through the Java kernels.
 */
public sealed interface Value permits Value.Floats, Value.Longs {
    long[] shape();

    /** The element type. */
    DataType type();

    /** float32 data. */
    record Floats(Tensor tensor) implements Value {
        public Floats {
            if (!tensor.dtype().isFloat()) throw new IllegalArgumentException("Value.Floats holds float32 tensors, got " + tensor);
        }

        @Override public long[] shape() { return tensor.shape(); }
        @Override public DataType type() { return DataType.FLOAT; }
    }

    /**
     * Integer or bool data, row-major, every element already in its type's range (see {@link DataType#wrap}).
     *
     * @param type one of INT64, INT32, INT8, UINT8, BOOL
     */
    record Longs(DataType type, long[] shape, long[] data) implements Value {
        public Longs {
            if (type == null || type.isFloat()) throw new IllegalArgumentException("Value.Longs holds integer or bool data, not " + type);
            shape = shape.clone();
            data = data.clone();
            long count = 1;
            for (long d : shape) count = Math.multiplyExact(count, d);
            if (count != data.length) throw new IllegalArgumentException(type.onnxName() + " value of shape " + Tensor.format(shape) + " needs " + count + " elements, got " + data.length);
            if (type != DataType.INT64) for (int i = 0; i < data.length; i++) data[i] = type.wrap(data[i]);
        }

        /** int64 data. */
        public Longs(long[] shape, long[] data) {
            this(DataType.INT64, shape, data);
        }

        public static Longs vector(long... values) {
            return new Longs(new long[] {values.length}, values);
        }

        public static Longs scalar(long value) {
            return new Longs(new long[0], new long[] {value});
        }

        @Override public long[] shape() { return shape.clone(); }
        @Override public long[] data() { return data.clone(); }

        /** The data without a copy: callers must not modify it. */
        public long[] view() { return data; }
    }

    /** A value viewing a tensor (float32: no copy; other types: the elements read into a long[]). */
    static Value of(Tensor t) {
        return t.dtype().isFloat() ? new Floats(t) : new Longs(t.dtype(), t.shape(), t.toLongArray());
    }

    /** A new tensor owned by the caller holding {@code v}'s elements (float32 values are copied). */
    static Tensor toTensor(Value v) {
        return v instanceof Floats f ? Tensor.copyOf(f.tensor()) : Tensor.ofLongs(((Longs) v).view(), v.type(), v.shape());
    }
}
