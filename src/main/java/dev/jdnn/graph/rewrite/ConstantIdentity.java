package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code y = Identity(w)} of an initializer {@code w} becomes a second name for {@code w}'s constant. torch's
 * exporter writes identical initializers once and gives each other user an Identity of it (every LayerNorm's
 * γ of ones, every zero bias, in a freshly initialised network; any weights tied or equal in a trained one),
 * so without this the patterns after it would see a computed tensor where the model has a constant: the
 * LayerNorm's γ and β stayed separate Mul and Add nodes, a Linear's bias a separate Add. An Identity whose
 * output is kept (graph output, tap) stays, so the tensor can still be asked for by name.
 */
public final class ConstantIdentity implements Rewrite {
    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        Map<String, Value> aliases = new LinkedHashMap<>();
        List<Node> nodes = new ArrayList<>();
        for (Node n : graph.nodes()) {
            Value v = n.opType().equals("Identity") && n.inputs().size() == 1 && n.outputs().size() == 1 ? graph.constants().get(n.inputs().get(0)) : null;
            String out = v == null ? null : n.outputs().get(0);
            if (out != null && !out.isEmpty() && !keep.contains(out) && !graph.outputs().contains(out) && !graph.constants().containsKey(out)) {
                aliases.put(out, v);
            } else {
                nodes.add(n);
            }
        }
        if (aliases.isEmpty()) return graph;
        Map<String, Value> constants = new LinkedHashMap<>(graph.constants());
        constants.putAll(aliases);   // the same Value objects: owned by the model, never freed by a plan
        return new Graph(graph.inputs(), graph.outputs(), nodes, constants, graph.inputTypes());
    }
}
