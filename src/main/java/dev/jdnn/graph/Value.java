package dev.jdnn.graph;

import dev.jdnn.Tensor;

/**
 * A value flowing through a graph: float32 data in an off-heap {@link Tensor}, or int64 data (shapes,
 * indices, axes) as a small Java array. int64 values are always known when a plan is prepared
 * (initializers, constants, shapes), so they never touch native code.
 */
public sealed interface Value permits Value.Floats, Value.Longs {
    long[] shape();

    /** float32 data. */
    record Floats(Tensor tensor) implements Value {
        @Override public long[] shape() { return tensor.shape(); }
    }

    /** int64 data, row-major. */
    record Longs(long[] shape, long[] data) implements Value {
        public Longs {
            shape = shape.clone();
            data = data.clone();
            long count = 1;
            for (long d : shape) count *= d;
            if (count != data.length) throw new IllegalArgumentException("int64 value of shape " + Tensor.format(shape) + " needs " + count + " elements, got " + data.length);
        }

        public static Longs vector(long... values) {
            return new Longs(new long[] {values.length}, values);
        }

        @Override public long[] shape() { return shape.clone(); }
        @Override public long[] data() { return data.clone(); }
    }
}
