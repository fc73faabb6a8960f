package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What pattern rewrites ask of a graph: who produces and who reads each tensor, the value of a constant
 * float scalar (an initializer or a Constant node), and the final splice of matches into the node list.
 */
final class GraphIndex {
    final Graph graph;
    final Set<String> keep;
    private final Map<String, Integer> producer = new HashMap<>();
    private final Map<String, List<Integer>> readers = new HashMap<>();
    private final Set<Integer> taken = new HashSet<>();
    private final Map<Integer, Node> replacements = new HashMap<>();

    GraphIndex(Graph graph, Set<String> keep) {
        this.graph = graph;
        this.keep = keep;
        List<Node> nodes = graph.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            for (String o : nodes.get(i).outputs()) if (!o.isEmpty()) producer.put(o, i);
            for (String in : nodes.get(i).inputs()) if (!in.isEmpty()) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
        }
    }

    Node node(int i) {
        return graph.nodes().get(i);
    }

    /** The index of the node producing {@code tensor}, or -1 (graph input, initializer). */
    int producer(String tensor) {
        return producer.getOrDefault(tensor, -1);
    }

    /**
     * The one node reading {@code tensor} if it is an intermediate a rewrite may remove: exactly one
     * read, not kept (graph output or tap), not a graph input or initializer, and that node not already
     * part of another match; else -1.
     */
    int soleReader(String tensor) {
        List<Integer> r = readers.getOrDefault(tensor, List.of());
        if (r.size() != 1 || keep.contains(tensor) || graph.outputs().contains(tensor) || taken.contains(r.get(0))) return -1;
        return r.get(0);
    }

    /** Every node reading {@code tensor} (a node reading it twice is listed twice), in graph order. */
    List<Integer> readers(String tensor) {
        return List.copyOf(readers.getOrDefault(tensor, List.of()));
    }

    /** Whether node i is {@code op} with exactly {@code inputs} inputs and one output, and is free. */
    boolean is(int i, String op, int inputs) {
        if (i < 0 || taken.contains(i)) return false;
        Node n = node(i);
        return n.opType().equals(op) && n.inputs().size() == inputs && n.outputs().size() == 1 && n.inputs().stream().noneMatch(String::isEmpty);
    }

    /** The value of {@code tensor} if it is a one-element float constant (initializer or Constant node), else NaN. */
    double scalar(String tensor) {
        Value v = graph.constants().get(tensor);
        if (v == null) {
            int p = producer(tensor);
            if (p < 0 || !node(p).opType().equals("Constant")) return Double.NaN;
            Attributes a = node(p).attributes();
            if (a.has("value_float")) return a.getFloat("value_float", Float.NaN);
            if (!a.has("value")) return Double.NaN;
            v = a.getTensor("value");
        }
        if (v instanceof Value.Floats f && f.tensor().elementCount() == 1 && f.tensor().rank() <= 1) return f.tensor().getFlat(0);
        return Double.NaN;
    }

    /** Whether {@code tensor} is a float constant scalar within 1e-6 relative of {@code want}. */
    boolean isScalar(String tensor, double want) {
        double v = scalar(tensor);
        return Math.abs(v - want) <= 1e-6 * Math.abs(want);
    }

    /** For a two-input node, the input that is not {@code tensor} (null if neither or both are it). */
    static String other(Node n, String tensor) {
        String a = n.inputs().get(0), b = n.inputs().get(1);
        if (a.equals(tensor) == b.equals(tensor)) return null;
        return a.equals(tensor) ? b : a;
    }

    /**
     * The name of a replacement node: "{@code <core node's name> as <type>}" (e.g. "/act/Erf as jdnn.Gelu"),
     * so explain lines and errors point back at the exported nodes; empty if the core node had no name.
     */
    static String name(Node core, String type) {
        return core.name() == null || core.name().isEmpty() ? "" : core.name() + " as " + type;
    }

    /** Replaces the matched nodes: {@code replacement} stands where the last of them stood, the others go. */
    void replace(List<Integer> matched, Node replacement) {
        int last = matched.stream().mapToInt(Integer::intValue).max().orElseThrow();
        taken.addAll(matched);
        replacements.put(last, replacement);
    }

    /** The graph with every replacement made, or the same graph if there was none. */
    Graph result() {
        if (taken.isEmpty()) return graph;
        List<Node> out = new ArrayList<>();
        for (int i = 0; i < graph.nodes().size(); i++) {
            if (replacements.containsKey(i)) out.add(replacements.get(i));
            else if (!taken.contains(i)) out.add(node(i));
        }
        return graph.withNodes(out);
    }
}
