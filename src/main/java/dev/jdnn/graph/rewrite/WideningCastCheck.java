package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import java.util.List;
import java.util.Set;

/**
 * {@code d = Cast(x, to=double); y = IsInf(d)} (or IsNaN) becomes {@code y = IsInf(x)}: torch ≤ 1.13 exports
 * every {@code torch.isinf} of a float32 tensor this way, and jdnn holds no double tensors. Widening float32
 * to double keeps every infinity and NaN, so the mask is the same. The cast's output must be read by that
 * node only and not be kept (output or tap); x of an integer type then meets IsInf's own type check.
 */
public final class WideningCastCheck implements Rewrite {
    private static final long DOUBLE = 11;

    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        GraphIndex g = new GraphIndex(graph, keep);
        for (int i = 0; i < graph.nodes().size(); i++) {
            if (!g.is(i, "Cast", 1) || g.node(i).attributes().getInt("to", 0) != DOUBLE) continue;
            int check = g.soleReader(g.node(i).outputs().get(0));
            if (!g.is(check, "IsInf", 1) && !g.is(check, "IsNaN", 1)) continue;
            Node c = g.node(check);
            g.replace(List.of(i, check), new Node(c.name(), c.opType(), List.of(g.node(i).inputs().get(0)), c.outputs(), c.attributes()));
        }
        return g.result();
    }
}
