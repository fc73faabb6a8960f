package dev.jdnn.onnx;

import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Subgraph;
import dev.jdnn.graph.Value;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Graph attributes (If's {@code then_branch} / {@code else_branch}, Loop's {@code body}) read into
 * {@link Subgraph}s, nested ones included: a subgraph's initializers become Constant nodes, its nodes are
 * ordered with its inputs, initializers and outer-scope names available, and the names it reads from
 * enclosing scopes are listed. A node holding subgraphs gets their outer references appended to its inputs
 * ({@link #node}), so the graph around it orders, keeps alive and folds what its branches read.
 */
final class Subgraphs {
    private Subgraphs() {}

    /** Deepest nesting of graph attributes accepted (torchvision's detectors nest two). */
    static final int MAX_DEPTH = 16;

    /** The node read from {@code n} ({@code depth} graphs enclose it), with its subgraphs' outer references appended to its inputs. */
    static Node node(NodeProto n, Path baseDir, String where, OnnxLoader.RawData source, int depth) {
        if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
            throw new OnnxFormatException(where + ": node " + n.getName() + " (" + n.getOpType() + ") is in domain "
                    + n.getDomain() + "; jdnn runs the default ONNX domain only");
        }
        Attributes attributes = OnnxLoader.attributes(n, baseDir, where, source, depth);
        List<Subgraph> graphs = attributes.graphs();
        if (graphs.isEmpty()) return new Node(n.getName(), n.getOpType(), n.getInputList(), n.getOutputList(), attributes);
        List<String> inputs = new ArrayList<>(n.getInputList());
        inputs.addAll(Subgraph.implicitInputs(graphs));
        return new Node(n.getName(), n.getOpType(), inputs, n.getOutputList(), attributes);
    }

    /** One graph attribute; {@code depth} counts the enclosing graphs (1 for a branch of a top-level If). */
    static Subgraph parse(GraphProto g, String attribute, Path baseDir, String where, OnnxLoader.RawData source, int depth) {
        String here = where + ": subgraph " + (g.getName().isEmpty() ? attribute : g.getName());
        if (depth > MAX_DEPTH) throw new OnnxFormatException(here + " is nested " + depth + " deep, more than " + MAX_DEPTH);
        List<Node> nodes = new ArrayList<>();
        Set<String> defined = new LinkedHashSet<>();
        List<String> inputs = new ArrayList<>();
        for (ValueInfoProto v : g.getInputList()) {
            inputs.add(v.getName());
            defined.add(v.getName());
        }
        Map<String, Value> initializers = new HashMap<>();
        try {
            for (TensorProto t : g.getInitializerList()) {
                if (defined.contains(t.getName())) continue;   // an input with a default value: the input wins (Loop's body never has them)
                Value v = OnnxLoader.tensor(t, baseDir, where, source);
                initializers.put(t.getName(), v);
                nodes.add(new Node("", "Constant", List.of(), List.of(t.getName()), new Attributes(Map.of("value", v))));
                defined.add(t.getName());
            }
            List<Node> body = new ArrayList<>();
            for (NodeProto n : g.getNodeList()) body.add(node(n, baseDir, here, source, depth));
            List<String> outputs = g.getOutputList().stream().map(ValueInfoProto::getName).toList();
            List<String> outer = Subgraph.outerReferences(body, outputs, defined);
            Set<String> available = new HashSet<>(defined);
            available.addAll(outer);
            nodes.addAll(OnnxLoader.topologicalOrder(body, available, Set.of(), here));
            return new Subgraph(attribute, inputs, outputs, nodes, outer);
        } catch (RuntimeException e) {
            initializers.values().forEach(OnnxLoader::release);
            throw e;
        }
    }
}
