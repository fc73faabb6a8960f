package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Linear layer on a tensor of rank ≥ 3 as torch exports it, {@code y = MatMul(x, W); z = Add(y, b)} (either
 * operand order) with {@code W} a float constant K×N and {@code b} a float constant of shape [N], becomes one
 * {@code jdnn.MatMulAdd(x, W, b)}: oneDNN's matmul with a bias, so the Add is not a second pass over the output,
 * and an activation after it (the MLP's GELU) becomes the matmul's post-op. {@code y} must be read by that Add
 * only and not be kept.
 */
public final class MatMulBias implements Rewrite {
    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        GraphIndex g = new GraphIndex(graph, keep);
        for (int i = 0; i < graph.nodes().size(); i++) {
            if (!g.is(i, "MatMul", 2)) continue;
            Node mm = g.node(i);
            if (!(graph.constants().get(mm.inputs().get(1)) instanceof Value.Floats w) || w.tensor().rank() != 2) continue;
            String y = mm.outputs().get(0);
            int add = g.soleReader(y);
            if (!g.is(add, "Add", 2)) continue;
            String bias = GraphIndex.other(g.node(add), y);
            if (bias == null || !(graph.constants().get(bias) instanceof Value.Floats b)) continue;
            if (b.tensor().rank() != 1 || b.tensor().shape()[0] != w.tensor().shape()[1]) continue;
            g.replace(List.of(i, add), new Node(GraphIndex.name(mm, "jdnn.MatMulAdd"), "jdnn.MatMulAdd",
                    List.of(mm.inputs().get(0), mm.inputs().get(1), bias), List.of(g.node(add).outputs().get(0)), new Attributes(Map.of())));
        }
        return g.result();
    }
}
