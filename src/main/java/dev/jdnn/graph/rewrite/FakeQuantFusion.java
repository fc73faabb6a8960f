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
 * with q read only by DequantizeLinear nodes (one, or one per consumer as some quantizers write it) and not
 * kept, becomes one {@code jdnn.FakeQuantize(x, s, zp, s', zp')} per DequantizeLinear ({@link FakeQuantize}):
 * a compiled plan runs each as one oneDNN primitive on float32, or as post-ops of the convolution before it,
 * where the pair would have gone through an 8-bit tensor in Java. Scales and zero points need not be constants
 * here; the op decides whether it can run natively, and runs the two exported ops' Java steps otherwise.
 */
public final class FakeQuantFusion implements Rewrite {
    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        GraphIndex g = new GraphIndex(graph, keep);
        for (int i = 0; i < graph.nodes().size(); i++) {
            Node q = g.node(i);
            if (!q.opType().equals("QuantizeLinear") || q.outputs().size() != 1 || q.inputs().size() < 2 || q.inputs().size() > 3) continue;
            String quantized = q.outputs().get(0);
            List<Integer> readers = g.readers(quantized);
            if (readers.isEmpty() || keep.contains(quantized) || graph.outputs().contains(quantized)) continue;
            List<Node> replacements = new ArrayList<>();
            for (int d : readers) {
                Node dq = g.node(d);
                Attributes attributes = FakeQuantize.attributes(q.attributes(), dq.attributes());
                if (!dq.opType().equals("DequantizeLinear") || dq.outputs().size() != 1 || dq.inputs().size() < 2 || dq.inputs().size() > 3
                        || !dq.inputs().get(0).equals(quantized) || dq.inputs().subList(1, dq.inputs().size()).contains(quantized) || attributes == null) {
                    replacements = null;
                    break;
                }
                List<String> inputs = new ArrayList<>(q.inputs());
                while (inputs.size() < 3) inputs.add("");
                inputs.addAll(dq.inputs().subList(1, dq.inputs().size()));
                while (inputs.size() < 5) inputs.add("");
                String name = GraphIndex.name(q, FakeQuantize.TYPE);
                replacements.add(new Node(readers.size() > 1 && !name.isEmpty() ? name + " for " + dq.label() : name, FakeQuantize.TYPE, inputs, dq.outputs(), attributes));
            }
            if (replacements == null) continue;
            for (int k = 0; k < readers.size(); k++) {
                g.replace(k == 0 ? List.of(i, readers.get(0)) : List.of(readers.get(k)), replacements.get(k));
            }
        }
        return g.result();
    }
}
