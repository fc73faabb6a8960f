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
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * GridSample, MaxUnpool, CumSum and MeanVarianceNormalization on the three configurations against PyTorch
 * (src/test/python/gen_spatial_fixtures.py, fixtures in src/test/resources/fixtures/spatial): F.grid_sample
 * exported at opset 16 for every mode × padding_mode × align_corners, and its 5-D form as a GridSample-20
 * node; MaxPool(Indices) → MaxUnpool against torch's max_unpool2d; CumSum along every axis, reversed and
 * exclusive, in float32, int32 and int64, and DETR's position embedding as torch exports it; MVN against
 * the ONNX function body in float64. ONNX's own node tests run in OnnxNodeConformanceTest.
 */
class SpatialOpsTest {
    static final Path FIX = Fixtures.ROOT.resolve("spatial");

    @TempDir
    Path dir;

    static List<String[]> cases(String kind) throws IOException {
        List<String[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(FIX.resolve("cases.txt"))) {
            String[] f = line.trim().split(" ");
            if (f[0].equals(kind)) out.add(f);
        }
        assertFalse(out.isEmpty(), "no " + kind + " cases in cases.txt");
        return out;
    }

    static Tensor npy(String name) {
        return Fixtures.tensor(FIX.resolve(name + ".npy"));
    }

    /** Runs {@code model} on every configuration and compares output y with the fixture {@code expected}. */
    static void againstTorch(Path model, Map<String, Tensor> inputs, String expected, double tolerance) {
        try (Tensor want = npy(expected)) {
            for (Map.Entry<String, Result> r : runAll(model, inputs, List.of("y")).entrySet()) {
                try (Result result = r.getValue()) {
                    Tensor got = result.get("y");
                    String what = expected + " on " + r.getKey();
                    assertArrayEquals(want.shape(), got.shape(), what + " shape");
                    assertEquals(want.dtype(), got.dtype(), what + " type");
                    if (want.dtype().isFloat()) Fixtures.assertClose(want.toArray(), got.toArray(), tolerance, what);
                    else assertArrayEquals(want.toLongArray(), got.toLongArray(), what);
                }
            }
        }
    }

    // ---- GridSample ----

    @TestFactory
    Stream<DynamicTest> gridSampleMatchesTorch() throws IOException {
        return cases("grid").stream().map(c -> DynamicTest.dynamicTest(c[1], () -> {
            try (Tensor x = npy("grid_" + c[2] + "_x"); Tensor grid = npy("grid_" + c[2] + "_grid")) {
                // nearest picks one input element: it must be that element exactly (rounding ties included).
                againstTorch(FIX.resolve(c[1] + ".onnx"), Map.of("x", x, "grid", grid), c[1] + "_y", c[1].contains("nearest") ? 0 : 2e-6);
            }
        }));
    }

    static Path gridSample(Path dir, int opset, long[] x, long[] grid, AttributeProto... attrs) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(value("x", 1, x)).addInput(value("grid", 1, grid))
                .addNode(node("GridSample", List.of("x", "grid"), List.of("y"), attrs))
                .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
        return write(dir, "gridsample" + opset + ".onnx", opset, g);
    }

    @TestFactory
    Stream<DynamicTest> gridSample5dMatchesTorch() throws IOException {
        return cases("grid3d").stream().map(c -> DynamicTest.dynamicTest(c[1], () -> {
            try (Tensor x = npy("grid3d_random_x"); Tensor grid = npy("grid3d_random_grid")) {
                Path m = gridSample(dir, 20, x.shape(), grid.shape(), TinyModels.attr("mode", c[2]), TinyModels.attr("padding_mode", c[3]),
                        attr("align_corners", Long.parseLong(c[4])));
                againstTorch(m, Map.of("x", x, "grid", grid), c[1] + "_y", c[2].equals("nearest") ? 0 : 2e-6);
            }
        }));
    }

    @Test
    void gridSampleOpset20NamesTheModesAnew() throws IOException {
        // linear at 20 is bilinear at 16: same fixture, node built at opset 20.
        try (Tensor x = npy("grid_random_x"); Tensor grid = npy("grid_random_grid")) {
            Path m = gridSample(dir, 20, x.shape(), grid.shape(), TinyModels.attr("mode", "cubic"), TinyModels.attr("padding_mode", "border"));
            againstTorch(m, Map.of("x", x, "grid", grid), "grid_random_bicubic_border_ac0_y", 2e-6);
            m = gridSample(dir, 20, x.shape(), grid.shape());
            againstTorch(m, Map.of("x", x, "grid", grid), "grid_random_bilinear_zeros_ac0_y", 2e-6);
        }
    }

    private String prepareError(Path model, Map<String, long[]> shapes) {
        try (Model m = Model.load(model); Session s = m.session(Session.Options.defaults())) {
            return assertThrows(IllegalArgumentException.class, () -> s.explain(shapes, List.of("y"))).getMessage();
        }
    }

    @Test
    void gridSampleRefusesWhatItDoesNotRun() throws IOException {
        long[] x4 = {1, 2, 3, 4}, g4 = {1, 5, 6, 2}, x5 = {1, 2, 3, 4, 5}, g5 = {1, 2, 3, 4, 3};
        String m = prepareError(gridSample(dir, 16, x4, g4, TinyModels.attr("mode", "linear")), Map.of("x", x4, "grid", g4));
        assertTrue(m.contains("GridSample node") && m.contains("mode 'linear' is not one of bilinear, nearest, bicubic"), m);
        m = prepareError(gridSample(dir, 20, x4, g4, TinyModels.attr("mode", "bilinear")), Map.of("x", x4, "grid", g4));
        assertTrue(m.contains("mode 'bilinear' is not one of linear, nearest, cubic"), m);
        m = prepareError(gridSample(dir, 16, x4, g4, TinyModels.attr("padding_mode", "wrap")), Map.of("x", x4, "grid", g4));
        assertTrue(m.contains("padding_mode 'wrap'"), m);
        m = prepareError(gridSample(dir, 16, x4, g4, attr("align_corners", 2L)), Map.of("x", x4, "grid", g4));
        assertTrue(m.contains("align_corners 2 must be 0 or 1"), m);
        m = prepareError(gridSample(dir, 16, x5, g5), Map.of("x", x5, "grid", g5));
        assertTrue(m.contains("5-D") && m.contains("opset 20"), m);
        m = prepareError(gridSample(dir, 20, x5, g5, TinyModels.attr("mode", "cubic")), Map.of("x", x5, "grid", g5));
        assertTrue(m.contains("cubic mode on 5-D"), m);
        long[] bad = {1, 5, 6, 3};
        m = prepareError(gridSample(dir, 16, x4, bad), Map.of("x", x4, "grid", bad));
        assertTrue(m.contains("grid [1, 5, 6, 3] must be N×Ho×Wo×2"), m);
        long[] otherBatch = {2, 5, 6, 2};
        m = prepareError(gridSample(dir, 16, x4, otherBatch), Map.of("x", x4, "grid", otherBatch));
        assertTrue(m.contains("with X's N"), m);
    }

    @Test
    void gridSampleWithNonFiniteGridDoesNotCrash() throws IOException {
        long[] x = {1, 1, 3, 3}, g = {1, 1, 4, 2};
        float[] grid = {Float.NaN, 0, Float.POSITIVE_INFINITY, 0, 1e30f, -1e30f, 0, 0};
        for (String mode : List.of("bilinear", "nearest", "bicubic")) {
            for (String padding : List.of("zeros", "border", "reflection")) {
                Path m = gridSample(dir, 16, x, g, TinyModels.attr("mode", mode), TinyModels.attr("padding_mode", padding));
                try (Tensor xs = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, x); Tensor gs = Tensor.of(grid, g)) {
                    for (Map.Entry<String, Result> r : runAll(m, Map.of("x", xs, "grid", gs), List.of("y")).entrySet()) {
                        try (Result result = r.getValue()) {
                            float[] y = result.get("y").toArray();
                            assertEquals(5f, y[3], mode + " " + padding + " on " + r.getKey() + ": the centre (grid 0, 0)");
                        }
                    }
                }
            }
        }
    }

    // ---- MaxUnpool ----

    @TestFactory
    Stream<DynamicTest> maxUnpoolMatchesTorch() throws IOException {
        return cases("unpool").stream().map(c -> DynamicTest.dynamicTest(c[1], () -> {
            try (Tensor x = npy("unpool_" + c[1] + "_x")) {
                againstTorch(FIX.resolve("unpool_" + c[1] + ".onnx"), Map.of("x", x), "unpool_" + c[1] + "_y", 0);
            }
        }));
    }

    static Path unpool(Path dir, long[] x, long[] indices, long[] outputShape, AttributeProto... attrs) throws IOException {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x", 1, x)).addInitializer(longs("i", indices, x));
        List<String> in = new ArrayList<>(List.of("x", "i"));
        if (outputShape != null) {
            g.addInitializer(longs("shape", outputShape, outputShape.length));
            in.add("shape");
        }
        g.addNode(node("MaxUnpool", in, List.of("y"), attrs)).addOutput(ValueInfoProto.newBuilder().setName("y"));
        return write(dir, "unpool.onnx", 11, g.build());
    }

    @Test
    void maxUnpoolRefusesIndicesOutsideTheOutput() throws IOException {
        long[] x = {1, 1, 2, 2};
        AttributeProto k = ints("kernel_shape", 2, 2), s = ints("strides", 2, 2);
        try (Model m = Model.load(unpool(dir, x, new long[] {0, 3, 8, 16}, null, k, s)); Session session = m.session(Session.Options.defaults());
                Tensor xs = Tensor.of(new float[] {1, 2, 3, 4}, x)) {
            String msg = assertThrows(IllegalArgumentException.class, () -> session.run(Map.of("x", xs)).close()).getMessage();
            assertTrue(msg.contains("MaxUnpool node") && msg.contains("index 16 at position 3 of I is outside the output [1, 1, 4, 4]"), msg);
        }
        // output_shape 5×5 with indices that sit in no pooling window under either reading (24 is the last corner).
        try (Model m = Model.load(unpool(dir, x, new long[] {0, 3, 24, 15}, new long[] {1, 1, 5, 5}, k, s));
                Session session = m.session(Session.Options.defaults()); Tensor xs = Tensor.of(new float[] {1, 2, 3, 4}, x)) {
            String msg = assertThrows(IllegalArgumentException.class, () -> session.run(Map.of("x", xs)).close()).getMessage();
            assertTrue(msg.contains("do not address X's pooling windows"), msg);
        }
        String msg = prepareError(unpool(dir, x, new long[] {0, 3, 8, 15}, null, s), Map.of("x", x));
        assertTrue(msg.contains("kernel_shape is required"), msg);
        msg = prepareError(unpool(dir, x, new long[] {0, 3, 8, 15}, new long[] {1, 2, 4, 4}, k, s), Map.of("x", x));
        assertTrue(msg.contains("output_shape [1, 2, 4, 4] must keep X's N and C"), msg);
    }

    // ---- CumSum ----

    static Path cumSum(Path dir, int elemType, long[] x, long axis, long reverse, long exclusive) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(value("x", elemType, x)).addInitializer(longs("axis", new long[] {axis}))
                .addNode(node("CumSum", List.of("x", "axis"), List.of("y"), attr("reverse", reverse), attr("exclusive", exclusive)))
                .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
        return write(dir, "cumsum.onnx", 14, g);
    }

    @TestFactory
    Stream<DynamicTest> cumSumMatchesTorch() throws IOException {
        return cases("cumsum").stream().map(c -> DynamicTest.dynamicTest(c[1], () -> {
            int type = switch (c[2]) {
                case "f32" -> 1;
                case "i32" -> 6;
                default -> 7;
            };
            try (Tensor x = npy("cumsum_" + c[2] + "_x")) {
                Path m = cumSum(dir, type, x.shape(), Long.parseLong(c[3]), Long.parseLong(c[4]), Long.parseLong(c[5]));
                againstTorch(m, Map.of("x", x), c[1] + "_y", 0); // float sums in double, rounded once, as torch's CPU cumsum
            }
        }));
    }

    @Test
    void detrPositionEmbeddingMatchesTorch() {
        try (Tensor x = npy("cumsum_detr_x")) {
            againstTorch(FIX.resolve("cumsum_detr.onnx"), Map.of("x", x), "cumsum_detr_y", 1e-6);
        }
    }

    @Test
    void cumSumAxisComesFromARuntimeInput() throws IOException {
        long[] shape = {2, 3};
        GraphProto g = GraphProto.newBuilder().addInput(value("x", 1, shape)).addInput(value("axis", 7))
                .addNode(node("CumSum", List.of("x", "axis"), List.of("y")))
                .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
        Path model = write(dir, "cumsum_runtime_axis.onnx", 11, g);
        Map<String, float[]> want = Map.of("0", new float[] {1, 2, 3, 5, 7, 9}, "-1", new float[] {1, 3, 6, 4, 9, 15});
        for (Map.Entry<String, float[]> w : want.entrySet()) {
            try (Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, shape); Tensor axis = Tensor.ofLongs(new long[] {Long.parseLong(w.getKey())}, DataType.INT64)) {
                for (Map.Entry<String, Result> r : runAll(model, Map.of("x", x, "axis", axis), List.of("y")).entrySet()) {
                    try (Result result = r.getValue()) {
                        assertArrayEquals(w.getValue(), result.get("y").toArray(), "axis " + w.getKey() + " on " + r.getKey());
                    }
                }
            }
        }
        try (Model m = Model.load(model); Session s = m.session(Session.Options.defaults());
                Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, shape); Tensor axis = Tensor.ofLongs(new long[] {2}, DataType.INT64)) {
            String msg = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x, "axis", axis)).close()).getMessage();
            assertTrue(msg.contains("CumSum node") && msg.contains("axis 2 is out of range for rank 2"), msg);
        }
    }

    @Test
    void cumSumRefusesBadAttributes() throws IOException {
        long[] shape = {2, 3};
        String m = prepareErrorOne(cumSum(dir, 1, shape, 2, 0, 0), shape);
        assertTrue(m.contains("CumSum node") && m.contains("axis 2 is out of range for rank 2"), m);
        m = prepareErrorOne(cumSum(dir, 1, shape, 0, 2, 0), shape);
        assertTrue(m.contains("reverse 2 must be 0 or 1"), m);
        m = prepareErrorOne(cumSum(dir, 1, shape, 0, 0, -1), shape);
        assertTrue(m.contains("exclusive -1 must be 0 or 1"), m);
    }

    private String prepareErrorOne(Path model, long[] shape) {
        return prepareError(model, Map.of("x", shape));
    }

    // ---- MeanVarianceNormalization ----

    @TestFactory
    Stream<DynamicTest> mvnMatchesTheFunctionBody() throws IOException {
        return cases("mvn").stream().map(c -> DynamicTest.dynamicTest(c[1] + " axes " + c[2], () -> {
            try (Tensor x = npy("mvn_" + c[1] + "_x")) {
                List<AttributeProto> attrs = new ArrayList<>();
                if (!c[2].equals("default")) attrs.add(ints("axes", java.util.Arrays.stream(c[2].split(",")).mapToLong(Long::parseLong).toArray()));
                for (int opset : new int[] {9, 13}) {
                    Path m = oneNode(dir, opset, "MeanVarianceNormalization", x.shape(), List.of(), 1, attrs.toArray(AttributeProto[]::new));
                    GraphProto g = renamed(m);
                    againstTorch(write(dir, "mvn" + opset + ".onnx", opset, g), Map.of("x", x), "mvn_" + c[1] + "_y", 1e-5);
                }
            }
        }));
    }

    /** oneNode's model with its output y0 renamed y. */
    private static GraphProto renamed(Path model) throws IOException {
        GraphProto g = dev.jdnn.onnx.proto.OnnxProto.ModelProto.parseFrom(Files.readAllBytes(model)).getGraph();
        GraphProto.Builder b = g.toBuilder().clearOutput().addOutput(ValueInfoProto.newBuilder().setName("y"));
        b.setNode(0, g.getNode(0).toBuilder().setOutput(0, "y"));
        return b.build();
    }

    @Test
    void mvnRefusesBadAxes() throws IOException {
        long[] shape = {2, 3, 4};
        String m = prepareErrorOne(write(dir, "mvn.onnx", 13, renamed(oneNode(dir, 13, "MeanVarianceNormalization", shape, List.of(), 1))), shape);
        assertTrue(m.contains("MeanVarianceNormalization node") && m.contains("axis 3 is out of range for rank 3"), m);
        m = prepareErrorOne(write(dir, "mvn.onnx", 13, renamed(oneNode(dir, 13, "MeanVarianceNormalization", shape, List.of(), 1, ints("axes", 1, -2)))), shape);
        assertTrue(m.contains("names axis 1 twice"), m);
    }

    /** A constant channel: the ONNX body divides 0 by 1e-9, not by 0. */
    @Test
    void mvnOfAConstantIsZero() throws IOException {
        long[] shape = {1, 2, 2, 2};
        GraphProto g = renamed(oneNode(dir, 13, "MeanVarianceNormalization", shape, List.of(), 1));
        Path m = write(dir, "mvn_const.onnx", 13, g);
        try (Tensor x = Tensor.of(new float[] {3, 3, 3, 3, 1, 2, 3, 4}, shape)) {
            Map<String, Tensor> in = new LinkedHashMap<>(Map.of("x", x));
            for (Map.Entry<String, Result> r : runAll(m, in, List.of("y")).entrySet()) {
                try (Result result = r.getValue()) {
                    float[] y = result.get("y").toArray();
                    for (int i = 0; i < 4; i++) assertEquals(0f, y[i], "constant channel on " + r.getKey());
                    assertEquals((float) (-1.5 / (Math.sqrt(1.25) + 1e-9)), y[4], 1e-6, "second channel on " + r.getKey());
                }
            }
        }
    }
}
