package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The layer normalisation that exports before opset 17 spell out (torch's {@code nn.LayerNorm} at
 * opset ≤ 16, ConvNeXt's channels-last LayerNorm):
 * <pre>
 *   m = ReduceMean(x, axes)          axes: the trailing dims, as an attribute or (opset 18) a constant input
 *   d = Sub(x, m)
 *   v = ReduceMean(Pow(d, 2), axes)  (or Mul(d, d))
 *   y = Div(d, Sqrt(Add(v, ε)))
 *   [y = Mul(y, γ)] [y = Add(y, β)]  γ, β constants
 * </pre>
 * becomes one {@code jdnn.LayerNormalization(x, γ, β; axis = −k, epsilon = ε)} node (γ and β empty when
 * absent), which runs as oneDNN's layer normalisation. Axes must be the last k dims: negative axes
 * {−k..−1}, or non-negative ones when x's rank is known (a graph input's declared shape). Both
 * ReduceMeans keep dims; every intermediate tensor feeds only the next step of the chain and is not
 * in {@code keep}, else the chain is left as it is. The Constant nodes that only fed the chain (2, ε)
 * are dropped with it.
 */
public final class LayerNormPattern implements Rewrite {
    @Override
    public Graph apply(Graph graph, Set<String> keep) {
        List<Node> nodes = graph.nodes();
        Map<String, Integer> producer = new HashMap<>();
        Map<String, List<Integer>> consumers = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String o : nodes.get(i).outputs()) if (!o.isEmpty()) producer.put(o, i);
            for (String in : nodes.get(i).inputs()) if (!in.isEmpty()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
        }
        Set<String> kept = new HashSet<>(keep);
        kept.addAll(graph.outputs());
        Context c = new Context(graph, nodes, producer, consumers, kept);
        Set<Integer> removed = new HashSet<>();
        Map<Integer, Node> replaced = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (!nodes.get(i).opType().equals("ReduceMean") || removed.contains(i)) continue;
            Match m = c.match(i);
            if (m == null || m.nodes().stream().anyMatch(removed::contains)) continue;
            removed.addAll(m.nodes());
            removed.remove(m.last());
            replaced.put(m.last(), m.replacement());
            removed.addAll(m.deadConstants());
        }
        if (replaced.isEmpty()) return graph;
        List<Node> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (replaced.containsKey(i)) out.add(replaced.get(i));
            else if (!removed.contains(i)) out.add(nodes.get(i));
        }
        return new Graph(graph.inputs(), graph.outputs(), out, graph.constants());
    }

    /** A matched chain: its node indices, the last one (replaced in place), the new node, and Constant nodes left unused. */
    private record Match(List<Integer> nodes, int last, Node replacement, List<Integer> deadConstants) {}

    private record Context(Graph graph, List<Node> nodes, Map<String, Integer> producer, Map<String, List<Integer>> consumers, Set<String> kept) {

        /** The one node consuming {@code name}, if exactly one does and {@code name} is not kept; else -1. */
        int soleConsumer(String name) {
            if (kept.contains(name)) return -1;
            List<Integer> c = consumers.getOrDefault(name, List.of());
            return c.size() == 1 ? c.get(0) : -1;
        }

        boolean is(int i, String opType) {
            return i >= 0 && nodes.get(i).opType().equals(opType);
        }

        /** The value of a tensor known when the graph is loaded: an initializer, or a Constant node's value. */
        Value constant(String name) {
            if (name == null) return null;
            Value v = graph.constants().get(name);
            if (v != null) return v;
            Integer p = producer.get(name);
            if (p == null || !nodes.get(p).opType().equals("Constant")) return null;
            Attributes a = nodes.get(p).attributes();
            if (a.has("value")) return a.getTensor("value");
            if (a.has("value_float")) return new Value.Floats(dev.jdnn.Tensor.of(new float[] {a.getFloat("value_float", 0)}));
            if (a.has("value_floats")) {
                float[] f = a.getFloats("value_floats", null);
                return new Value.Floats(dev.jdnn.Tensor.of(f, f.length));
            }
            if (a.has("value_int")) return Value.Longs.scalar(a.getInt("value_int", 0));
            if (a.has("value_ints")) return Value.Longs.vector(a.getInts("value_ints", null));
            return null;
        }

        /** A one-element constant as a double, or NaN. */
        double scalar(String name) {
            Value v = constant(name);
            if (v instanceof Value.Floats f && f.tensor().elementCount() == 1) return f.tensor().getFlat(0);
            if (v instanceof Value.Longs l && l.view().length == 1) return l.view()[0];
            return Double.NaN;
        }

        /** The ReduceMean's axes (attribute or constant input), null if absent, or it does not keep dims. */
        long[] meanAxes(Node n) {
            if (n.attributes().getInt("keepdims", 1) != 1) return null;
            long[] axes = n.attributes().getInts("axes", null);
            if (axes == null && n.input(1) != null) {
                if (!(constant(n.input(1)) instanceof Value.Longs l)) return null;
                axes = l.data();
            }
            return axes == null || axes.length == 0 ? null : axes;
        }

        /** The other input of a binary node whose one input is {@code name}, or null. */
        String other(Node n, String name) {
            if (n.inputs().size() != 2) return null;
            if (n.inputs().get(0).equals(name)) return n.inputs().get(1);
            if (n.inputs().get(1).equals(name)) return n.inputs().get(0);
            return null;
        }

        /** −k if the axes are exactly the last k dims of x, else 0. */
        int trailing(long[] axes, String x) {
            long[] declared = graph.inputs().get(x);
            int rank = declared != null ? declared.length : -1;
            long[] a = axes.clone();
            for (int i = 0; i < a.length; i++) {
                if (a[i] >= 0) {
                    if (rank < 0) return 0;
                    a[i] -= rank;
                }
            }
            Arrays.sort(a);
            int k = a.length;
            for (int i = 0; i < k; i++) if (a[i] != i - k) return 0;
            if (rank >= 0 && k > rank) return 0;
            return -k;
        }

        Match match(int first) {
            Node rm1 = nodes.get(first);
            String x = rm1.input(0);
            long[] axes = meanAxes(rm1);
            if (x == null || axes == null) return null;
            int axis = trailing(axes, x);
            if (axis == 0) return null;
            List<Integer> chain = new ArrayList<>(List.of(first));
            List<String> constants = new ArrayList<>();
            if (rm1.input(1) != null) constants.add(rm1.input(1));

            int sub = soleConsumer(rm1.outputs().get(0));
            if (!is(sub, "Sub") || !nodes.get(sub).inputs().equals(List.of(x, rm1.outputs().get(0)))) return null;
            chain.add(sub);
            String d = nodes.get(sub).outputs().get(0);
            if (kept.contains(d)) return null;
            List<Integer> dUsers = consumers.getOrDefault(d, List.of());
            if (dUsers.size() != 2 && dUsers.size() != 3) return null;
            // d feeds the square (Pow(d, 2), or Mul(d, d) listed twice) and the Div.
            int square = -1, div = -1;
            for (int u : new HashSet<>(dUsers)) {
                Node n = nodes.get(u);
                if (n.opType().equals("Div") && n.inputs().size() == 2 && n.inputs().get(0).equals(d) && !n.inputs().get(1).equals(d)) div = u;
                else if (n.opType().equals("Pow") && n.inputs().size() == 2 && n.inputs().get(0).equals(d) && scalar(n.inputs().get(1)) == 2) square = u;
                else if (n.opType().equals("Mul") && n.inputs().equals(List.of(d, d))) square = u;
                else return null;
            }
            if (square < 0 || div < 0 || dUsers.size() != (nodes.get(square).opType().equals("Mul") ? 3 : 2)) return null;
            chain.add(square);
            if (nodes.get(square).opType().equals("Pow")) constants.add(nodes.get(square).inputs().get(1));

            int rm2 = soleConsumer(nodes.get(square).outputs().get(0));
            if (!is(rm2, "ReduceMean") || nodes.get(rm2).input(0) == null || !nodes.get(rm2).input(0).equals(nodes.get(square).outputs().get(0))) return null;
            long[] axes2 = meanAxes(nodes.get(rm2));
            if (axes2 == null || trailing(axes2, x) != axis) return null;
            chain.add(rm2);
            if (nodes.get(rm2).input(1) != null) constants.add(nodes.get(rm2).input(1));

            String v = nodes.get(rm2).outputs().get(0);
            int add = soleConsumer(v);
            if (!is(add, "Add")) return null;
            String epsName = other(nodes.get(add), v);
            double eps = scalar(epsName);
            if (!(eps >= 0) || Double.isInfinite(eps)) return null;
            chain.add(add);
            constants.add(epsName);

            int sqrt = soleConsumer(nodes.get(add).outputs().get(0));
            if (!is(sqrt, "Sqrt")) return null;
            chain.add(sqrt);
            if (soleConsumer(nodes.get(sqrt).outputs().get(0)) != div || !nodes.get(div).inputs().get(1).equals(nodes.get(sqrt).outputs().get(0))) return null;
            chain.add(div);

            // Optional affine part: Mul by a float constant γ, then Add of a float constant β.
            int last = div;
            String gamma = "", beta = "";
            int mul = soleConsumer(nodes.get(div).outputs().get(0));
            if (is(mul, "Mul")) {
                String g = other(nodes.get(mul), nodes.get(div).outputs().get(0));
                if (g != null && constant(g) instanceof Value.Floats) {
                    gamma = g;
                    chain.add(mul);
                    last = mul;
                }
            }
            int addB = soleConsumer(nodes.get(last).outputs().get(0));
            if (is(addB, "Add")) {
                String b = other(nodes.get(addB), nodes.get(last).outputs().get(0));
                if (b != null && constant(b) instanceof Value.Floats) {
                    beta = b;
                    chain.add(addB);
                    last = addB;
                }
            }
            Node end = nodes.get(last);
            List<String> inputs = new ArrayList<>(List.of(x, gamma, beta));
            while (inputs.get(inputs.size() - 1).isEmpty()) inputs.remove(inputs.size() - 1);
            Map<String, Object> attrs = new LinkedHashMap<>();
            attrs.put("axis", (long) axis);
            attrs.put("epsilon", (float) eps);
            String name = (rm1.name() == null || rm1.name().isEmpty() ? rm1.label() : rm1.name()) + " (LayerNormalization)";
            Node ln = new Node(name, "jdnn.LayerNormalization", inputs, end.outputs(), new Attributes(attrs));

            // Constant nodes whose outputs only the removed chain read go too.
            Set<Integer> chainSet = new HashSet<>(chain);
            List<Integer> dead = new ArrayList<>();
            for (String cn : constants) {
                Integer p = producer.get(cn);
                if (p == null || !nodes.get(p).opType().equals("Constant") || kept.contains(cn) || dead.contains(p)) continue;
                if (chainSet.containsAll(consumers.getOrDefault(cn, List.of()))) dead.add(p);
            }
            return new Match(chain, last, ln, dead);
        }
    }
}
