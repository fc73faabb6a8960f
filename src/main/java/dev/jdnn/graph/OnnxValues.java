package dev.jdnn.graph;

import dev.jdnn.Tensor;

/** Ownership helpers for {@link Value}s: copying and releasing native memory. */
final class OnnxValues {
    private OnnxValues() {}

    static void release(Value v) {
        if (v instanceof Value.Floats f) f.tensor().close();
    }

    static Value copy(Value v) {
        return v instanceof Value.Floats f ? new Value.Floats(Tensor.copyOf(f.tensor())) : v;
    }
}
