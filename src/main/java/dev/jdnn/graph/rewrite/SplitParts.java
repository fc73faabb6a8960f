package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.op.Split;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Split → one {@code jdnn.SplitPart} node per (named) output, each with the Split's inputs and
 * attributes plus its part index. A compiled plan's native op has one output, so this is what lets a
 * Split (ShuffleNet's channel split, on the hot path) run as native strided copies that stay in the plan
 * instead of a Java node with a reorder to plain on either side. Every output keeps its name, so taps
 * and graph outputs see the same tensors ({@code keep} needs no care); errors still name the Split.
 */
public final class SplitParts implements Rewrite {
    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        boolean any = false;
        List<Node> nodes = new ArrayList<>();
        for (Node n : graph.nodes()) {
            if (!n.opType().equals("Split") || n.outputs().isEmpty()) {
                nodes.add(n);
                continue;
            }
            any = true;
            int parts = n.outputs().size();
            for (int i = 0; i < parts; i++) {
                String out = n.outputs().get(i);
                if (out.isEmpty()) continue; // an unused optional output
                nodes.add(new Node(n.label() + "#" + i, "jdnn.SplitPart", n.inputs(), List.of(out), Split.partAttributes(n, i, parts)));
            }
        }
        return any ? graph.withNodes(nodes) : graph;
    }
}
