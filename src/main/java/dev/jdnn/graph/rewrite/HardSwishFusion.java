package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * HardSwish as exported before opset 14 (torch's nn.Hardswish at opset 13, e.g. MobileNetV3),
 * {@code h = HardSigmoid(x; alpha, beta); y = Mul(x, h)} (either operand order), becomes one
 * {@code jdnn.HardSwish(x; alpha, beta)} = {@code x·max(0, min(1, alpha·x + beta))}: oneDNN's hardswish
 * eltwise with the same alpha and beta, or a post-op of the conv before it. The HardSigmoid output must be
 * read by that Mul only and not be kept (output or tap).
 */
public final class HardSwishFusion implements Rewrite {
    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        GraphIndex g = new GraphIndex(graph, keep);
        for (int i = 0; i < graph.nodes().size(); i++) {
            if (!g.is(i, "HardSigmoid", 1)) continue;
            Node hs = g.node(i);
            String x = hs.inputs().get(0), h = hs.outputs().get(0);
            int m = g.soleReader(h);
            if (!g.is(m, "Mul", 2) || !x.equals(GraphIndex.other(g.node(m), h))) continue;
            Attributes a = new Attributes(Map.of("alpha", hs.attributes().getFloat("alpha", 0.2f), "beta", hs.attributes().getFloat("beta", 0.5f)));
            g.replace(List.of(i, m), new Node(GraphIndex.name(hs, "jdnn.HardSwish"), "jdnn.HardSwish", List.of(x), List.of(g.node(m).outputs().get(0)), a));
        }
        return g.result();
    }
}
