package dev.jdnn;

import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Plan;
import dev.jdnn.graph.Value;
import dev.jdnn.graph.op.Op;
import dev.jdnn.graph.op.Registry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Start-up work that the first plan would otherwise do on the caller's thread, begun on a background
 * thread while the model loads, so that time to first result overlaps the two.
 *
 * <p>In a fresh JVM, preparing the first plan of a model spends much of its time not in oneDNN's kernels
 * but in one-off costs: loading {@code libdnnl.so}, creating the engine, the JVM generating an FFM
 * downcall stub for each oneDNN function the first time its binding class is initialised, and loading the
 * op classes ({@link Registry}). None of these depends on the model, so {@link #start()} (called by
 * {@code Model.load}) runs them on a daemon thread while the caller parses the model file. The results are the same objects the caller would have made:
 * class initialisation and loading the library happen once per JVM whoever gets there first (the
 * other thread waits), so nothing is done twice and nothing depends on which thread wins. A failure here
 * is ignored: the caller meets the same failure, with its usual message, when it needs oneDNN.
 *
 * <p>Off with {@code -Djdnn.warmup=false} (for instance when a JVM only ever uses the Java backend and
 * should not map oneDNN).
 */
final class Warmup {
    static final String PROPERTY = "jdnn.warmup";

    private static final AtomicBoolean STARTED = new AtomicBoolean();

    /**
     * The oneDNN functions every compiled plan of a CNN calls (their jextract holder classes in
     * {@code dnnl_h}): memory descriptors, attributes and post-ops, the common primitives, reorders,
     * execution. A function missing here only loses its head start.
     */
    static final List<String> FUNCTIONS = List.of(
            "dnnl_memory_desc_create_with_tag", "dnnl_memory_desc_get_size", "dnnl_memory_desc_equal",
            "dnnl_memory_desc_clone", "dnnl_memory_desc_destroy",
            "dnnl_primitive_attr_create", "dnnl_primitive_attr_set_scratchpad_mode", "dnnl_primitive_attr_set_post_ops",
            "dnnl_primitive_attr_destroy", "dnnl_post_ops_create", "dnnl_post_ops_append_eltwise",
            "dnnl_post_ops_append_sum", "dnnl_post_ops_destroy",
            "dnnl_convolution_forward_primitive_desc_create", "dnnl_pooling_forward_primitive_desc_create",
            "dnnl_eltwise_forward_primitive_desc_create", "dnnl_inner_product_forward_primitive_desc_create",
            "dnnl_concat_primitive_desc_create", "dnnl_reorder_primitive_desc_create",
            "dnnl_primitive_desc_query", "dnnl_primitive_desc_query_md", "dnnl_primitive_desc_destroy",
            "dnnl_primitive_create", "dnnl_primitive_destroy", "dnnl_primitive_execute",
            "dnnl_memory_create", "dnnl_memory_set_data_handle", "dnnl_memory_destroy",
            "dnnl_stream_create", "dnnl_stream_wait");

    private Warmup() {}

    /** Starts the warm-up once per JVM, unless {@value #PROPERTY} is {@code false}; returns at once. */
    static void start() {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true")) || !STARTED.compareAndSet(false, true)) return;
        Thread.ofPlatform().name("jdnn-warmup").daemon().start(Warmup::run);
    }

    /**
     * Prepares and runs once, with one oneDNN thread, a compiled plan of a tiny CNN made of the layers image
     * classifiers are made of (conv + batch norm + ReLU, concat, batch norm + ReLU, 1×1 conv, max and average
     * pooling, global average pooling, flatten, a Gemm classifier; 1×16×8×8 in, 1×10 out). What the first
     * real plan would do once per JVM happens here, off the caller's thread and while it parses: loading and
     * initialising jdnn's compile-and-run classes, the JVM generating their lambdas and the method-handle
     * classes of the memory accesses and oneDNN calls they make, and interpreting them the first times.
     * (Measured on DenseNet-121 this is ~480 ms of the first plan's preparation; a second plan in the same JVM
     * takes 386 ms against 863.) The tiny plan's own oneDNN kernels take a few milliseconds and are freed.
     */
    static void runTinyPlan() {
        Dnnl.setThreads(1);
        List<Value> constants = new ArrayList<>();
        try {
            Graph graph = tinyCnn(constants);
            try (Plan plan = new Plan(graph, Map.of("x", new long[] {1, 16, 8, 8}), Map.of(), Set.of("y"),
                    new Op.Context(Backend.NATIVE, 13), Optimizations.all(), Limits.DEFAULT);
                 Tensor x = Tensor.zeros(1, 16, 8, 8)) {
                plan.run(Map.of("x", x)).values().forEach(Warmup::free);
            }
        } finally {
            constants.forEach(Warmup::free);
        }
    }

    /** The tiny CNN of {@link #runTinyPlan}, its weights (all 0.01) added to {@code constants} for the caller to free. */
    static Graph tinyCnn(List<Value> constants) {
        Map<String, Value> weights = new LinkedHashMap<>();
        for (Object[] w : new Object[][] {{"w1", new long[] {16, 16, 3, 3}}, {"b1", new long[] {16}}, {"w2", new long[] {16, 32, 1, 1}},
                {"wf", new long[] {10, 16}}, {"bf", new long[] {10}}, {"c16", new long[] {16}}, {"c32", new long[] {32}}}) {
            Value v = new Value.Floats(Tensor.zeros((long[]) w[1]));
            constants.add(v);
            ((Value.Floats) v).tensor().segment().fill((byte) 0x3c);   // 0x3c3c3c3c ≈ 0.0115f
            weights.put((String) w[0], v);
        }
        List<Node> nodes = List.of(
                node("Conv", List.of("x", "w1", "b1"), "c1", Map.of("pads", new long[] {1, 1, 1, 1}, "kernel_shape", new long[] {3, 3})),
                node("BatchNormalization", List.of("c1", "c16", "c16", "c16", "c16"), "n1", Map.of()),
                node("Relu", List.of("n1"), "r1", Map.of()),
                node("Concat", List.of("x", "r1"), "cat", Map.of("axis", 1L)),
                node("BatchNormalization", List.of("cat", "c32", "c32", "c32", "c32"), "n2", Map.of()),
                node("Relu", List.of("n2"), "r2", Map.of()),
                node("Conv", List.of("r2", "w2"), "c2", Map.of("kernel_shape", new long[] {1, 1})),
                node("MaxPool", List.of("c2"), "mp", Map.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})),
                node("AveragePool", List.of("mp"), "ap", Map.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})),
                node("GlobalAveragePool", List.of("ap"), "gap", Map.of()),
                node("Flatten", List.of("gap"), "flat", Map.of("axis", 1L)),
                node("Gemm", List.of("flat", "wf", "bf"), "y", Map.of("transB", 1L)));
        return new Graph(Map.of("x", new long[] {1, 16, 8, 8}), List.of("y"), nodes, weights);
    }

    private static void free(Value v) {
        if (v instanceof Value.Floats f) f.tensor().close();
    }

    private static Node node(String op, List<String> inputs, String output, Map<String, Object> attributes) {
        return new Node(output, op, inputs, List.of(output), new Attributes(attributes));
    }

    private static void run() {
        try {
            Engine.cpu();
            Dnnl.threads();
            Class.forName(Registry.class.getName(), true, Warmup.class.getClassLoader());   // the caller needs it at the end of loading
            for (String function : FUNCTIONS) {
                // Initialising the holder class creates the function's downcall handle (and stub).
                Class.forName("dev.jdnn.bindings.dnnl_h$" + function, true, Warmup.class.getClassLoader());
            }
            runTinyPlan();
        } catch (Throwable e) {
            System.getLogger("dev.jdnn.warmup").log(System.Logger.Level.DEBUG, "warm-up stopped (the first plan will report any real problem): " + e);
        }
    }
}
