package dev.jdnn.graph;

import java.util.List;

/**
 * One operator application: {@code outputs = opType(inputs; attributes)}. An empty input name is an
 * omitted optional input, as in ONNX.
 */
public record Node(String name, String opType, List<String> inputs, List<String> outputs, Attributes attributes) {
    public Node {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** Input i, or null if absent or omitted. */
    public String input(int i) {
        return i < inputs.size() && !inputs.get(i).isEmpty() ? inputs.get(i) : null;
    }

    /** How the node is named in messages: its name if it has one, else its op and first output. */
    public String label() {
        return (name == null || name.isEmpty() ? opType + "->" + (outputs.isEmpty() ? "?" : outputs.get(0)) : name);
    }
}
