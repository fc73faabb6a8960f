package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.TinyModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * NonMaxSuppression and RoiAlign against torchvision (src/test/python/gen_detection_fixtures.py:
 * torchvision.ops.nms / batched_nms / roi_align exported with torch.onnx.export, torchvision's outputs as
 * .npy) on the three configurations: kept indices exactly, pooled features within 1e-4·max(1, |y|). Then a
 * compiled plan with RoiAlign between two convolutions (convs native, RoiAlign Java, same result as the
 * Java reference), and bad inputs: each a clear exception naming the node. ONNX's own node tests for both
 * ops run in OnnxNodeConformanceTest.
 */
class DetectionOpsTest {
    static final Path FIXTURES = Fixtures.ROOT.resolve("detection");

    @TestFactory
    Stream<DynamicTest> torchvisionFixtures() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String line : Files.readAllLines(FIXTURES.resolve("cases.txt"))) {
            if (line.isBlank()) continue;
            String[] f = line.trim().split(" ");
            String name = f[0];
            List<String> inputs = List.of(f).subList(1, f.length);
            for (Config c : Config.values()) tests.add(DynamicTest.dynamicTest(name + " on " + c, () -> checkFixture(name, inputs, c)));
        }
        assertTrue(tests.size() >= 7 * 3, "fixture cases missing: " + tests.size());
        return tests.stream();
    }

    private static void checkFixture(String name, List<String> inputNames, Config c) {
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (String in : inputNames) inputs.put(in, Fixtures.tensor(FIXTURES.resolve(name + "_" + in + ".npy")));
        try (Tensor want = Fixtures.tensor(FIXTURES.resolve(name + "_out.npy"));
             Model m = Model.load(FIXTURES.resolve(name + ".onnx")); Session s = m.session(c.options());
             Result r = s.run(inputs, m.outputs())) {
            Tensor got = r.get(m.outputs().get(0));
            assertArrayEquals(want.shape(), got.shape(), name + ": output shape");
            if (want.dtype().isFloat()) {
                String diff = compare(want.toArray(), got.toArray(), 1e-4);
                assertNull(diff, name + " on " + c + ": " + diff);
            } else {
                assertArrayEquals(want.toLongArray(), got.toLongArray(), name + " on " + c + ": kept box indices, in order");
            }
        } finally {
            inputs.values().forEach(Tensor::close);
        }
    }

    // ------------------------------------------------------------------ RoiAlign in a compiled plan

    /** x N×3×10×12 → Conv 3→4 (3×3, pad 1) → RoiAlign(rois, batch_indices) R×4×3×3 → Conv 4→2 (1×1) → y. */
    static Path convRoiAlignConv(Path dir, long rois) throws IOException {
        Random rnd = new Random(7);
        float[] w1 = new float[4 * 3 * 3 * 3], w2 = new float[2 * 4];
        for (int i = 0; i < w1.length; i++) w1[i] = (float) rnd.nextGaussian() * 0.3f;
        for (int i = 0; i < w2.length; i++) w2[i] = (float) rnd.nextGaussian();
        GraphProto g = GraphProto.newBuilder()
                .addInput(input("x", FLOAT, 2, 3, 10, 12)).addInput(input("rois", FLOAT, rois, 4)).addInput(input("batch_indices", INT64, rois))
                .addInitializer(floats("w1", new long[] {4, 3, 3, 3}, w1)).addInitializer(floats("w2", new long[] {2, 4, 1, 1}, w2))
                .addNode(node("Conv", List.of("x", "w1"), List.of("features"), ints("pads", 1, 1, 1, 1)))
                .addNode(node("RoiAlign", List.of("features", "rois", "batch_indices"), List.of("pooled"),
                        intAttr("output_height", 3), intAttr("output_width", 3), intAttr("sampling_ratio", 0), attr("spatial_scale", 0.5f)))
                .addNode(node("Conv", List.of("pooled", "w2"), List.of("y")))
                .addOutput(output("y")).build();
        return write(dir, "conv_roialign_conv.onnx", 16, g);
    }

    static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    @Test
    void compiledPlanRunsConvsNativelyAroundJavaRoiAlign(@TempDir Path dir) throws IOException {
        int r = 5;
        Path model = convRoiAlignConv(dir, r);
        Random rnd = new Random(3);
        float[] x = new float[2 * 3 * 10 * 12], rois = new float[r * 4];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < r; i++) {
            float x1 = rnd.nextFloat() * 20, y1 = rnd.nextFloat() * 16;
            rois[4 * i] = x1;
            rois[4 * i + 1] = y1;
            rois[4 * i + 2] = x1 + 1 + rnd.nextFloat() * 10;
            rois[4 * i + 3] = y1 + 1 + rnd.nextFloat() * 8;
        }
        long[] batch = {0, 1, 1, 0, 1};
        float[] reference = null;
        for (Config c : List.of(Config.JAVA, Config.COMPILED, Config.NODE_BY_NODE)) {
            try (Model m = Model.load(model); Session s = m.session(c.options());
                 Tensor xt = Tensor.of(x, 2, 3, 10, 12); Tensor rt = Tensor.of(rois, r, 4); Tensor bt = Tensor.ofLongs(batch, dev.jdnn.DataType.INT64, r);
                 Result out = s.run(Map.of("x", xt, "rois", rt, "batch_indices", bt), List.of("y"))) {
                float[] y = out.get("y").toArray();
                assertArrayEquals(new long[] {r, 2, 3, 3}, out.get("y").shape());
                if (reference == null) reference = y;
                else assertNull(compare(reference, y, 1e-5), c + " against the Java reference: " + compare(reference, y, 1e-5));
                if (c == Config.COMPILED) {
                    List<String> explain = s.explain(Map.of("x", new long[] {2, 3, 10, 12}, "rois", new long[] {r, 4}, "batch_indices", new long[] {r}), List.of("y"));
                    String text = String.join("\n", explain);
                    assertTrue(explain.stream().anyMatch(l -> l.startsWith("java") && l.contains("RoiAlign")), "RoiAlign shown as Java:\n" + text);
                    assertEquals(2, explain.stream().filter(l -> l.startsWith("native") && l.contains("conv")).count(), "both convs native:\n" + text);
                }
            }
        }
    }

    // ------------------------------------------------------------------ RoiAlign modes, by hand

    /**
     * RoiAlign over X = 0..15 as 1×1×4×4 and the roi [0, 0, 3, 3] into one 1×1 bin, on the three
     * configurations. Computed by hand from ONNX's definition:
     * <ul>
     *   <li>output_half_pixel, sampling_ratio 2: samples at rows/columns 0.75 and 2.25; interpolated values
     *       3.75, 5.25, 9.75, 11.25, average 7.5; max mode takes the largest weighted corner term
     *       {@code w·x} over the samples: 0.5625·x[10] = 5.625 at (2.25, 2.25);</li>
     *   <li>one sample, no shift (output_half_pixel, opset 10's only behaviour): (1.5, 1.5), the mean of
     *       5, 6, 9, 10 = 7.5; with half_pixel (opset 16's default) the roi moves by −0.5 and the sample
     *       lands on pixel (1, 1) = 5.</li>
     * </ul>
     */
    @Test
    void roiAlignModesAndCoordinateDefaultsByHand(@TempDir Path dir) throws IOException {
        record Case(String what, int opset, float want, AttributeProto... attrs) {}
        List<Case> cases = List.of(
                new Case("avg, 2×2 samples", 16, 7.5f, intAttr("sampling_ratio", 2), attr("coordinate_transformation_mode", "output_half_pixel")),
                new Case("max, 2×2 samples", 16, 5.625f, intAttr("sampling_ratio", 2), attr("coordinate_transformation_mode", "output_half_pixel"),
                        attr("mode", "max")),
                new Case("opset 10: no shift", 10, 7.5f, intAttr("sampling_ratio", 1)),
                new Case("opset 16 default: half_pixel", 16, 5f, intAttr("sampling_ratio", 1)),
                new Case("opset 16 explicit output_half_pixel", 16, 7.5f, intAttr("sampling_ratio", 1),
                        attr("coordinate_transformation_mode", "output_half_pixel")));
        float[] x = new float[16];
        for (int i = 0; i < 16; i++) x[i] = i;
        for (Case c : cases) {
            GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 1, 1, 4, 4))
                    .addInitializer(floats("rois", new long[] {1, 4}, 0, 0, 3, 3)).addInitializer(int64s("batch_indices", new long[] {1}, 0))
                    .addNode(NodeProto.newBuilder().setOpType("RoiAlign").setName("roi").addAllInput(List.of("x", "rois", "batch_indices"))
                            .addOutput("y").addAllAttribute(List.of(c.attrs())))
                    .addOutput(output("y")).build();
            Path model = write(dir, "roi_by_hand.onnx", c.opset(), g);
            for (Config config : Config.values()) {
                try (Model m = Model.load(model); Session s = m.session(config.options()); Tensor xt = Tensor.of(x, 1, 1, 4, 4);
                     Result r = s.run(Map.of("x", xt), List.of("y"))) {
                    assertArrayEquals(new float[] {c.want()}, r.get("y").toArray(), 1e-6f, c.what() + " on " + config);
                }
            }
        }
    }

    // ------------------------------------------------------------------ bad inputs

    /** A one-node NMS model over constant boxes and scores of the given shapes, with these extra settings. */
    static Path nms(Path dir, long[] boxShape, long[] scoreShape, float iou, AttributeProto... attrs) throws IOException {
        GraphProto g = GraphProto.newBuilder()
                .addInitializer(floats("boxes", boxShape, new float[(int) Tensor.elementCount(boxShape)]))
                .addInitializer(floats("scores", scoreShape, new float[(int) Tensor.elementCount(scoreShape)]))
                .addInitializer(int64s("max", new long[] {1}, 10)).addInitializer(floats("iou", new long[] {1}, iou))
                .addNode(NodeProto.newBuilder().setOpType("NonMaxSuppression").setName("nms7").addAllInput(List.of("boxes", "scores", "max", "iou"))
                        .addOutput("selected").addAllAttribute(List.of(attrs)))
                .addOutput(output("selected")).build();
        return write(dir, "nms.onnx", 11, g);
    }

    static String prepareError(Path model, Map<String, Tensor> inputs) {
        try (Model m = Model.load(model); Session s = m.session(Config.JAVA.options())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(inputs, m.outputs()).close());
            return e.getMessage();
        }
    }

    @Test
    void nmsRefusesBadShapesAndSettingsNamingTheNode(@TempDir Path dir) throws IOException {
        String m = prepareError(nms(dir, new long[] {1, 6, 3}, new long[] {1, 1, 6}, 0.5f), Map.of());
        assertTrue(m.contains("nms7") && m.contains("boxes must be [num_batches, num_boxes, 4]"), m);
        m = prepareError(nms(dir, new long[] {6, 4}, new long[] {1, 1, 6}, 0.5f), Map.of());
        assertTrue(m.contains("nms7") && m.contains("boxes must be"), m);
        m = prepareError(nms(dir, new long[] {1, 6, 4}, new long[] {1, 2, 5}, 0.5f), Map.of());
        assertTrue(m.contains("nms7") && m.contains("do not match boxes"), m);
        m = prepareError(nms(dir, new long[] {2, 6, 4}, new long[] {1, 2, 6}, 0.5f), Map.of());
        assertTrue(m.contains("nms7") && m.contains("do not match boxes"), m);
        m = prepareError(nms(dir, new long[] {1, 6, 4}, new long[] {1, 1, 6}, 1.5f), Map.of());
        assertTrue(m.contains("nms7") && m.contains("iou_threshold must be in [0, 1]"), m);
        m = prepareError(nms(dir, new long[] {1, 6, 4}, new long[] {1, 1, 6}, 0.5f, intAttr("center_point_box", 2)), Map.of());
        assertTrue(m.contains("nms7") && m.contains("center_point_box must be 0 or 1"), m);
    }

    /**
     * NMS over boxes and scores the model computes (Mul by 1 of inputs too large to specialise a plan on):
     * the plan runs the Mul as usual and NonMaxSuppression in its data-dependent tail on each run. torchvision's
     * 60 fixture boxes padded to 2000 with boxes scored below score_threshold; the kept indices must be
     * torchvision's, on every configuration, and explain shows the tail.
     */
    @Test
    void nmsOnBoxesComputedByTheModelRunsInThePlansTail(@TempDir Path dir) throws IOException {
        int n = 2000;
        GraphProto g = GraphProto.newBuilder().addInput(input("xb", FLOAT, 1, n, 4)).addInput(input("xs", FLOAT, 1, 1, n))
                .addInitializer(floats("one", new long[0], 1f)).addInitializer(int64s("max", new long[] {1}, Long.MAX_VALUE))
                .addInitializer(floats("iou", new long[] {1}, 0.5f)).addInitializer(floats("threshold", new long[] {1}, -0.5f))
                .addNode(node("Mul", List.of("xb", "one"), List.of("boxes"))).addNode(node("Mul", List.of("xs", "one"), List.of("scores")))
                .addNode(NodeProto.newBuilder().setOpType("NonMaxSuppression").setName("nms9")
                        .addAllInput(List.of("boxes", "scores", "max", "iou", "threshold")).addOutput("selected"))
                .addOutput(output("selected")).build();
        Path model = write(dir, "nms_runtime.onnx", 11, g);
        float[] boxes = new float[n * 4], scores = new float[n];
        java.util.Arrays.fill(scores, -1f);
        float[] fixtureBoxes = Fixtures.array(FIXTURES.resolve("nms_op11_boxes.npy")), fixtureScores = Fixtures.array(FIXTURES.resolve("nms_op11_scores.npy"));
        System.arraycopy(fixtureBoxes, 0, boxes, 0, fixtureBoxes.length);
        System.arraycopy(fixtureScores, 0, scores, 0, fixtureScores.length);
        long[] want;
        try (Tensor t = Fixtures.tensor(FIXTURES.resolve("nms_op11_out.npy"))) {
            want = t.toLongArray();
        }
        for (Config c : Config.values()) {
            try (Model m = Model.load(model); Session s = m.session(c.options()); Tensor xb = Tensor.of(boxes, 1, n, 4); Tensor xs = Tensor.of(scores, 1, 1, n)) {
                for (int run = 0; run < 2; run++) {
                    try (Result r = s.run(Map.of("xb", xb, "xs", xs), List.of("selected"))) {
                        Tensor selected = r.get("selected");
                        assertArrayEquals(new long[] {want.length, 3}, selected.shape(), c.toString());
                        long[] rows = selected.toLongArray();
                        for (int i = 0; i < want.length; i++) {
                            assertArrayEquals(new long[] {0, 0, want[i]}, java.util.Arrays.copyOfRange(rows, 3 * i, 3 * i + 3), c + ": row " + i);
                        }
                    }
                }
                String explained = String.join("\n", s.explain(Map.of("xb", new long[] {1, n, 4}, "xs", new long[] {1, 1, n}), List.of("selected")));
                assertTrue(explained.contains("tail    from NonMaxSuppression node nms9"), explained);
                // A tensor of the head and one of the tail in one run; writing into caller tensors is refused (unknown shape).
                try (Result r = s.run(Map.of("xb", xb, "xs", xs), List.of("boxes", "selected"))) {
                    assertArrayEquals(boxes, r.get("boxes").toArray(), c + ": the head's tensor");
                    assertEquals(want.length, r.get("selected").dim(0), c + ": the tail's tensor");
                }
                // Into caller tensors: filled when the caller's shape is the one the run produced, else a clear error.
                try (Tensor into = Tensor.zeros(dev.jdnn.DataType.INT64, want.length, 3); Tensor wrong = Tensor.zeros(dev.jdnn.DataType.INT64, want.length + 1, 3)) {
                    s.run(Map.of("xb", xb, "xs", xs), Map.of("selected", into));
                    assertEquals(want[want.length - 1], into.getLongFlat(3L * want.length - 1), c + ": the last kept index, written into the caller's tensor");
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("xb", xb, "xs", xs), Map.of("selected", wrong)));
                    assertTrue(e.getMessage().contains("the result has [" + want.length + ", 3]"), c + ": " + e.getMessage());
                }
            }
        }
    }

    @Test
    void roiAlignRefusesBadAttributesAndShapesNamingTheNode(@TempDir Path dir) throws IOException {
        record Case(String expect, int opset, long[] rois, long[] batch, AttributeProto... attrs) {}
        List<Case> cases = List.of(
                new Case("output_height and output_width must be at least 1", 16, new long[] {2, 4}, new long[] {2}, intAttr("output_height", -2)),
                new Case("output_height and output_width must be at least 1", 16, new long[] {2, 4}, new long[] {2}, intAttr("output_width", 0)),
                new Case("sampling_ratio must be 0 (adaptive) or positive", 16, new long[] {2, 4}, new long[] {2}, intAttr("sampling_ratio", -1)),
                new Case("mode must be avg or max", 16, new long[] {2, 4}, new long[] {2}, attr("mode", "min")),
                new Case("spatial_scale must be a positive finite number", 16, new long[] {2, 4}, new long[] {2}, attr("spatial_scale", 0f)),
                new Case("coordinate_transformation_mode must be half_pixel or output_half_pixel", 16, new long[] {2, 4}, new long[] {2},
                        attr("coordinate_transformation_mode", "align_corners")),
                new Case("coordinate_transformation_mode exists from opset 16 on", 10, new long[] {2, 4}, new long[] {2},
                        attr("coordinate_transformation_mode", "half_pixel")),
                new Case("rois must be [num_rois, 4]", 16, new long[] {2, 5}, new long[] {2}),
                new Case("batch_indices must be [num_rois] = [2]", 16, new long[] {2, 4}, new long[] {3}));
        for (Case c : cases) {
            GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 1, 2, 6, 6))
                    .addInitializer(floats("rois", c.rois(), new float[(int) Tensor.elementCount(c.rois())]))
                    .addInitializer(int64s("batch_indices", c.batch(), new long[(int) c.batch()[0]]))
                    .addNode(NodeProto.newBuilder().setOpType("RoiAlign").setName("roi3").addAllInput(List.of("x", "rois", "batch_indices"))
                            .addOutput("y").addAllAttribute(List.of(c.attrs())))
                    .addOutput(output("y")).build();
            Path model = write(dir, "roi.onnx", c.opset(), g);
            try (Tensor x = Tensor.zeros(1, 2, 6, 6)) {
                String m = prepareError(model, Map.of("x", x));
                assertTrue(m.contains("roi3") && m.contains(c.expect()), c.expect() + " <- " + m);
            }
        }
    }

    @Test
    void roiAlignBatchIndexOutOfRangeFailsTheRunNamingTheNode(@TempDir Path dir) throws IOException {
        Path model = convRoiAlignConv(dir, 2);
        for (Config c : Config.values()) {
            try (Model m = Model.load(model); Session s = m.session(c.options());
                 Tensor x = Tensor.zeros(2, 3, 10, 12); Tensor rois = Tensor.of(new float[] {0, 0, 4, 4, 1, 1, 6, 5}, 2, 4)) {
                for (long bad : new long[] {2, -1}) {
                    try (Tensor batch = Tensor.ofLongs(new long[] {0, bad}, dev.jdnn.DataType.INT64, 2)) {
                        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                                () -> s.run(Map.of("x", x, "rois", rois, "batch_indices", batch), List.of("y")).close(), c.toString());
                        assertTrue(e.getMessage().contains("RoiAlign") && e.getMessage().contains("pooled")
                                && e.getMessage().contains("batch_indices[1] = " + bad + " is out of range"), c + ": " + e.getMessage());
                    }
                }
                // The session still runs a good input afterwards.
                try (Tensor batch = Tensor.ofLongs(new long[] {0, 1}, dev.jdnn.DataType.INT64, 2);
                     Result r = s.run(Map.of("x", x, "rois", rois, "batch_indices", batch), List.of("y"))) {
                    assertArrayEquals(new long[] {2, 2, 3, 3}, r.get("y").shape());
                }
            }
        }
    }
}
