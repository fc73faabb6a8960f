package dev.jdnn.graph.op;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * One ONNX operator (or a family of them), everything about it in one class:
 * <ul>
 *   <li>{@link #prepare}: parses and range-checks the attributes (the exception names the node, the
 *       attribute and the value), infers output shapes and types, and returns the {@link Step} that
 *       computes the op on the Java reference (plain loops anyone can check) or, for node-by-node native
 *       runs, on oneDNN;</li>
 *   <li>{@link #lower}: the oneDNN primitive a compiled plan runs, in whatever layout its producer left
 *       the data in, or null for "Java only" (the plan then runs {@link #prepare}'s step on plain tensors);</li>
 *   <li>{@link #postOp}: the element-wise function this node computes when it can run as a post-op of
 *       the conv/matmul before it, or null.</li>
 * </ul>
 * The opsets an op accepts are stated where it is registered ({@link Registry}).
 */
public interface Op {

    /** Checks the node against its inputs' shapes and types, infers its outputs and prepares it. */
    Step prepare(Node node, Inputs in, Context ctx);

    /**
     * The native form of this node for a compiled plan, or null if it has none for these inputs. Called
     * after {@link #prepare} succeeded on the same inputs, so attributes are already checked.
     */
    default NativeOp lower(Node node, Inputs in, Lowering lowering) {
        return null;
    }

    /** This node as a oneDNN eltwise post-op ({@code alg(x; alpha, beta)}), or null if it is not one. */
    default PostOp postOp(Node node, Inputs in, Context ctx) {
        return null;
    }

    /**
     * Whether {@link #lower} runs {@code activation} inside this node's primitive when given it as
     * {@link Lowering#fused()} (a compiled plan then drops the activation node). Conv chains are fused
     * by the plan itself; this is for the other producers (batch norm + ReLU, Gemm and MatMul + any eltwise).
     */
    default boolean fusesPostOp(Node node, Inputs in, PostOp activation) {
        return false;
    }

    /** What an op may know about the plan it is prepared for. */
    record Context(Backend backend, int opset) {}

    /**
     * What {@link #lower} gets beyond the node's inputs.
     *
     * @param runtimeDescs the current oneDNN layout of each runtime (non-constant) input, in input order
     * @param outputShapes the node's output shapes, as {@link #prepare} inferred them
     * @param fused        an activation to run inside this primitive (only asked of ops that accept it), else null
     */
    record Lowering(List<MemorySegment> runtimeDescs, List<long[]> outputShapes, Context context, PostOp fused) {
        public long[] output() {
            return outputShapes.get(0);
        }

        public MemorySegment desc(int i) {
            return runtimeDescs.get(i);
        }
    }

    /** A prepared node. */
    interface Step extends AutoCloseable {
        /** Output shapes, one per node output. */
        List<long[]> outputShapes();

        /** Output element types, one per node output. */
        List<DataType> outputTypes();

        /** Computes the outputs (new values, owned by the caller) from the inputs (null for omitted ones). */
        List<Value> run(List<Value> inputs);

        /** How this step computes, for {@code explain} (e.g. which kernel, or why the Java reference), or null. */
        default String description() {
            return null;
        }

        @Override
        default void close() {}
    }
}
