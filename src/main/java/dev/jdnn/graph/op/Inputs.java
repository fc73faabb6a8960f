package dev.jdnn.graph.op;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What is known about a node's inputs when it is prepared: every input's shape and element type, and
 * its value when it is known then (initializers, constants, folded shape arithmetic). An omitted
 * optional input (empty name, or past the end) has a null shape, type and value.
 */
public record Inputs(List<long[]> shapes, List<DataType> types, List<Value> constants) {
    public Inputs {
        if (shapes.size() != types.size() || shapes.size() != constants.size()) {
            throw new IllegalArgumentException("inputs: " + shapes.size() + " shapes, " + types.size() + " types, " + constants.size() + " constants");
        }
        shapes = Collections.unmodifiableList(new ArrayList<>(shapes));
        types = Collections.unmodifiableList(new ArrayList<>(types));
        constants = Collections.unmodifiableList(new ArrayList<>(constants));
    }

    /** Inputs whose values are all known (for folding and for tests): shapes and types taken from the values. */
    public static Inputs ofValues(List<Value> values) {
        List<long[]> s = new ArrayList<>();
        List<DataType> t = new ArrayList<>();
        for (Value v : values) {
            s.add(v == null ? null : v.shape());
            t.add(v == null ? null : v.type());
        }
        return new Inputs(s, t, values);
    }

    public int count() {
        return shapes.size();
    }

    /** Whether input i is given (not omitted). */
    public boolean has(int i) {
        return i < shapes.size() && shapes.get(i) != null;
    }

    /** The shape of input i (null if omitted). */
    public long[] shape(int i) {
        return i < shapes.size() ? shapes.get(i) : null;
    }

    public DataType type(int i) {
        return i < types.size() ? types.get(i) : null;
    }

    /** The value of input i if known at prepare time, else null. */
    public Value constant(int i) {
        return i < constants.size() ? constants.get(i) : null;
    }

    public boolean isConstant(int i) {
        return constant(i) != null;
    }

    /** The shape of input i, which must be given. */
    public long[] require(int i, Node node, String what) {
        if (!has(i)) throw Ops.error(node, what + " (input " + i + ") is required");
        return shape(i);
    }

    /**
     * The integer data of input i, which must be known at prepare time; null when the input is omitted.
     * Used for inputs that were attributes in older opsets (axes, pads, shape, repeats, ...).
     */
    public long[] constantLongs(int i, Node node, String what) {
        if (!has(i)) return null;
        Value v = constant(i);
        if (v instanceof Value.Longs l) return l.data();
        if (v == null) {
            throw new DataDependentException(node.opType() + " node " + node.label() + ": " + what
                    + " must be known when the plan is prepared (an initializer, computable from shapes, or a small integer graph input)");
        }
        throw Ops.error(node, what + " must be an integer tensor, got " + v.type().onnxName());
    }

    /** A constant float scalar (or 1-element tensor) input, or {@code fallback} if the input is absent. */
    public float constantScalar(int i, Node node, String what, float fallback) {
        if (!has(i)) return fallback;
        Value v = constant(i);
        if (v instanceof Value.Floats f && f.tensor().elementCount() == 1) return f.tensor().getFlat(0);
        if (v instanceof Value.Longs l && l.view().length == 1) return l.view()[0];
        if (v == null) {
            throw new DataDependentException(node.opType() + " node " + node.label() + ": " + what
                    + " must be known when the plan is prepared (an initializer, computable from shapes, or a small integer graph input)");
        }
        throw Ops.error(node, what + " must be a scalar");
    }

    /** Input i must be float32 (throws naming the node and the type otherwise). */
    public void requireFloat(int i, Node node, String what) {
        if (has(i) && type(i) != DataType.FLOAT) {
            throw Ops.error(node, what + " of type " + type(i).onnxName() + " is not supported; jdnn runs " + node.opType() + " on float32");
        }
    }
}
