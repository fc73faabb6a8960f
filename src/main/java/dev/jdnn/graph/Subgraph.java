package dev.jdnn.graph;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A graph attribute of a control-flow node (If's {@code then_branch} / {@code else_branch}): its nodes in
 * topological order (its initializers already turned into Constant nodes), its formal inputs (none for If)
 * and declared outputs, and the names it reads from the enclosing scopes ({@code outerReferences}, in
 * first-use order, nested subgraphs' included). The importer appends the union of a node's subgraphs'
 * outer references to the node's inputs after its own (ONNX Runtime's "implicit inputs"), so that ordering,
 * liveness and constant folding see what a branch reads; the op maps them back by position
 * ({@link #implicitInputs}), which stays right when a plan renames tensors around the node.
 */
public record Subgraph(String name, List<String> inputs, List<String> outputs, List<Node> nodes, List<String> outerReferences) {
    public Subgraph {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        nodes = List.copyOf(nodes);
        outerReferences = List.copyOf(outerReferences);
    }

    /** The union of {@code graphs}' outer references, in order: what a node with these graph attributes reads implicitly. */
    public static List<String> implicitInputs(List<Subgraph> graphs) {
        Set<String> names = new LinkedHashSet<>();
        for (Subgraph g : graphs) names.addAll(g.outerReferences());
        return List.copyOf(names);
    }

    /** The names read by {@code nodes} (implicit inputs of nested control flow included) or declared as {@code outputs}, not defined among {@code defined} or by the nodes. */
    public static List<String> outerReferences(List<Node> nodes, List<String> outputs, Set<String> defined) {
        Set<String> inner = new LinkedHashSet<>(defined);
        for (Node n : nodes) inner.addAll(n.outputs());
        Set<String> outer = new LinkedHashSet<>();
        for (Node n : nodes) for (String in : n.inputs()) if (!in.isEmpty() && !inner.contains(in)) outer.add(in);
        for (String o : outputs) if (!inner.contains(o)) outer.add(o);
        return List.copyOf(outer);
    }
}
