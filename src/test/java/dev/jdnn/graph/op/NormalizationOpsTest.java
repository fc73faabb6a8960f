package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.OpModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Plan;
import dev.jdnn.graph.Value;
import dev.jdnn.graph.rewrite.LayerNormPattern;
import dev.jdnn.onnx.OnnxLoader;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LayerNormalization (and the decomposed form the LayerNormPattern rewrite folds into it),
 * InstanceNormalization, GroupNormalization (opsets 18 and 21), LpNormalization. Oracles: PyTorch
 * (src/test/python/gen_normalization_fixtures.py), ONNX's node tests, and for the rewrite the same
 * graph run unrewritten on Java (requesting an intermediate tensor keeps the chain as exported).
 */
class NormalizationOpsTest {
    static final Path FIX = Fixtures.ROOT.resolve("normalization");

    @TempDir
    Path dir;

    static TensorProto fixture(String name, String file) {
        try (Tensor t = Fixtures.tensor(FIX.resolve(file + ".npy"))) {
            return floats(name, t.toArray(), t.shape());
        }
    }

    /** Runs the one-input model on every configuration and compares output y0 with the fixture. */
    private void againstTorch(Path model, String input, String expected, double tolerance) {
        try (Tensor x = Fixtures.tensor(FIX.resolve(input + ".npy"))) {
            float[] want = Fixtures.array(FIX.resolve(expected + ".npy"));
            for (Map.Entry<String, Tensor> e : outputs(model, x, "y0").entrySet()) {
                try (Tensor got = e.getValue()) {
                    assertArrayEquals(x.shape(), got.shape(), e.getKey());
                    Fixtures.assertClose(want, got.toArray(), tolerance, expected + " on " + e.getKey());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {18, 21})
    void groupNormalizationMatchesTorch(int opset) throws IOException {
        String per = opset == 18 ? "g" : "c";
        Path model = oneNode(dir, opset, "GroupNormalization", new long[] {2, 6, 3, 2},
                List.of(fixture("scale", "gn_scale_" + per), fixture("bias", "gn_bias_" + per)), 1,
                attr("num_groups", 3L), attr("epsilon", 1e-3f));
        againstTorch(model, "gn_x", "gn" + opset + "_y", 1e-5);
    }

    @Test
    void instanceNormalizationMatchesTorchAndOnnx() throws IOException {
        Path model = oneNode(dir, 7, "InstanceNormalization", new long[] {2, 3, 4, 5},
                List.of(fixture("scale", "in_scale"), fixture("bias", "in_bias")), 1);
        againstTorch(model, "in_x", "in_y", 1e-5);
        Assumptions.assumeTrue(Files.isDirectory(NODE_TESTS), NODE_TESTS + " is absent");
        // ONNX's own tests are at opset 6 (below jdnn's 7); InstanceNormalization is the same op at 7.
        for (String name : List.of("test_instancenorm_example", "test_instancenorm_epsilon")) assertEquals(3, runNodeTest(dir, name, 7), name);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2})
    void lpNormalizationMatchesTorch(long p) throws IOException {
        Path model = oneNode(dir, 13, "LpNormalization", new long[] {2, 5, 3}, List.of(), 1, attr("axis", 1L), attr("p", p));
        againstTorch(model, "lp_x", "lp" + p + "_y", 1e-6);
        // A zero slice normalises to zeros (not NaN).
        Path last = oneNode(dir, 13, "LpNormalization", new long[] {2, 2}, List.of(), 1, attr("p", p));
        try (Tensor x = Tensor.of(new float[] {0, 0, 3, -4}, 2, 2)) {
            for (Tensor t : outputs(last, x, "y0").values()) {
                try (t) {
                    assertArrayEquals(p == 2 ? new float[] {0, 0, 0.6f, -0.8f} : new float[] {0, 0, 3 / 7f, -4 / 7f}, t.toArray(), 1e-7f);
                }
            }
        }
    }

    static Tensor sample(long... shape) {
        float[] v = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i * 0.9 + 0.2) * 3 + (i % 5) * 0.5f;
        return Tensor.of(v, shape);
    }

    static float[] ramp(int n, float from, float step) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = from + i * step;
        return v;
    }

    /** LayerNormalization native (oneDNN on the 2-D view) against Java, for several axes and Scale/B shapes; the plan shows the primitive. */
    @Test
    void layerNormalizationNativeMatchesJava() throws IOException {
        long[] x = {2, 4, 8};
        Object[][] cases = {   // axis, Scale shape, B shape (null: omitted)
                {-1L, new long[] {8}, new long[] {8}},
                {1L, new long[] {4, 8}, new long[] {8}},
                {-1L, new long[] {1, 8}, null},
                {0L, new long[] {2, 4, 8}, new long[] {4, 1}},
        };
        for (Object[] c : cases) {
            long axis = (long) c[0];
            long[] s = (long[]) c[1], b = (long[]) c[2];
            List<TensorProto> inits = new ArrayList<>();
            inits.add(floats("scale", ramp((int) Tensor.elementCount(s), 0.5f, 0.1f), s));
            if (b != null) inits.add(floats("bias", ramp((int) Tensor.elementCount(b), -1f, 0.3f), b));
            Path model = oneNode(dir, 17, "LayerNormalization", x, inits, 1, attr("axis", axis), attr("epsilon", 1e-3f));
            try (Tensor in = sample(x)) {
                ReduceOpsTest.compareConfigs(model, in, "y0", 1e-5);
            }
            String plan = explain(model, Map.of("x", x), List.of("y0"));
            assertTrue(plan.contains("layer normalization"), plan);
        }
    }

    /** Mean and InvStdDev requested: computed on Java (oneDNN's primitive has one output here), same on every configuration. */
    @Test
    void layerNormalizationStatisticsOutputs() throws IOException {
        Path model = oneNode(dir, 17, "LayerNormalization", new long[] {3, 4}, List.of(floats("scale", ramp(4, 1, 0), 4)), 3);
        try (Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 0, 0, 0, 0, -1, 1, -1, 1}, 3, 4)) {
            Map<String, Result> results = runAll(model, Map.of("x", x), List.of("y0", "y1", "y2"));
            for (Map.Entry<String, Result> e : results.entrySet()) {
                try (Result r = e.getValue()) {
                    assertArrayEquals(new long[] {3, 1}, r.get("y1").shape(), e.getKey());
                    assertArrayEquals(new float[] {2.5f, 0, 0}, r.get("y1").toArray(), 1e-6f, e.getKey());
                    float[] inv = r.get("y2").toArray();
                    assertEquals(1 / Math.sqrt(1.25 + 1e-5), inv[0], 1e-5, e.getKey());
                    assertEquals(1 / Math.sqrt(1e-5), inv[1], 1e-2, e.getKey());
                    assertEquals(1 / Math.sqrt(1 + 1e-5), inv[2], 1e-5, e.getKey());
                }
            }
        }
    }

    // ---- the decomposed LayerNorm rewrite ----

    /** The unrewritten chains need Pow and Sqrt (another op family); until they are registered these tests cannot load the models. */
    private static void assumeChainOps() {
        Assumptions.assumeTrue(Registry.knows("Pow") && Registry.knows("Sqrt"), "Pow/Sqrt not registered on this branch");
    }

    /**
     * The rewrite on torch's export itself (no Pow/Sqrt needed): both chains become jdnn.LayerNormalization
     * nodes with torch's axes, ε, γ and β, their Constant nodes go, and the rewritten graph matches PyTorch
     * on Java and compiled native; keeping an intermediate tensor leaves its chain alone.
     */
    @Test
    void rewriteReplacesTorchChainsWithLayerNormalization() {
        OnnxLoader.Loaded loaded = OnnxLoader.load(FIX.resolve("ln_lastdim.onnx"));
        Graph g = loaded.graph();
        try {
            Graph r = new LayerNormPattern().apply(g, Set.of("y"));
            assertEquals(List.of("jdnn.LayerNormalization", "jdnn.LayerNormalization"), r.nodes().stream().map(Node::opType).toList());
            Node first = r.nodes().get(0), second = r.nodes().get(1);
            assertEquals(List.of("x", "ln.weight", "ln.bias"), first.inputs());
            assertEquals(-1, first.attributes().getInt("axis", 0));
            assertEquals(1e-5f, first.attributes().getFloat("epsilon", 0));
            assertEquals(List.of(first.outputs().get(0)), second.inputs());
            assertEquals(-2, second.attributes().getInt("axis", 0));
            assertEquals(1e-3f, second.attributes().getFloat("epsilon", 0));
            assertEquals(List.of("y"), second.outputs());
            // A kept intermediate: the first chain (11 nodes with its two Constants) stays as exported.
            Graph kept = new LayerNormPattern().apply(g, Set.of("y", "/ln/Sub_output_0"));
            assertEquals(12, kept.nodes().size());
            assertEquals("jdnn.LayerNormalization", kept.nodes().get(11).opType());

            float[] want = Fixtures.array(FIX.resolve("ln_lastdim_y.npy"));
            try (Tensor x = Fixtures.tensor(FIX.resolve("ln_lastdim_x.npy"))) {
                for (Map.Entry<String, Session.Options> c : CONFIGS.entrySet()) {
                    Op.Context ctx = new Op.Context(c.getValue().backend(), loaded.opset());
                    try (Plan plan = new Plan(r, Map.of("x", x.shape()), Set.of("y"), ctx, c.getValue().optimizations())) {
                        Value y = plan.run(Map.of("x", x)).get("y");
                        try (Tensor t = ((Value.Floats) y).tensor()) {
                            Fixtures.assertClose(want, t.toArray(), 1e-4, "rewritten torch LayerNorm on " + c.getKey());
                        }
                        if (c.getKey().equals("NATIVE compiled")) {
                            assertEquals(2, plan.explain().stream().filter(l -> l.contains("layer normalization")).count(), String.join("\n", plan.explain()));
                        }
                    }
                }
            }
        } finally {
            loaded.release();
        }
    }

    /** torch 1.13's opset-13 export of nn.LayerNorm (affine over the last dim, then plain over the last two). */
    @Test
    void torchDecomposedLayerNormIsRewrittenAndMatchesTorch() {
        assumeChainOps();
        Path model = FIX.resolve("ln_lastdim.onnx");
        checkRewrite(model, "ln_lastdim", new long[] {2, 4, 8}, 2, "/ln/Sub_output_0");
    }

    /** ConvNeXt's LayerNorm2d: Conv → Transpose to channels-last → decomposed LayerNorm(C) → Transpose back. */
    @Test
    void convNextLayerNormIsRewrittenAndMatchesTorch() {
        assumeChainOps();
        checkRewrite(FIX.resolve("ln_convnext.onnx"), "ln_convnext", new long[] {1, 8, 5, 6}, 1, "/ln/Sub_output_0");
    }

    /**
     * Runs {@code model} (input x, output y) on every configuration against PyTorch; the compiled native plan must
     * hold {@code rewrites} oneDNN layer normalisations; and with {@code tap} requested the first chain stays
     * as exported (no rewrite), and its Java result equals the rewritten one.
     */
    private void checkRewrite(Path model, String fixture, long[] shape, int rewrites, String tap) {
        float[] want = Fixtures.array(FIX.resolve(fixture + "_y.npy"));
        try (Tensor x = Fixtures.tensor(FIX.resolve(fixture + "_x.npy"))) {
            Map<String, Result> results = runAll(model, Map.of("x", x), List.of("y"));
            for (Map.Entry<String, Result> e : results.entrySet()) {
                try (Result r = e.getValue()) {
                    Fixtures.assertClose(want, r.get("y").toArray(), 1e-4, fixture + " on " + e.getKey());
                }
            }
            String plan = explain(model, Map.of("x", shape), List.of("y"));
            assertEquals(rewrites, plan.lines().filter(l -> l.contains("layer normalization")).count(), plan);
            String tapped = explain(model, Map.of("x", shape), List.of("y", tap));
            assertEquals(rewrites - 1, tapped.lines().filter(l -> l.contains("layer normalization")).count(), tapped);
            try (Model m = Model.load(model);
                 Session java = m.session(Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()));
                 Result rewritten = java.run(Map.of("x", x), List.of("y"));
                 Result unrewritten = java.run(Map.of("x", x), List.of("y", tap))) {
                Fixtures.assertClose(unrewritten.get("y").toArray(), rewritten.get("y").toArray(), 1e-5, fixture + " rewritten vs unrewritten (Java)");
            }
        }
    }

    /**
     * The opset-18 spelling: axes as constant inputs over the two trailing dims, the square as Mul(d, d), ε on the
     * left of the Add, γ on the left of the Mul, no β; rewritten, and equal to the unrewritten Java run.
     */
    @Test
    void opset18DecomposedLayerNormWithAxesInputs() throws IOException {
        assumeChainOps();
        long[] shape = {2, 3, 4, 5};
        GraphProto g = GraphProto.newBuilder().addInput(value("x", 1, shape))
                .addInitializer(longs("axes", new long[] {-2, -1}, 2))
                .addInitializer(floats("eps", new float[] {1e-4f}))
                .addInitializer(floats("gamma", ramp(20, 0.2f, 0.05f), 4, 5))
                .addNode(node("ReduceMean", List.of("x", "axes"), List.of("m")))
                .addNode(node("Sub", List.of("x", "m"), List.of("d")))
                .addNode(node("Mul", List.of("d", "d"), List.of("sq")))
                .addNode(node("ReduceMean", List.of("sq", "axes"), List.of("v")))
                .addNode(node("Add", List.of("eps", "v"), List.of("ve")))
                .addNode(node("Sqrt", List.of("ve"), List.of("s")))
                .addNode(node("Div", List.of("d", "s"), List.of("n")))
                .addNode(node("Mul", List.of("gamma", "n"), List.of("y")))
                .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
        Path model = write(dir, "ln18.onnx", 18, g);
        String plan = explain(model, Map.of("x", shape), List.of("y"));
        assertTrue(plan.contains("layer normalization"), plan);
        try (Tensor x = sample(shape);
             Model m = Model.load(model);
             Session java = m.session(Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()));
             Result unrewritten = java.run(Map.of("x", x), List.of("y", "d"))) {
            float[] want = unrewritten.get("y").toArray();
            Map<String, Result> results = runAll(model, Map.of("x", x), List.of("y"));
            for (Map.Entry<String, Result> e : results.entrySet()) {
                try (Result r = e.getValue()) {
                    Fixtures.assertClose(want, r.get("y").toArray(), 1e-5, "opset 18 chain on " + e.getKey());
                }
            }
        }
    }

    /** A chain over non-trailing axes, or whose mean feeds something else, is left alone (and still runs). */
    @Test
    void nonMatchingChainsAreLeftAlone() throws IOException {
        assumeChainOps();
        long[] shape = {2, 3, 4};
        GraphProto g = GraphProto.newBuilder().addInput(value("x", 1, shape))
                .addInitializer(floats("two", new float[] {2}))
                .addInitializer(floats("eps", new float[] {1e-5f}))
                .addNode(node("ReduceMean", List.of("x"), List.of("m"), ints("axes", 1)))
                .addNode(node("Sub", List.of("x", "m"), List.of("d")))
                .addNode(node("Pow", List.of("d", "two"), List.of("sq")))
                .addNode(node("ReduceMean", List.of("sq"), List.of("v"), ints("axes", 1)))
                .addNode(node("Add", List.of("v", "eps"), List.of("ve")))
                .addNode(node("Sqrt", List.of("ve"), List.of("s")))
                .addNode(node("Div", List.of("d", "s"), List.of("y")))
                .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
        Path model = write(dir, "axis1.onnx", 13, g);
        String plan = explain(model, Map.of("x", shape), List.of("y"));
        assertFalse(plan.contains("layer normalization"), plan);
        try (Tensor x = sample(shape)) {
            ReduceOpsTest.compareConfigs(model, x, "y", 1e-5);
        }
    }

    // ---- errors ----

    private String runError(Path model, long[] shape) {
        try (Model m = Model.load(model); Session s = m.session(Session.Options.defaults()); Tensor x = Tensor.zeros(shape)) {
            return assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x)).close()).getMessage();
        }
    }

    @Test
    void badAttributesAreRefusedNamingTheNode() throws IOException {
        long[] s = {2, 6, 3};
        List<TensorProto> six = List.of(floats("scale", ramp(6, 1, 0), 6), floats("bias", ramp(6, 0, 0), 6));
        String m = runError(oneNode(dir, 17, "LayerNormalization", s, List.of(floats("scale", ramp(3, 1, 0), 3)), 1, attr("axis", 3L)), s);
        assertTrue(m.contains("LayerNormalization") && m.contains("axis 3 is out of range for rank 3"), m);
        m = runError(oneNode(dir, 17, "LayerNormalization", s, List.of(floats("scale", ramp(3, 1, 0), 3)), 1, attr("stash_type", 11L)), s);
        assertTrue(m.contains("stash_type 11 is not supported"), m);
        m = runError(oneNode(dir, 17, "LayerNormalization", s, List.of(floats("scale", ramp(4, 1, 0), 4)), 1), s);
        assertTrue(m.contains("cannot be broadcast") || m.contains("does not broadcast"), m);
        m = runError(oneNode(dir, 21, "GroupNormalization", s, six, 1, attr("num_groups", 4L)), s);
        assertTrue(m.contains("GroupNormalization") && m.contains("num_groups 4 must be >= 1 and divide the 6 channels"), m);
        m = runError(oneNode(dir, 18, "GroupNormalization", s, six, 1, attr("num_groups", 3L)), s);
        assertTrue(m.contains("scale [6] must have 3 values (one per group at opset 18)"), m);
        m = runError(oneNode(dir, 21, "GroupNormalization", s, six, 1), s);
        assertTrue(m.contains("num_groups is required"), m);
        m = runError(oneNode(dir, 13, "LpNormalization", s, List.of(), 1, attr("p", 3L)), s);
        assertTrue(m.contains("LpNormalization") && m.contains("p must be 1 or 2, got 3"), m);
        m = runError(oneNode(dir, 7, "InstanceNormalization", s, List.of(floats("scale", ramp(2, 1, 0), 2), floats("bias", ramp(6, 0, 0), 6)), 1), s);
        assertTrue(m.contains("scale [2] must have 6 values"), m);
    }
}
