package dev.jdnn.graph.op;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Value;
import dev.jdnn.onnx.OnnxFormatException;
import dev.jdnn.onnx.OnnxLoader;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorShapeProto;
import dev.jdnn.onnx.proto.OnnxProto.TypeProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

/**
 * Resize and Upsample against independent oracles: ONNX's node tests (with their scales/sizes/roi
 * inputs made initializers, since jdnn needs them at prepare time), torch.nn.functional.interpolate
 * exports (src/test/python/gen_resize_fixtures.py), torch's antialiased downscaling, hand-computed
 * opset-7/10 cases; native (compiled and node by node) against the Java reference wherever oneDNN's
 * resampling is used; and the attribute errors.
 */
class ResizeOpsTest {
    static final Path NODE_TESTS = dev.jdnn.onnx.OnnxNodeTests.NODE_TESTS;
    static final Path FIXTURES = Fixtures.ROOT.resolve("resize");

    record Config(String name, Backend backend, Optimizations optimizations) {}

    static final List<Config> CONFIGS = List.of(
            new Config("NATIVE compiled", Backend.NATIVE, Optimizations.all()),
            new Config("NATIVE node by node", Backend.NATIVE, Optimizations.none()),
            new Config("JAVA", Backend.JAVA, Optimizations.none()));

    // ------------------------------------------------------------------ running models

    static float[] run(Path model, Tensor x, Config c, long[] expectShape) {
        try (Model m = Model.load(model); Session s = m.session(Session.Options.defaults().withBackend(c.backend()).withOptimizations(c.optimizations()))) {
            String in = m.inputs().keySet().iterator().next();
            try (Result r = s.run(Map.of(in, x), m.outputs())) {
                Tensor y = r.get(m.outputs().get(0));
                if (expectShape != null) assertArrayEquals(expectShape, y.shape(), "output shape");
                return y.toArray();
            }
        }
    }

    /** The compiled plan's explain lines for a model with input x of this shape. */
    static List<String> explain(Path model, long[] shape) {
        try (Model m = Model.load(model); Session s = m.session(Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.all()))) {
            return s.explain(Map.of(m.inputs().keySet().iterator().next(), shape), m.outputs());
        }
    }

    static boolean resampledNatively(Path model, long[] shape) {
        return explain(model, shape).stream().anyMatch(l -> l.startsWith("native") && l.contains("resampling"));
    }

    // ------------------------------------------------------------------ ONNX node tests

    /**
     * ONNX's test_resize_* and test_upsample_* node tests on all three configurations, at 1e-5 (scaled):
     * every input after X (roi, scales, sizes) becomes an initializer, as in exported models.
     */
    @TestFactory
    Stream<DynamicTest> onnxNodeTests(@TempDir Path tmp) throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(NODE_TESTS), NODE_TESTS + " is absent: install Debian's libonnx-testdata (.ci/run does)");
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(NODE_TESTS).sorted()) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                String name = dir.getFileName().toString();
                if (!name.matches("test_(resize|upsample).*")) continue;
                for (Config c : CONFIGS) tests.add(DynamicTest.dynamicTest(name + " on " + c.name(), () -> nodeTest(dir, tmp, c)));
            }
        }
        return tests.stream();
    }

    static TensorProto readProto(Path pb) throws IOException {
        try (InputStream in = Files.newInputStream(pb)) {
            return TensorProto.parseFrom(in);
        }
    }

    static void nodeTest(Path dir, Path tmp, Config c) throws IOException {
        ModelProto proto;
        try (InputStream in = Files.newInputStream(dir.resolve("model.onnx"))) {
            proto = ModelProto.parseFrom(in);
        }
        Path data = dir.resolve("test_data_set_0");
        GraphProto.Builder g = proto.getGraph().toBuilder();
        List<String> inputNames = new ArrayList<>();
        for (ValueInfoProto v : g.getInputList()) inputNames.add(v.getName());
        // Keep the first graph input (X); turn the others into initializers from the test data.
        for (int i = inputNames.size() - 1; i >= 1; i--) {
            g.addInitializer(readProto(data.resolve("input_" + i + ".pb")).toBuilder().setName(inputNames.get(i)));
            g.removeInput(i);
        }
        Path model = tmp.resolve(dir.getFileName() + ".onnx");
        Files.write(model, proto.toBuilder().setGraph(g).build().toByteArray());
        Value xv = OnnxLoader.tensor(readProto(data.resolve("input_0.pb")), data, "input_0");
        Value yv = OnnxLoader.tensor(readProto(data.resolve("output_0.pb")), data, "output_0");
        try (Tensor x = ((Value.Floats) xv).tensor(); Tensor want = ((Value.Floats) yv).tensor()) {
            float[] got = run(model, x, c, want.shape());
            Fixtures.assertClose(want.toArray(), got, 1e-5, dir.getFileName() + " on " + c.name());
        }
    }

    // ------------------------------------------------------------------ torch fixtures

    /** torch.nn.functional.interpolate exported at opsets 9 (Upsample), 11 and 13 (Resize), at 1e-5, all configurations. */
    @TestFactory
    Stream<DynamicTest> torchInterpolateExports() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String line : Files.readAllLines(FIXTURES.resolve("cases.txt"))) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String model = line.split(" ")[0];
            String kase = model.substring(0, model.indexOf("_op"));
            for (Config c : CONFIGS) {
                tests.add(DynamicTest.dynamicTest(model + " on " + c.name(), () -> {
                    try (Tensor x = Fixtures.tensor(FIXTURES.resolve(kase + "_x.npy")); Tensor want = Fixtures.tensor(FIXTURES.resolve(kase + "_y.npy"))) {
                        float[] got;
                        try {
                            got = run(FIXTURES.resolve(model + ".onnx"), x, c, want.shape());
                        } catch (OnnxFormatException e) {
                            throw new TestAbortedException("not loadable (yet): " + e.getMessage());
                        }
                        Fixtures.assertClose(want.toArray(), got, 1e-5, model + " on " + c.name());
                        if (c == CONFIGS.get(0)) {
                            System.out.println("resize torch: " + model + (resampledNatively(FIXTURES.resolve(model + ".onnx"), x.shape()) ? " -> oneDNN resampling" : " -> Java"));
                        }
                    }
                }));
            }
        }
        return tests.stream();
    }

    // ------------------------------------------------------------------ building Resize models

    static AttributeProto attr(String name, Object v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        if (v instanceof Integer i) a.setType(AttributeProto.AttributeType.INT).setI(i);
        else if (v instanceof Long l) a.setType(AttributeProto.AttributeType.INT).setI(l);
        else if (v instanceof Float f) a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
        else if (v instanceof String s) a.setType(AttributeProto.AttributeType.STRING).setS(com.google.protobuf.ByteString.copyFromUtf8(s));
        else if (v instanceof long[] ls) {
            a.setType(AttributeProto.AttributeType.INTS);
            for (long l : ls) a.addInts(l);
        } else if (v instanceof float[] fs) {
            a.setType(AttributeProto.AttributeType.FLOATS);
            for (float f : fs) a.addFloats(f);
        } else throw new IllegalArgumentException(String.valueOf(v));
        return a.build();
    }

    static ValueInfoProto info(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    static TensorProto floats(String name, float... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1).addDims(v.length);
        for (float f : v) t.addFloatData(f);
        return t.build();
    }

    static TensorProto longs(String name, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7).addDims(v.length);
        for (long l : v) t.addInt64Data(l);
        return t.build();
    }

    /**
     * x → [1×1 Conv, so the compiled plan feeds Resize a blocked layout] → Resize/Upsample → y.
     * {@code scales}/{@code sizes}/{@code roi}: null for absent; Upsample-7 takes scales as an attribute.
     */
    static Path model(Path dir, String file, String op, int opset, long[] x, float[] roi, float[] scales, long[] sizes, boolean conv, Object... attrs) throws IOException {
        GraphProto.Builder g = GraphProto.newBuilder().setName("resize").addInput(info("x", x)).addOutput(ValueInfoProto.newBuilder().setName("y"));
        String src = "x";
        if (conv) {
            int c = (int) x[1];
            float[] w = new float[c * c];
            for (int i = 0; i < c; i++) w[i * c + i] = 1;   // identity 1×1 conv
            g.addInitializer(floats("w", w).toBuilder().clearDims().addAllDims(List.of((long) c, (long) c, 1L, 1L)));
            g.addNode(NodeProto.newBuilder().setOpType("Conv").setName("conv").addInput("x").addInput("w").addOutput("c"));
            src = "c";
        }
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName("resize").addInput(src).addOutput("y");
        if (op.equals("Upsample") && opset < 9) {
            n.addAttribute(attr("scales", scales));
        } else if (op.equals("Upsample") || opset == 10) {
            g.addInitializer(floats("scales", scales));
            n.addInput("scales");
        } else {
            if (roi != null) g.addInitializer(floats("roi", roi));
            n.addInput(roi != null ? "roi" : "");
            if (scales != null) g.addInitializer(floats("scales", scales));
            n.addInput(scales != null ? "scales" : "");
            if (sizes != null) {
                g.addInitializer(longs("sizes", sizes));
                n.addInput("sizes");
            }
        }
        for (int i = 0; i < attrs.length; i += 2) n.addAttribute(attr((String) attrs[i], attrs[i + 1]));
        g.addNode(n);
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(g).build();
        Path file1 = dir.resolve(file + ".onnx");
        Files.write(file1, m.toByteArray());
        return file1;
    }

    static Tensor random(long[] shape, long seed) {
        Random r = new Random(seed);
        float[] v = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, shape);
    }

    static Tensor iota(long... shape) {
        float[] v = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) v[i] = i + 1;
        return Tensor.of(v, shape);
    }

    // ------------------------------------------------------------------ native vs Java

    /** One sweep case: what it resizes and whether oneDNN must (TRUE), must not (FALSE) or may (null) run it. */
    record Sweep(String name, long[] x, float[] scales, long[] sizes, Boolean nativeExpected, Object[] attrs) {}

    static Sweep sw(String name, long[] x, float[] scales, long[] sizes, Boolean expected, Object... attrs) {
        return new Sweep(name, x, scales, sizes, expected, attrs);
    }

    static List<Sweep> sweep() {
        List<Sweep> s = new ArrayList<>();
        long[] x4 = {2, 3, 5, 7};
        // Detectors: nearest ×2 as torch exports it (asymmetric/floor) and ONNX's default half_pixel/round_prefer_floor.
        s.add(sw("nearest_asym_floor_x2", x4, new float[] {1, 1, 2, 2}, null, true, "mode", "nearest", "coordinate_transformation_mode", "asymmetric", "nearest_mode", "floor"));
        s.add(sw("nearest_half_pixel_x2", x4, new float[] {1, 1, 2, 2}, null, true, "mode", "nearest"));
        s.add(sw("nearest_half_pixel_ceil_x3", x4, new float[] {1, 1, 3, 3}, null, true, "mode", "nearest", "nearest_mode", "round_prefer_ceil"));
        s.add(sw("nearest_asym_floor_x0.5", new long[] {1, 2, 8, 6}, new float[] {1, 1, 0.5f, 0.5f}, null, false, "mode", "nearest", "coordinate_transformation_mode", "asymmetric", "nearest_mode", "floor"));
        s.add(sw("nearest_asym_floor_size", x4, null, new long[] {2, 3, 9, 10}, null, "mode", "nearest", "coordinate_transformation_mode", "asymmetric", "nearest_mode", "floor"));
        s.add(sw("nearest_half_pixel_size", x4, null, new long[] {2, 3, 9, 10}, null, "mode", "nearest"));
        s.add(sw("nearest_align_corners", x4, new float[] {1, 1, 2, 2}, null, null, "mode", "nearest", "coordinate_transformation_mode", "align_corners"));
        s.add(sw("nearest_ceil_half_pixel_x2", x4, new float[] {1, 1, 2, 2}, null, null, "mode", "nearest", "nearest_mode", "ceil"));
        s.add(sw("nearest_round_ceil_down2", new long[] {1, 2, 8, 6}, new float[] {1, 1, 0.5f, 0.5f}, null, true, "mode", "nearest", "nearest_mode", "round_prefer_ceil"));
        // Segmentation heads: bilinear, align_corners=False (half_pixel or pytorch_half_pixel), to the input size.
        s.add(sw("linear_half_pixel_x2", x4, new float[] {1, 1, 2, 2}, null, true, "mode", "linear"));
        s.add(sw("linear_half_pixel_x8", new long[] {1, 4, 4, 5}, new float[] {1, 1, 8, 8}, null, true, "mode", "linear"));
        s.add(sw("linear_pytorch_size", new long[] {1, 4, 5, 7}, null, new long[] {1, 4, 32, 45}, true, "mode", "linear", "coordinate_transformation_mode", "pytorch_half_pixel"));
        s.add(sw("linear_half_pixel_size_frac", x4, null, new long[] {2, 3, 8, 12}, true, "mode", "linear"));
        s.add(sw("linear_half_pixel_scale_1.5_frac", new long[] {1, 2, 5, 7}, new float[] {1, 1, 1.5f, 1.5f}, null, false, "mode", "linear"));
        s.add(sw("linear_half_pixel_down2", new long[] {1, 2, 8, 6}, new float[] {1, 1, 0.5f, 0.5f}, null, true, "mode", "linear"));
        s.add(sw("linear_half_pixel_down_frac", new long[] {1, 2, 9, 10}, null, new long[] {1, 2, 4, 3}, true, "mode", "linear"));
        s.add(sw("linear_pytorch_out1", new long[] {1, 2, 4, 6}, null, new long[] {1, 2, 1, 3}, false, "mode", "linear", "coordinate_transformation_mode", "pytorch_half_pixel"));
        s.add(sw("linear_align_corners", x4, new float[] {1, 1, 2, 2}, null, false, "mode", "linear", "coordinate_transformation_mode", "align_corners"));
        s.add(sw("linear_asymmetric", x4, new float[] {1, 1, 2, 2}, null, false, "mode", "linear", "coordinate_transformation_mode", "asymmetric"));
        s.add(sw("linear_1d", new long[] {1, 3, 6}, new float[] {1, 1, 2}, null, true, "mode", "linear"));
        s.add(sw("linear_3d", new long[] {1, 2, 3, 4, 5}, null, new long[] {1, 2, 5, 6, 7}, true, "mode", "linear"));
        s.add(sw("linear_channels_resized", x4, new float[] {1, 2, 2, 2}, null, false, "mode", "linear"));
        s.add(sw("cubic", x4, new float[] {1, 1, 2, 2}, null, false, "mode", "cubic"));
        s.add(sw("antialias_linear_down", new long[] {1, 2, 12, 10}, null, new long[] {1, 2, 5, 4}, false, "mode", "linear", "antialias", 1L));
        s.add(sw("antialias_linear_up", x4, new float[] {1, 1, 2, 2}, null, true, "mode", "linear", "antialias", 1L));
        s.add(sw("axes_linear", x4, null, new long[] {10, 14}, true, "mode", "linear", "axes", new long[] {2, 3}));
        return s;
    }

    /**
     * Every sweep case on the compiled native plan (input in a blocked layout after a 1×1 conv, and
     * plain without it), node by node, and Java: native must equal Java to 1e-6 (scaled) wherever
     * oneDNN resampled, and cases with a stated expectation must (not) be lowered.
     */
    @TestFactory
    Stream<DynamicTest> nativeEqualsJava(@TempDir Path dir) {
        List<DynamicTest> tests = new ArrayList<>();
        for (Sweep s : sweep()) {
            for (boolean conv : s.x().length == 4 ? new boolean[] {false, true} : new boolean[] {false}) {
                String name = s.name() + (conv ? " after conv" : "");
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    Path m = model(dir, s.name() + conv, "Resize", 19, s.x(), null, s.scales(), s.sizes(), conv, s.attrs());
                    boolean lowered = resampledNatively(m, s.x());
                    if (s.nativeExpected() != null) assertEquals(s.nativeExpected(), lowered, name + ": lowered to oneDNN resampling; plan: " + explain(m, s.x()));
                    try (Tensor x = random(s.x(), 7)) {
                        float[] java = run(m, x, CONFIGS.get(2), null);
                        for (Config c : CONFIGS.subList(0, 2)) Fixtures.assertClose(java, run(m, x, c, null), 1e-6, name + " " + c.name() + " vs JAVA");
                    }
                    System.out.println("resize sweep: " + name + (lowered ? " -> oneDNN resampling" : " -> Java"));
                }));
            }
        }
        return tests.stream();
    }

    /** Random shapes and scales (integer and fractional) for every nearest rounding and half-pixel-like mode: wherever lowered, native = Java. */
    @Test
    void randomNativeAgreesWithJava(@TempDir Path dir) throws IOException {
        Random r = new Random(11);
        String[] coords = {"half_pixel", "pytorch_half_pixel", "asymmetric", "align_corners"};
        String[] roundings = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
        int lowered = 0, total = 0;
        for (int k = 0; k < 40; k++) {
            long[] x = {1, 1 + r.nextInt(3), 1 + r.nextInt(9), 1 + r.nextInt(9)};
            boolean bySize = r.nextBoolean();
            float[] scales = null;
            long[] sizes = null;
            if (bySize) sizes = new long[] {x[0], x[1], 1 + r.nextInt(20), 1 + r.nextInt(20)};
            else {
                float[] choices = {0.5f, 1, 2, 3, 4, 1.5f, 0.75f, 2.5f};
                scales = new float[] {1, 1, choices[r.nextInt(choices.length)], choices[r.nextInt(choices.length)]};
                if (Math.floor(x[2] * scales[2]) < 1 || Math.floor(x[3] * scales[3]) < 1) continue;
            }
            String mode = r.nextBoolean() ? "nearest" : "linear";
            String coord = coords[r.nextInt(coords.length)];
            String rounding = roundings[r.nextInt(roundings.length)];
            Path m = model(dir, "random" + k, "Resize", 13, x, null, scales, sizes, r.nextBoolean(),
                    "mode", mode, "coordinate_transformation_mode", coord, "nearest_mode", rounding);
            total++;
            boolean nat = resampledNatively(m, x);
            if (nat) lowered++;
            try (Tensor t = random(x, k)) {
                float[] java = run(m, t, CONFIGS.get(2), null);
                Fixtures.assertClose(java, run(m, t, CONFIGS.get(0), null), 1e-6, "case " + k + " " + mode + " " + coord + " " + rounding);
            }
        }
        System.out.println("resize random sweep: " + lowered + " of " + total + " cases lowered to oneDNN resampling, all equal to Java");
    }

    // ------------------------------------------------------------------ other oracles

    /** torch's antialiased downscaling (PIL filters) is ONNX-18's antialias=1 with exclude_outside=1 (bicubic: A = −0.5). */
    @Test
    void antialiasMatchesTorch(@TempDir Path dir) throws IOException {
        for (String kind : List.of("bilinear", "bicubic")) {
            try (Tensor x = Fixtures.tensor(FIXTURES.resolve("aa_" + kind + "_x.npy")); Tensor want = Fixtures.tensor(FIXTURES.resolve("aa_" + kind + "_y.npy"))) {
                Path m = model(dir, "aa_" + kind, "Resize", 18, x.shape(), null, null, want.shape(), false,
                        "mode", kind.equals("bilinear") ? "linear" : "cubic", "antialias", 1L, "exclude_outside", 1L, "cubic_coeff_a", -0.5f);
                for (Config c : CONFIGS) Fixtures.assertClose(want.toArray(), run(m, x, c, want.shape()), 1e-5, "antialias " + kind + " on " + c.name());
            }
        }
    }

    /** keep_aspect_ratio_policy and axes (opset 18) give torch's ×2 bilinear when the policy picks scale 2. */
    @Test
    void keepAspectRatioAndAxes(@TempDir Path dir) throws IOException {
        try (Tensor x = Fixtures.tensor(FIXTURES.resolve("bilinear_ac0_x2_x.npy")); Tensor want = Fixtures.tensor(FIXTURES.resolve("bilinear_ac0_x2_y.npy"))) {
            // x is 1×3×5×7, want 1×3×10×14.
            Path notLarger = model(dir, "not_larger", "Resize", 18, x.shape(), null, null, new long[] {10, 100}, false,
                    "mode", "linear", "axes", new long[] {2, 3}, "keep_aspect_ratio_policy", "not_larger");
            Path notSmaller = model(dir, "not_smaller", "Resize", 18, x.shape(), null, null, new long[] {4, 14}, false,
                    "mode", "linear", "axes", new long[] {-2, -1}, "keep_aspect_ratio_policy", "not_smaller");
            Path axesScales = model(dir, "axes_scales", "Resize", 18, x.shape(), null, new float[] {2, 2}, null, false,
                    "mode", "linear", "axes", new long[] {3, 2});
            for (Config c : CONFIGS) {
                for (Path m : List.of(notLarger, notSmaller, axesScales)) {
                    Fixtures.assertClose(want.toArray(), run(m, x, c, want.shape()), 1e-5, m.getFileName() + " on " + c.name());
                }
            }
        }
    }

    /** Upsample-7 (scales attribute), Upsample-9 and Resize-10: asymmetric; nearest floors upscaled axes and ceils downscaled ones. */
    @Test
    void legacyOpsets(@TempDir Path dir) throws IOException {
        // ONNX's Upsample example: 1×1×2×2 [[1,2],[3,4]] by (1,1,2,3).
        float[] up = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
        // Resize-10 downsampling 1×1×2×4 [[1..4],[5..8]] by 0.6: [[1, 3]] (ONNX 1.5's Resize-10 test data).
        float[] down = {1, 3};
        // Linear (asymmetric) upsampling of [1, 2] by 4 in 1-D: x' = x/4.
        float[] linear = {1, 1.25f, 1.5f, 1.75f, 2, 2, 2, 2};
        for (Config c : CONFIGS) {
            try (Tensor x = iota(1, 1, 2, 2)) {
                assertArrayEquals(up, run(model(dir, "up7", "Upsample", 7, x.shape(), null, new float[] {1, 1, 2, 3}, null, false), x, c, new long[] {1, 1, 4, 6}), 0, "Upsample-7 " + c.name());
                assertArrayEquals(up, run(model(dir, "up9", "Upsample", 9, x.shape(), null, new float[] {1, 1, 2, 3}, null, false), x, c, new long[] {1, 1, 4, 6}), 0, "Upsample-9 " + c.name());
                assertArrayEquals(up, run(model(dir, "r10", "Resize", 10, x.shape(), null, new float[] {1, 1, 2, 3}, null, false), x, c, new long[] {1, 1, 4, 6}), 0, "Resize-10 " + c.name());
            }
            try (Tensor x = iota(1, 1, 2, 4)) {
                assertArrayEquals(down, run(model(dir, "r10d", "Resize", 10, x.shape(), null, new float[] {1, 1, 0.6f, 0.6f}, null, false), x, c, new long[] {1, 1, 1, 2}), 0, "Resize-10 down " + c.name());
            }
            try (Tensor x = iota(1, 1, 2)) {
                assertArrayEquals(linear, run(model(dir, "lin9", "Upsample", 9, x.shape(), null, new float[] {1, 1, 4}, null, false, "mode", "linear"), x, c, new long[] {1, 1, 8}), 1e-6f, "Upsample-9 linear " + c.name());
            }
        }
    }

    /** Opset 11-13 exports pass an empty roi/scales for "absent": both as "" and as an empty initializer. */
    @Test
    void emptyRoiAndScalesMeanAbsent(@TempDir Path dir) throws IOException {
        try (Tensor x = iota(1, 1, 2, 2)) {
            Path sizesOnly = model(dir, "sizes", "Resize", 11, x.shape(), new float[0], new float[0], new long[] {1, 1, 4, 4}, false, "mode", "nearest",
                    "coordinate_transformation_mode", "asymmetric", "nearest_mode", "floor");
            Path emptyRoi = model(dir, "scales", "Resize", 13, x.shape(), new float[0], new float[] {1, 1, 2, 2}, null, false, "mode", "nearest",
                    "coordinate_transformation_mode", "asymmetric", "nearest_mode", "floor");
            float[] want = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
            for (Config c : CONFIGS) {
                assertArrayEquals(want, run(sizesOnly, x, c, new long[] {1, 1, 4, 4}), 0, c.name());
                assertArrayEquals(want, run(emptyRoi, x, c, new long[] {1, 1, 4, 4}), 0, c.name());
            }
        }
    }

    /** Nearest resizing of integer data is a gather (Java); linear on integers is declared unsupported. */
    @Test
    void integerNearest() {
        Op op = Registry.get("Resize", 13);
        var node = new dev.jdnn.graph.Node("r", "Resize", List.of("x", "", "s"), List.of("y"),
                new dev.jdnn.graph.Attributes(Map.of("mode", "nearest", "coordinate_transformation_mode", "asymmetric", "nearest_mode", "floor")));
        Value x = new Value.Longs(dev.jdnn.DataType.INT64, new long[] {1, 1, 1, 2}, new long[] {7, -3});
        Value s = new Value.Floats(Tensor.of(new float[] {1, 1, 1, 2}, 4));
        Inputs in = Inputs.ofValues(java.util.Arrays.asList(x, null, s));
        try (Op.Step step = op.prepare(node, in, new Op.Context(Backend.JAVA, 13))) {
            Value y = step.run(java.util.Arrays.asList(x, null, s)).get(0);
            assertArrayEquals(new long[] {7, 7, -3, -3}, ((Value.Longs) y).view());
            assertEquals(dev.jdnn.DataType.INT64, step.outputTypes().get(0));
        }
        var linear = new dev.jdnn.graph.Node("r", "Resize", List.of("x", "", "s"), List.of("y"), new dev.jdnn.graph.Attributes(Map.of("mode", "linear")));
        String m = assertThrows(IllegalArgumentException.class, () -> op.prepare(linear, in, new Op.Context(Backend.JAVA, 13))).getMessage();
        assertTrue(m.contains("not supported"), m);
    }

    // ------------------------------------------------------------------ errors

    static String error(Path dir, String name, int opset, float[] roi, float[] scales, long[] sizes, Object... attrs) throws IOException {
        Path m = model(dir, name, "Resize", opset, new long[] {1, 1, 2, 2}, roi, scales, sizes, false, attrs);
        try (Tensor x = iota(1, 1, 2, 2)) {
            return assertThrows(IllegalArgumentException.class, () -> run(m, x, CONFIGS.get(2), null)).getMessage();
        }
    }

    @Test
    void attributeErrorsNameNodeAttributeAndValue(@TempDir Path dir) throws IOException {
        float[] s2 = {1, 1, 2, 2};
        String m = error(dir, "mode", 13, null, s2, null, "mode", "bilinear");
        assertTrue(m.contains("Resize node resize") && m.contains("mode") && m.contains("bilinear"), m);
        m = error(dir, "coord", 13, null, s2, null, "coordinate_transformation_mode", "tf_half_pixel_for_nn");
        assertTrue(m.contains("coordinate_transformation_mode") && m.contains("tf_half_pixel_for_nn"), m);
        m = error(dir, "sym18", 18, null, s2, null, "coordinate_transformation_mode", "half_pixel_symmetric");
        assertTrue(m.contains("half_pixel_symmetric"), m);
        m = error(dir, "nearest_mode", 13, null, s2, null, "nearest_mode", "round");
        assertTrue(m.contains("nearest_mode") && m.contains("round"), m);
        m = error(dir, "exclude", 13, null, s2, null, "exclude_outside", 2L);
        assertTrue(m.contains("exclude_outside") && m.contains("2"), m);
        m = error(dir, "antialias13", 13, null, s2, null, "mode", "linear", "antialias", 1L);
        assertTrue(m.contains("antialias") && m.contains("opset 18"), m);
        m = error(dir, "both", 13, null, s2, new long[] {1, 1, 4, 4});
        assertTrue(m.contains("scales and sizes"), m);
        m = error(dir, "neither", 13, null, null, null);
        assertTrue(m.contains("scales") && m.contains("sizes"), m);
        m = error(dir, "negative", 13, null, new float[] {1, 1, -2, 2}, null);
        assertTrue(m.contains("scales[2]") && m.contains("-2"), m);
        m = error(dir, "count", 13, null, new float[] {2, 2}, null);
        assertTrue(m.contains("scales has 2 values"), m);
        m = error(dir, "roi", 13, null, null, new long[] {1, 1, 3, 3}, "coordinate_transformation_mode", "tf_crop_and_resize");
        assertTrue(m.contains("roi"), m);
        m = error(dir, "axes", 18, null, new float[] {2, 2}, null, "axes", new long[] {2, 2});
        assertTrue(m.contains("axes") && m.contains("repeats"), m);
        m = error(dir, "policy", 18, null, null, new long[] {4, 4}, "axes", new long[] {2, 3}, "keep_aspect_ratio_policy", "fit");
        assertTrue(m.contains("keep_aspect_ratio_policy") && m.contains("fit"), m);
        Path up = model(dir, "updown", "Upsample", 9, new long[] {1, 1, 2, 2}, null, new float[] {1, 1, 0.5f, 1}, null, false);
        try (Tensor x = iota(1, 1, 2, 2)) {
            m = assertThrows(IllegalArgumentException.class, () -> run(up, x, CONFIGS.get(2), null)).getMessage();
            assertTrue(m.contains("Upsample") && m.contains("0.5"), m);
        }
    }

    /** Scales computed at run time are refused with the "data-dependent" message (jdnn needs them at prepare time). */
    @Test
    void runtimeScalesSpecialiseThePlanPerValue(@TempDir Path dir) throws IOException {
        GraphProto g = GraphProto.newBuilder().setName("r").addInput(info("x", 1, 1, 2, 2)).addInput(info("s", 4))
                .addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addNode(NodeProto.newBuilder().setOpType("Resize").setName("resize").addInput("x").addInput("").addInput("s").addOutput("y")).build();
        Path f = dir.resolve("rt.onnx");
        Files.write(f, ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build().toByteArray());
        try (Model m = Model.load(f); Session s = m.session(Session.Options.defaults().withBackend(Backend.JAVA));
             Tensor x = iota(1, 1, 2, 2); Tensor twice = Tensor.of(new float[] {1, 1, 2, 2}, 4); Tensor thrice = Tensor.of(new float[] {1, 1, 3, 3}, 4)) {
            // Scales fed at run time: the session prepares one plan per value of the small input.
            try (Result r2 = s.run(Map.of("x", x, "s", twice), m.outputs()); Result r3 = s.run(Map.of("x", x, "s", thrice), m.outputs())) {
                assertArrayEquals(new long[] {1, 1, 4, 4}, r2.get("y").shape());
                assertArrayEquals(new long[] {1, 1, 6, 6}, r3.get("y").shape());
            }
            assertEquals(2, s.preparedPlans());
            // Without values (shape inference alone) the scales are unknown: a clear error naming the input.
            String msg = assertThrows(IllegalArgumentException.class, () -> m.tensorShapes(Map.of("x", x.shape(), "s", twice.shape()))).getMessage();
            assertTrue(msg.contains("scales") && msg.contains("resize"), msg);
        }
    }
}
