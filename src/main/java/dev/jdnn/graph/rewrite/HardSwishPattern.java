package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code x · HardSigmoid(x; α = 1/6, β = 1/2)} → one {@code jdnn.HardSwish(x)}: how PyTorch exports
 * {@code nn.Hardswish} below opset 14 (MobileNetV3 and its segmenters). As one op it is a single oneDNN
 * eltwise, or a post-op of the conv before it; spelled out it is an eltwise and a binary pass over memory.
 */
public final class HardSwishPattern implements Rewrite {
    private static final float ALPHA = 1f / 6, BETA = 0.5f;

    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        Map<String, Integer> readers = new HashMap<>();
        Map<String, Node> producer = new HashMap<>();
        for (Node n : graph.nodes()) {
            for (String in : n.inputs()) if (!in.isEmpty()) readers.merge(in, 1, Integer::sum);
            for (String out : n.outputs()) producer.put(out, n);
        }
        Set<Node> removed = new HashSet<>();
        Map<Node, Node> replaced = new HashMap<>();
        for (Node mul : graph.nodes()) {
            if (!mul.opType().equals("Mul") || mul.inputs().size() != 2) continue;
            for (int side = 0; side < 2; side++) {
                Node hs = producer.get(mul.inputs().get(side));
                String x = mul.inputs().get(1 - side);
                if (hs == null || !hs.opType().equals("HardSigmoid") || removed.contains(hs) || !hs.inputs().get(0).equals(x)) continue;
                String mid = hs.outputs().get(0);
                if (readers.getOrDefault(mid, 0) != 1 || keep.contains(mid)) continue;
                if (Math.abs(hs.attributes().getFloat("alpha", 0.2f) - ALPHA) > 1e-6 || Math.abs(hs.attributes().getFloat("beta", 0.5f) - BETA) > 1e-6) continue;
                removed.add(hs);
                replaced.put(mul, new Node(mul.label() + " (HardSwish: " + hs.label() + " · x)", "jdnn.HardSwish", List.of(x), mul.outputs(),
                        new Attributes(Map.of())));
                break;
            }
        }
        if (replaced.isEmpty()) return graph;
        List<Node> nodes = new ArrayList<>();
        for (Node n : graph.nodes()) {
            if (removed.contains(n)) continue;
            nodes.add(replaced.getOrDefault(n, n));
        }
        return graph.withNodes(nodes);
    }
}
