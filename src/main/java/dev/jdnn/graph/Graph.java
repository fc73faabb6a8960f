package dev.jdnn.graph;

import dev.jdnn.DataType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A computation graph as loaded from a model: named inputs with their declared shapes (-1 for a
 * symbolic dimension such as the batch size) and element types, nodes in topological order, constant
 * values (initializers) and the declared outputs.
 *
 * @param inputs     graph inputs that are not initializers, in declaration order, with declared shapes
 * @param outputs    declared output names
 * @param nodes      topologically sorted
 * @param constants  initializers by name (owned by the model that loaded them)
 * @param inputTypes element type of each input (float32 when absent)
 */
public record Graph(Map<String, long[]> inputs, List<String> outputs, List<Node> nodes, Map<String, Value> constants,
                    Map<String, DataType> inputTypes) {
    /** A graph whose inputs are all float32. */
    public Graph(Map<String, long[]> inputs, List<String> outputs, List<Node> nodes, Map<String, Value> constants) {
        this(inputs, outputs, nodes, constants, new LinkedHashMap<>());
    }

    /** The declared element type of input {@code name}. */
    public DataType inputType(String name) {
        return inputTypes.getOrDefault(name, DataType.FLOAT);
    }

    /** The same graph with other nodes (rewrites). */
    public Graph withNodes(List<Node> newNodes) {
        return new Graph(inputs, outputs, newNodes, constants, inputTypes);
    }
}
