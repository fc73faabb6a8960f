package dev.jdnn.graph.op;

/**
 * An op needs, at prepare time, the value of an input that is only known at run time (a Reshape's shape,
 * a Slice's starts, Unsqueeze's axes fed by a graph input). A session answers it by preparing a plan for
 * the concrete values of the model's small integer inputs (one plan per distinct value, like one per
 * input shape); anywhere else it is an ordinary error naming the node.
 */
public final class DataDependentException extends IllegalArgumentException {
    public DataDependentException(String message) {
        super(message);
    }

    /** {@code node}'s output shape depends on the values of its input {@code input} (NonZero's X, OneHot's depth, ...). */
    static DataDependentException outputShapeDependsOn(dev.jdnn.graph.Node node, String input) {
        return new DataDependentException(node.opType() + " node " + node.label() + ": its output shape depends on the values of " + input
                + ", which must be known when the plan is prepared (an initializer, computable from shapes, or a small graph input)");
    }
}
