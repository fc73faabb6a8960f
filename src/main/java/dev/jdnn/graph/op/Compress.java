package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * Compress (9+), numpy's {@code compress}: the slices of input (any type) along {@code axis} (negative counts
 * from the back, accepted at every opset) whose entry in the 1-D bool {@code condition} is true, in order; without
 * axis, the elements of the flattened input → 1-D. A condition shorter than the axis selects nothing
 * past its end; entries past the axis's end are ignored (as ONNX Runtime does). The output's shape
 * depends on the condition's values, so the condition must be known when the plan is prepared (an
 * initializer, computed from shapes, or a small graph input the session specialises on:
 * {@link DataDependentException}); the input may be computed at run time.
 */
public final class Compress implements Op {
    static void register(Registry.Table t) {
        t.add("Compress", 9, new Compress());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] shape = in.require(0, node, "input");
        long[] condShape = in.require(1, node, "condition");
        if (in.type(1) != DataType.BOOL) throw error(node, "condition must be bool, got " + in.type(1).onnxName());
        if (condShape.length != 1) throw error(node, "condition must be 1-D, got shape " + format(condShape));
        boolean hasAxis = node.attributes().has("axis");
        if (hasAxis && shape.length == 0) throw error(node, "axis is given but the input is a scalar");
        int axis = hasAxis ? axis(node.attributes().getInt("axis", 0), shape.length, node) : 0;
        // [outer, length, inner] with length the axis's size (or everything, flattened).
        long outer = 1, length = hasAxis ? shape[axis] : count(shape), inner = 1;
        if (hasAxis) {
            for (int d = 0; d < axis; d++) outer *= shape[d];
            for (int d = axis + 1; d < shape.length; d++) inner *= shape[d];
        }
        Value condition = in.constant(1);
        if (condition == null) {
            throw new DataDependentException(node.opType() + " node " + node.label()
                    + ": its output shape depends on the values of condition, which must be known when the plan is prepared (an initializer, computable from shapes, or a small graph input)");
        }
        long[] cond = ((Value.Longs) condition).view();
        int kept = 0;
        for (int j = 0; j < Math.min(cond.length, length); j++) if (cond[j] != 0) kept++;
        long[] out = hasAxis ? shape.clone() : new long[] {kept};
        if (hasAxis) out[axis] = kept;
        int size = arraySize(out, node);
        arraySize(shape, node);
        int[] source = new int[size];
        int at = 0;
        for (long a = 0; a < outer; a++) {
            for (int j = 0; j < Math.min(cond.length, length); j++) {
                if (cond[j] == 0) continue;
                for (long e = 0; e < inner; e++) source[at++] = (int) ((a * length + j) * inner + e);
            }
        }
        return step(out, in.type(0), v -> {
            // A plan is prepared per condition value; a different one here would need another output shape.
            if (!java.util.Arrays.equals(longs(v, 1, node), cond)) throw error(node, "condition differs from the one the plan was prepared for");
            return Indexing.take(v.get(0), source, out);
        });
    }
}
