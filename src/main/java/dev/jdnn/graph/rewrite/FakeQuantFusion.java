package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.op.FakeQuantize;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A QDQ model's "fake quant" on an activation, {@code q = QuantizeLinear(x, s, zp); y = DequantizeLinear(q, s', zp')}
 * with q read by nothing else and not kept, becomes one {@code jdnn.FakeQuantize(x, s, zp, s', zp')}
 * ({@link FakeQuantize}): a compiled plan runs it as one oneDNN primitive on float32 where the pair would
 * have gone through an 8-bit tensor in Java. Scales and zero points need not be constants here; the op
 * decides whether it can run natively, and runs the two exported ops' Java steps otherwise.
 */
public final class FakeQuantFusion implements Rewrite {
    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        GraphIndex g = new GraphIndex(graph, keep);
        for (int i = 0; i < graph.nodes().size(); i++) {
            Node q = g.node(i);
            if (!q.opType().equals("QuantizeLinear") || q.outputs().size() != 1 || q.inputs().size() < 2 || q.inputs().size() > 3) continue;
            int d = g.soleReader(q.outputs().get(0));
            if (d < 0) continue;
            Node dq = g.node(d);
            if (!dq.opType().equals("DequantizeLinear") || dq.outputs().size() != 1 || dq.inputs().size() < 2 || dq.inputs().size() > 3
                    || !dq.inputs().get(0).equals(q.outputs().get(0))) continue;
            Attributes attributes = FakeQuantize.attributes(q.attributes(), dq.attributes());
            if (attributes == null) continue;
            List<String> inputs = new ArrayList<>(q.inputs());
            while (inputs.size() < 3) inputs.add("");
            inputs.addAll(dq.inputs().subList(1, dq.inputs().size()));
            while (inputs.size() < 5) inputs.add("");
            g.replace(List.of(i, d), new Node(GraphIndex.name(q, FakeQuantize.TYPE), FakeQuantize.TYPE, inputs, dq.outputs(), attributes));
        }
        return g.result();
    }
}
