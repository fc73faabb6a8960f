package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SiLU (swish) as exported, {@code s = Sigmoid(x); y = Mul(x, s)} (either operand order), becomes one
 * {@code jdnn.Silu}: oneDNN's swish eltwise with alpha 1, or a post-op of the conv before it. The sigmoid
 * output must be read by that Mul only and not be kept (output or tap).
 */
public final class SiluFusion implements Rewrite {
    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        GraphIndex g = new GraphIndex(graph, keep);
        for (int i = 0; i < graph.nodes().size(); i++) {
            if (!g.is(i, "Sigmoid", 1)) continue;
            String x = g.node(i).inputs().get(0), s = g.node(i).outputs().get(0);
            int m = g.soleReader(s);
            if (!g.is(m, "Mul", 2) || !x.equals(GraphIndex.other(g.node(m), s))) continue;
            g.replace(List.of(i, m), new Node(GraphIndex.name(g.node(i), "jdnn.Silu"), "jdnn.Silu", List.of(x), List.of(g.node(m).outputs().get(0)), new Attributes(Map.of())));
        }
        return g.result();
    }
}
