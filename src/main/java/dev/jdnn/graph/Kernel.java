package dev.jdnn.graph;

import dev.jdnn.Backend;
import java.util.List;

/**
 * One ONNX operator. {@link #prepare} runs once per plan (input shapes are known then): it validates
 * attributes and shapes, computes output shapes and compiles native primitives; the returned
 * {@link Step} then runs on every inference.
 */
public interface Kernel {
    /**
     * @param shapes    the shape of every input (null for an omitted optional input)
     * @param constants the value of every input that is known at prepare time (initializers, constants,
     *                  int64 shape arithmetic), else null
     */
    Step prepare(Node node, List<long[]> shapes, List<Value> constants, Context context);

    /** What a kernel may know about the plan it is prepared for. */
    record Context(Backend backend, int opset) {}

    /** A prepared node. */
    interface Step extends AutoCloseable {
        /** Output shapes, one per node output. */
        List<long[]> outputShapes();

        /** Computes the outputs (new values, owned by the caller) from the inputs (null for omitted ones). */
        List<Value> run(List<Value> inputs);

        @Override
        default void close() {}
    }
}
