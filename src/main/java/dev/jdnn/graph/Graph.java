package dev.jdnn.graph;

import java.util.List;
import java.util.Map;

/**
 * A computation graph as loaded from a model: named inputs with their declared shapes (-1 for a
 * symbolic dimension such as the batch size), nodes in topological order, constant values
 * (initializers) and the declared outputs.
 *
 * @param inputs   graph inputs that are not initializers, in declaration order, with declared shapes
 * @param outputs  declared output names
 * @param nodes    topologically sorted
 * @param constants initializers by name (owned by the model that loaded them)
 */
public record Graph(Map<String, long[]> inputs, List<String> outputs, List<Node> nodes, Map<String, Value> constants) {
}
