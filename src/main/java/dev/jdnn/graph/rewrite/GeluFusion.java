package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GELU as exporters spell it before opset 20, {@code 0.5·x·(1 + erf(x/√2))}, five nodes, becomes one
 * {@code jdnn.Gelu} (exact, erf form), which runs as oneDNN's gelu_erf eltwise or conv post-op:
 * <pre>
 *   u = Div(x, √2) | Mul(x, 1/√2)      e = Erf(u)      a = Add(e, 1)
 *   then  y = Mul(Mul(x, a), 0.5)       (torch.nn.GELU at opsets 9-19)
 *    or   y = Mul(x, Mul(a, 0.5))
 *    or   y = Mul(Mul(x, 0.5), a)       (BERT-style x * 0.5 * (1 + erf(...)))
 * </pre>
 * with either operand order of each Add/Mul, constants as initializers or Constant nodes (within 1e-6
 * relative of √2, 1/√2, 1, 0.5), and {@code Div(·, 2)} for the halving. Every intermediate must have the
 * pattern's next node as its only reader and not be kept (output or tap), else the nodes stay as exported.
 */
public final class GeluFusion implements Rewrite {
    private static final double SQRT2 = Math.sqrt(2);

    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        GraphIndex g = new GraphIndex(graph, keep);
        for (int i = 0; i < graph.nodes().size(); i++) {
            if (!g.is(i, "Erf", 1)) continue;
            Node erf = g.node(i);
            String u = erf.inputs().get(0);
            int p = g.producer(u);
            if (p < 0 || g.soleReader(u) != i) continue;
            String x = scaledInput(g, p);
            if (x == null) continue;
            int add = g.soleReader(erf.outputs().get(0));
            if (!g.is(add, "Add", 2)) continue;
            String one = GraphIndex.other(g.node(add), erf.outputs().get(0));
            if (one == null || !g.isScalar(one, 1)) continue;
            String a = g.node(add).outputs().get(0);
            int m = g.soleReader(a);
            if (!g.is(m, "Mul", 2)) continue;
            String mOther = GraphIndex.other(g.node(m), a);
            if (mOther == null) continue;
            List<Integer> matched = null;
            String y = null;
            if (mOther.equals(x)) {
                // y = Mul(Mul(x, a), 0.5) or Div(Mul(x, a), 2)
                String xm = g.node(m).outputs().get(0);
                int h = g.soleReader(xm);
                if (halves(g, h, xm)) {
                    matched = List.of(p, i, add, m, h);
                    y = g.node(h).outputs().get(0);
                }
            } else if (g.isScalar(mOther, 0.5)) {
                // y = Mul(x, Mul(a, 0.5))
                String ah = g.node(m).outputs().get(0);
                int f = g.soleReader(ah);
                if (g.is(f, "Mul", 2) && x.equals(GraphIndex.other(g.node(f), ah))) {
                    matched = List.of(p, i, add, m, f);
                    y = g.node(f).outputs().get(0);
                }
            } else {
                // y = Mul(Mul(x, 0.5), a)
                int h = g.producer(mOther);
                if (h >= 0 && g.soleReader(mOther) == m && g.is(h, "Mul", 2) && halfOf(g, g.node(h), x)) {
                    matched = List.of(p, i, add, h, m);
                    y = g.node(m).outputs().get(0);
                }
            }
            if (matched == null) continue;
            g.replace(matched, new Node(GraphIndex.name(erf, "jdnn.Gelu"), "jdnn.Gelu", List.of(x), List.of(y), new Attributes(Map.of())));
        }
        return g.result();
    }

    /** For node p = Div(x, √2) or Mul(x, 1/√2) (either order), x; else null. */
    private static String scaledInput(GraphIndex g, int p) {
        Node n = g.node(p);
        if (g.is(p, "Div", 2) && g.isScalar(n.inputs().get(1), SQRT2)) return n.inputs().get(0);
        if (!g.is(p, "Mul", 2)) return null;
        if (g.isScalar(n.inputs().get(1), 1 / SQRT2)) return n.inputs().get(0);
        if (g.isScalar(n.inputs().get(0), 1 / SQRT2)) return n.inputs().get(1);
        return null;
    }

    /** Whether node h halves {@code t}: Mul(t, 0.5), Mul(0.5, t) or Div(t, 2). */
    private static boolean halves(GraphIndex g, int h, String t) {
        if (g.is(h, "Mul", 2)) {
            String c = GraphIndex.other(g.node(h), t);
            return c != null && g.isScalar(c, 0.5);
        }
        return g.is(h, "Div", 2) && g.node(h).inputs().get(0).equals(t) && g.isScalar(g.node(h).inputs().get(1), 2);
    }

    /** Whether {@code n} is Mul(x, 0.5) in either order. */
    private static boolean halfOf(GraphIndex g, Node n, String x) {
        String c = GraphIndex.other(n, x);
        return c != null && g.isScalar(c, 0.5);
    }
}
