package dev.jdnn;

import dev.jdnn.graph.Graph;
import dev.jdnn.graph.op.Op;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Plan;
import dev.jdnn.graph.Value;
import dev.jdnn.graph.op.Registry;
import dev.jdnn.onnx.OnnxFormatException;
import dev.jdnn.onnx.OnnxLoader;
import dev.jdnn.onnx.WeightStore;
import dev.jdnn.ops.conv.SharedWeights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A loaded ONNX model: its graph and weights, checked at load time (opset, every operator supported).
 * Open {@link Session}s on it to run inference; a model can serve many sessions and threads.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("resnet18.onnx"));
 *      Session session = model.session(Session.Options.defaults());
 *      Tensor x = Npy.read(Path.of("x.npy"));
 *      Result result = session.run(Map.of("input", x), List.of("output", "/layer1/layer1.0/relu/Relu_output_0"))) {
 *     Tensor logits = result.get("output");
 * }
 * }</pre>
 * {@link #close()} frees the weights; it is idempotent and later use throws.
 */
public final class Model implements AutoCloseable {
    private final Graph graph;
    private final int opset;
    private final String source;
    private final WeightStore weights;                          // the mapped file(s) and copied weights
    private final SharedWeights reordered = new SharedWeights(); // weights in kernel layouts, shared by every session's plans
    private final long loadNanos;
    private final Set<String> float16Inputs;    // declared float16: float16 tensors are widened on entry (float32 ones taken as they are)
    private final Set<String> float16Outputs;   // declared float16: narrowed from the float32 the graph computes
    private volatile boolean closed;

    private Model(Graph graph, int opset, String source, WeightStore weights, long loadNanos, Set<String> float16Inputs, Set<String> float16Outputs) {
        this.graph = graph;
        this.float16Inputs = float16Inputs;
        this.float16Outputs = float16Outputs;
        this.opset = opset;
        this.source = source;
        this.weights = weights;
        this.loadNanos = loadNanos;
    }

    /**
     * Loads and checks an ONNX file.
     *
     * @throws OnnxFormatException if the file is missing or malformed, uses an unsupported opset, or contains
     *         operators jdnn does not support (all of them are listed, with their node names)
     */
    public static Model load(Path file) {
        long t0 = System.nanoTime();
        Warmup.start();   // oneDNN and the op classes load on another thread while this one parses the file
        OnnxLoader.Loaded loaded = OnnxLoader.load(file);
        Map<String, List<String>> unsupported = new TreeMap<>();
        for (Node n : withSubgraphs(loaded.graph().nodes())) {
            if (Registry.get(n.opType(), loaded.opset()) == null) {
                String key = Registry.knows(n.opType()) ? n.opType() + " at opset " + loaded.opset() + " (jdnn runs it at opsets " + Registry.opsets(n.opType()) + ")"
                        : n.opType();
                unsupported.computeIfAbsent(key, k -> new ArrayList<>()).add(n.label());
            }
        }
        if (!unsupported.isEmpty()) {
            loaded.release();
            StringBuilder message = new StringBuilder(file + " uses operators jdnn does not support:");
            unsupported.forEach((op, nodes) -> message.append(' ').append(op).append(" (nodes ")
                    .append(String.join(", ", nodes.size() > 5 ? nodes.subList(0, 5) : nodes))
                    .append(nodes.size() > 5 ? ", ... " + nodes.size() + " in all" : "").append(");"));
            message.setLength(message.length() - 1);
            throw new OnnxFormatException(message.toString());
        }
        // Copying the unaligned weights touched their pages: hand them back to the page cache until something reads them.
        loaded.weights().unloadMapped();
        return new Model(loaded.graph(), loaded.opset(), file.toString(), loaded.weights(), System.nanoTime() - t0,
                loaded.float16Inputs(), loaded.float16Outputs());
    }

    /** Opens a session (a per-use configuration: backend, threads) on this model. */
    public Session session(Session.Options options) {
        ensureOpen();
        return new Session(this, options);
    }

    /** Graph inputs (not initializers) with their declared shapes; -1 marks a symbolic dimension such as the batch size. */
    public Map<String, long[]> inputs() {
        ensureOpen();
        Map<String, long[]> copy = new LinkedHashMap<>();
        graph.inputs().forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    /**
     * The element type of each graph input as the model declares it (float32 for image models; float16, int64,
     * int32, int8, uint8 or bool otherwise). A float16 input also accepts a float32 tensor, taken as it is.
     */
    public Map<String, DataType> inputTypes() {
        ensureOpen();
        Map<String, DataType> types = new LinkedHashMap<>();
        graph.inputs().keySet().forEach(k -> types.put(k, float16Inputs.contains(k) ? DataType.FLOAT16 : graph.inputType(k)));
        return types;
    }

    /** The declared outputs whose element type is float16 (the graph computes them as float32; runs return them as float16). */
    Set<String> float16Outputs() {
        return float16Outputs;
    }

    /** The graph inputs declared float16. */
    Set<String> float16Inputs() {
        return float16Inputs;
    }

    /** The declared outputs. */
    public List<String> outputs() {
        return graph.outputs();
    }

    public int opset() {
        return opset;
    }

    /**
     * Every tensor name with its shape for the given input shapes (inferred without running anything
     * heavy): inputs, weights and each node's outputs, in graph order.
     */
    public Map<String, long[]> tensorShapes(Map<String, long[]> inputShapes) {
        return tensorShapes(inputShapes, false);
    }

    /**
     * As {@link #tensorShapes(Map)}; with {@code beforeDataDependence}, a node whose output shape depends on
     * values the model computes ends the listing instead of failing it: the tensors from it on, which a
     * session computes in the plan's data-dependent tail, are left out.
     */
    public Map<String, long[]> tensorShapes(Map<String, long[]> inputShapes, boolean beforeDataDependence) {
        ensureOpen();
        Set<String> all = new java.util.LinkedHashSet<>();
        for (Node n : graph.nodes()) for (String out : n.outputs()) if (!out.isEmpty()) all.add(out);
        try (Plan plan = new Plan(graph, inputShapes, Map.of(), all, new Op.Context(Backend.JAVA, opset), dev.jdnn.graph.Optimizations.none(),
                Limits.DEFAULT, beforeDataDependence)) {
            return plan.shapes();
        }
    }

    /**
     * Floating-point operations of one run for these input shapes, counting what dominates a CNN:
     * convolutions ({@code 2·N·K·C/g·R·S·OH·OW}), Gemm and MatMul ({@code 2·M·N·K}).
     */
    public double flops(Map<String, long[]> inputShapes) {
        Map<String, long[]> shapes = tensorShapes(inputShapes);
        double total = 0;
        for (Node n : graph.nodes()) {
            long[] out = shapes.get(n.outputs().get(0));
            if (out == null) continue;
            switch (n.opType()) {
                case "Conv" -> {
                    long[] w = shapes.get(n.inputs().get(1));
                    double perOutput = 1;
                    for (int i = 1; i < w.length; i++) perOutput *= w[i];
                    total += 2 * perOutput * count(out);
                }
                case "Gemm", "MatMul" -> {
                    long[] a = shapes.get(n.inputs().get(0));
                    long k = n.opType().equals("Gemm") && n.attributes().getInt("transA", 0) == 1 ? a[0] : a[a.length - 1];
                    total += 2.0 * k * count(out);
                }
                default -> { }
            }
        }
        return total;
    }

    private static double count(long[] shape) {
        double c = 1;
        for (long d : shape) c *= d;
        return c;
    }

    /** How many nodes of each operator type the graph has, e.g. {@code Conv=20}. */
    public Map<String, Integer> operatorCounts() {
        ensureOpen();
        Map<String, Integer> counts = new java.util.TreeMap<>();
        for (Node n : graph.nodes()) counts.merge(n.opType(), 1, Integer::sum);
        return counts;
    }

    Graph graph() {
        ensureOpen();
        return graph;
    }

    /**
     * What this model's weights occupy, in bytes. {@code mapped}: float weights that live in the mapped model
     * (or external data) file — page cache, resident only while touched; compiled plans read them in place
     * and give the pages back once they hold their reordered copies. {@code copied}: native copies made of
     * weights that are unaligned in the file, only when something reads them as tensors (the Java backend,
     * node-by-node execution, ops other than convolutions). {@code reordered}: weights in oneDNN kernels'
     * layouts, shared by every session's plans and freed with the last plan that uses them.
     */
    public record WeightBytes(long mapped, long copied, long reordered) {
        /** Native memory the model holds beyond the mapped file: copied plus reordered. */
        public long nativeBytes() {
            return copied + reordered;
        }
    }

    public WeightBytes weightBytes() {
        ensureOpen();
        return new WeightBytes(weights.mappedWeightBytes(), weights.copiedWeightBytes(), reordered.bytes());
    }

    /** Native bytes this model holds (copied and reordered weights; the mapped file is page cache): {@code weightBytes().nativeBytes()}. */
    public long nativeBytes() {
        return weightBytes().nativeBytes();
    }

    /** How long {@link #load} took (map, parse the structure, slice the weights, check operators). */
    public long loadNanos() {
        return loadNanos;
    }

    SharedWeights reorderedWeights() {
        return reordered;
    }

    /** A compiled plan holds its own copies of what it reads from the mapping: give the mapped pages back to the page cache. */
    void releaseMappedPages() {
        if (!closed) weights.unloadMapped();
    }

    void ensureOpen() {
        if (closed) throw new IllegalStateException("model " + source + " is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        graph.constants().values().forEach(v -> {
            if (v instanceof Value.Floats f) f.tensor().close();
        });
        weights.close();
    }

    @Override
    public String toString() {
        return "Model(" + source + ", opset " + opset + ")";
    }

    /** {@code nodes} and, recursively, the nodes of their subgraphs (If's branches, Loop's body): what load-time checks see. */
    private static List<Node> withSubgraphs(List<Node> nodes) {
        List<Node> all = new ArrayList<>();
        for (Node n : nodes) {
            all.add(n);
            for (dev.jdnn.graph.Subgraph g : n.attributes().graphs()) all.addAll(withSubgraphs(g.nodes()));
        }
        return all;
    }
}
