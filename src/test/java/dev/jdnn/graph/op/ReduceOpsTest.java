package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.OpModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reductions, ArgMax/ArgMin and TopK. Oracles: ONNX's node tests (those OnnxNodeConformanceTest skips
 * because axes/K arrive as graph inputs, or the data is double, rerun here with axes/K as initializers
 * and float32 data), hand-computed cases, and the opset-12 attribute form (conformance-checked) for the
 * opset-18 input form. Native runs are checked against the Java reference, and the plan must show the
 * oneDNN reduction where one applies.
 */
class ReduceOpsTest {
    static final String[] REDUCE = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
            "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"};

    @TempDir
    Path dir;

    /** The node tests whose axes or K are graph inputs (ReduceSum-13, TopK-10/11) or whose data is double (ReduceLogSumExp). */
    @TestFactory
    Stream<DynamicTest> onnxNodeTestsWithConstantInputs() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(NODE_TESTS), NODE_TESTS + " is absent");
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(NODE_TESTS).sorted()) {
            for (Path d : (Iterable<Path>) dirs::iterator) {
                String name = d.getFileName().toString();
                if (!name.matches("test_(reduce_sum_(?!square).*|reduce_log_sum_exp.*|top_k.*)")) continue;
                tests.add(DynamicTest.dynamicTest(name, () -> assertEquals(3, runNodeTest(dir, name, 0))));
            }
        }
        assertFalse(tests.isEmpty());
        return tests.stream();
    }

    static Tensor sample(long... shape) {
        float[] v = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i * 0.7 + 0.3) * 2 + 0.25f;
        return Tensor.of(v, shape);
    }

    /** Every reduction over several axis sets, keepdims on and off: native (node by node and compiled) = Java. */
    @TestFactory
    Stream<DynamicTest> nativeMatchesJava() {
        List<DynamicTest> tests = new ArrayList<>();
        long[][] axesSets = {{1}, {2, 3}, {0, 3}, {-1}, {}};
        for (String op : REDUCE) {
            for (long[] axes : axesSets) {
                for (long keep : new long[] {1, 0}) {
                    tests.add(DynamicTest.dynamicTest(op + " axes " + java.util.Arrays.toString(axes) + " keepdims " + keep, () -> {
                        Path model = axes.length == 0
                                ? oneNode(dir, 12, op, new long[] {2, 3, 4, 5}, List.of(), 1, attr("keepdims", keep))
                                : oneNode(dir, 12, op, new long[] {2, 3, 4, 5}, List.of(), 1, ints("axes", axes), attr("keepdims", keep));
                        try (Tensor x = op.equals("ReduceLogSum") ? positive(sample(2, 3, 4, 5)) : sample(2, 3, 4, 5)) {
                            compareConfigs(model, x, "y0", 1e-5);
                        }
                        String plan = explain(model, Map.of("x", new long[] {2, 3, 4, 5}), List.of("y0"));
                        boolean rank0 = axes.length == 0 && keep == 0;
                        if (!op.equals("ReduceLogSumExp") && !rank0) assertTrue(plan.contains("reduction"), plan);
                    }));
                }
            }
        }
        return tests.stream();
    }

    static Tensor positive(Tensor t) {
        float[] v = t.toArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.abs(v[i]) + 0.1f;
        t.close();
        return Tensor.of(v, t.shape());
    }

    static void compareConfigs(Path model, Tensor x, String output, double tolerance) {
        Map<String, Tensor> out = outputs(model, x, output);
        try {
            Tensor java = out.get("JAVA");
            for (Map.Entry<String, Tensor> e : out.entrySet()) {
                assertArrayEquals(java.shape(), e.getValue().shape(), e.getKey() + " shape");
                float[] want = java.toArray(), got = e.getValue().toArray();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], tolerance * Math.max(1, Math.abs(want[i])), e.getKey() + " [" + i + "]");
                }
            }
        } finally {
            out.values().forEach(Tensor::close);
        }
    }

    /** MNASNet's head: Conv (blocked/NHWC output) → ReduceMean over H, W; the reduction reads the conv's layout. */
    @ParameterizedTest
    @ValueSource(longs = {0, 1})
    void globalMeanAfterConvRunsNatively(long keep) throws IOException {
        float[] w = new float[16 * 8 * 3 * 3];
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.cos(i * 0.37) * 0.2f;
        GraphProto g = GraphProto.newBuilder().addInput(value("x", 1, 1, 8, 14, 14))
                .addInitializer(floats("w", w, 16, 8, 3, 3))
                .addNode(node("Conv", List.of("x", "w"), List.of("c"), ints("pads", 1, 1, 1, 1)))
                .addNode(node("Relu", List.of("c"), List.of("r")))
                .addNode(node("ReduceMean", List.of("r"), List.of("y"), ints("axes", 2, 3), attr("keepdims", keep)))
                .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
        Path model = write(dir, "mean.onnx", 13, g);
        try (Tensor x = sample(1, 8, 14, 14)) {
            compareConfigs(model, x, "y", 1e-5);
        }
        String plan = explain(model, Map.of("x", new long[] {1, 8, 14, 14}), List.of("y"));
        assertTrue(plan.contains("reduction mean"), plan);
    }

    /** Opset 18: axes as an input equals the opset-12 attribute form for every reduction; an empty axes input with noop passes through the element-wise part. */
    @TestFactory
    Stream<DynamicTest> axesInputAtOpset18() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String op : REDUCE) {
            tests.add(DynamicTest.dynamicTest(op, () -> {
                Path attrForm = oneNode(dir, 12, op, new long[] {3, 4, 5}, List.of(), 1, ints("axes", 0, -1), attr("keepdims", 0L));
                Files.move(attrForm, dir.resolve("attr.onnx"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Path inputForm = oneNode(dir, 18, op, new long[] {3, 4, 5}, List.of(longs("axes", new long[] {0, -1}, 2)), 1, attr("keepdims", 0L));
                try (Tensor x = positive(sample(3, 4, 5))) {
                    Map<String, Tensor> a = outputs(dir.resolve("attr.onnx"), x, "y0"), b = outputs(inputForm, x, "y0");
                    for (String config : a.keySet()) {
                        assertArrayEquals(a.get(config).shape(), b.get(config).shape(), config);
                        assertArrayEquals(a.get(config).toArray(), b.get(config).toArray(), 1e-6f, config);
                    }
                    a.values().forEach(Tensor::close);
                    b.values().forEach(Tensor::close);
                }
            }));
        }
        return tests.stream();
    }

    @Test
    void noopWithEmptyAxesAppliesTheElementwisePart() throws IOException {
        float[] v = {1, -2, 3, 0.5f};
        Object[][] cases = {
                {"ReduceSumSquare", 18, new float[] {1, 4, 9, 0.25f}},
                {"ReduceL1", 18, new float[] {1, 2, 3, 0.5f}},
                {"ReduceMax", 18, v},
                {"ReduceSum", 13, v},
        };
        for (Object[] c : cases) {
            String op = (String) c[0];
            Path model = oneNode(dir, (int) c[1], op, new long[] {2, 2}, List.of(longs("axes", new long[0], 0)), 1, attr("noop_with_empty_axes", 1L));
            try (Tensor x = Tensor.of(v, 2, 2)) {
                for (Map.Entry<String, Tensor> e : outputs(model, x, "y0").entrySet()) {
                    assertArrayEquals(new long[] {2, 2}, e.getValue().shape(), op + " " + e.getKey());
                    assertArrayEquals((float[]) c[2], e.getValue().toArray(), 0f, op + " " + e.getKey());
                    e.getValue().close();
                }
            }
            // Without noop, empty axes reduce everything.
            model = oneNode(dir, (int) c[1], op, new long[] {2, 2}, List.of(longs("axes", new long[0], 0)), 1);
            try (Tensor x = Tensor.of(v, 2, 2)) {
                for (Tensor t : outputs(model, x, "y0").values()) {
                    assertArrayEquals(new long[] {1, 1}, t.shape(), op);
                    t.close();
                }
            }
        }
    }

    /** int64 and int32 data: Sum, Prod, Max, Min hand-computed (int32 wraps as the type does). */
    @Test
    void integerReductions() throws IOException {
        long[] data = {3, -7, 2, 5, 1_500_000_000, 1_000_000_000};
        Object[][] cases = {
                {"ReduceSum", DataType.INT64, new long[] {-2, 2_500_000_005L}},
                {"ReduceSum", DataType.INT32, new long[] {-2, (int) 2_500_000_005L}},
                {"ReduceProd", DataType.INT64, new long[] {-42, 5 * 1_500_000_000L * 1_000_000_000L}},
                {"ReduceMax", DataType.INT64, new long[] {3, 1_500_000_000}},
                {"ReduceMin", DataType.INT32, new long[] {-7, 5}},
        };
        for (Object[] c : cases) {
            DataType type = (DataType) c[1];
            GraphProto g = GraphProto.newBuilder().addInput(value("x", type.onnxCode(), 2, 3))
                    .addNode(node((String) c[0], List.of("x"), List.of("y"), ints("axes", 1L), attr("keepdims", 0L)))
                    .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
            Path model = write(dir, "int.onnx", 12, g);
            try (Tensor x = Tensor.ofLongs(data, type, 2, 3)) {
                for (Map.Entry<String, Tensor> e : outputs(model, x, "y").entrySet()) {
                    assertEquals(type, e.getValue().dtype(), c[0] + " " + type + " " + e.getKey());
                    assertArrayEquals((long[]) c[2], e.getValue().toLongArray(), c[0] + " " + type + " " + e.getKey());
                    e.getValue().close();
                }
            }
        }
    }

    @Test
    void argMaxTiesNaNAndSelectLastIndex() throws IOException {
        float[] v = {1, 5, 5, 2, Float.NaN, 3, 9, 9, 0};
        Object[][] cases = {
                {"ArgMax", 0L, new long[] {1, 1, 0}},
                {"ArgMax", 1L, new long[] {2, 1, 1}},
                {"ArgMin", 0L, new long[] {0, 1, 2}},
                {"ArgMin", 1L, new long[] {0, 1, 2}},
        };
        for (Object[] c : cases) {
            Path model = oneNode(dir, 13, (String) c[0], new long[] {3, 3}, List.of(), 1, attr("axis", 1L), attr("keepdims", 0L),
                    attr("select_last_index", (long) c[1]));
            try (Tensor x = Tensor.of(v, 3, 3)) {
                for (Map.Entry<String, Tensor> e : outputs(model, x, "y0").entrySet()) {
                    assertEquals(DataType.INT64, e.getValue().dtype());
                    assertArrayEquals((long[]) c[2], e.getValue().toLongArray(), c[0] + " last " + c[1] + " " + e.getKey());
                    e.getValue().close();
                }
            }
        }
    }

    /** TopK: equal values keep the lower index first; the attribute form before opset 10; smallest. */
    @Test
    void topKTiesAndForms() throws IOException {
        float[] v = {4, 7, 7, 1, 7, 0};
        try (Tensor x = Tensor.of(v, 1, 6)) {
            Path m10 = oneNode(dir, 11, "TopK", new long[] {1, 6}, List.of(longs("k", new long[] {3}, 1)), 2);
            checkTopK(m10, x, new float[] {7, 7, 7}, new long[] {1, 2, 4});
            Path m7 = oneNode(dir, 7, "TopK", new long[] {1, 6}, List.of(), 2, attr("k", 2L));
            checkTopK(m7, x, new float[] {7, 7}, new long[] {1, 2});
            Path small = oneNode(dir, 11, "TopK", new long[] {1, 6}, List.of(longs("k", new long[] {4}, 1)), 2, attr("largest", 0L));
            checkTopK(small, x, new float[] {0, 1, 4, 7}, new long[] {5, 3, 0, 1});
        }
    }

    private static void checkTopK(Path model, Tensor x, float[] values, long[] indices) {
        Map<String, Result> results = runAll(model, Map.of("x", x), List.of("y0", "y1"));
        for (Map.Entry<String, Result> e : results.entrySet()) {
            try (Result r = e.getValue()) {
                assertArrayEquals(values, r.get("y0").toArray(), 0f, e.getKey());
                assertArrayEquals(indices, r.get("y1").toLongArray(), e.getKey());
            }
        }
    }

    // ---- errors ----

    private String loadError(Path model, long[] shape) {
        try (Model m = Model.load(model); Session s = m.session(Session.Options.defaults());
             Tensor x = Tensor.zeros(shape)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x)).close());
            return e.getMessage();
        }
    }

    @Test
    void badAxesAreRefusedNamingTheNode() throws IOException {
        long[] s = {2, 3};
        String m = loadError(oneNode(dir, 13, "ReduceMean", s, List.of(), 1, ints("axes", 2L)), s);
        assertTrue(m.contains("ReduceMean") && m.contains("axis 2 is out of range for rank 2"), m);
        m = loadError(oneNode(dir, 13, "ReduceMax", s, List.of(), 1, ints("axes", 1, -1)), s);
        assertTrue(m.contains("names axis 1 twice"), m);
        m = loadError(oneNode(dir, 13, "ReduceSum", s, List.of(longs("axes", new long[] {-3}, 1)), 1), s);
        assertTrue(m.contains("axis -3 is out of range"), m);
        m = loadError(oneNode(dir, 13, "ReduceMean", s, List.of(), 1, attr("keepdims", 2L)), s);
        assertTrue(m.contains("keepdims must be 0 or 1, got 2"), m);
        m = loadError(oneNode(dir, 18, "ReduceMean", s, List.of(), 1, ints("axes", 1L)), s);
        assertTrue(m.contains("axes is an input from opset 18"), m);
        m = loadError(oneNode(dir, 13, "ReduceMean", s, List.of(), 1, attr("noop_with_empty_axes", 1L)), s);
        assertTrue(m.contains("noop_with_empty_axes exists from opset 18"), m);
        m = loadError(oneNode(dir, 13, "ArgMax", s, List.of(), 1, attr("axis", -3L)), s);
        assertTrue(m.contains("ArgMax") && m.contains("axis -3 is out of range for rank 2"), m);
        m = loadError(oneNode(dir, 11, "TopK", s, List.of(longs("k", new long[] {4}, 1)), 2), s);
        assertTrue(m.contains("k 4 is out of range"), m);
    }

    @Test
    void unsupportedIntegerReductionIsDeclared() throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(value("x", 7, 2, 2))
                .addNode(node("ReduceL2", List.of("x"), List.of("y")))
                .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
        Path model = write(dir, "l2int.onnx", 13, g);
        try (Model m = Model.load(model); Session s = m.session(Session.Options.defaults());
             Tensor x = Tensor.ofLongs(new long[] {1, 2, 3, 4}, DataType.INT64, 2, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x)).close());
            assertTrue(e.getMessage().contains("int64 is not supported for ReduceL2"), e.getMessage());
        }
    }
}
