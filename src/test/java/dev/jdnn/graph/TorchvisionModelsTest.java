package dev.jdnn.graph;

import static dev.jdnn.testing.Fixtures.array;
import static dev.jdnn.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * torchvision CNNs exported from PyTorch (src/test/python/gen_onnx_models.py, both TrainingMode.EVAL and
 * PRESERVE): jdnn's outputs and taps must equal PyTorch's outputs and forward-hook outputs within
 * 1e-4 · max(1, |expected|), on both backends.
 */
class TorchvisionModelsTest {
    static final Path DIR = Fixtures.ROOT.resolve("models");
    static final double TOLERANCE = 1e-4;

    record Tap(String module, String tensor, Path file) {}

    static List<Tap> taps(Path dir) throws IOException {
        List<Tap> taps = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("taps.txt"))) {
            if (line.isBlank()) continue;
            String[] f = line.split(" ");
            taps.add(new Tap(f[0], f[1], dir.resolve(f[2])));
        }
        return taps;
    }

    /** Every model on: native with every fusion, native compiled but unfused, native node by node, Java. */
    static Stream<Arguments> modelsOnBothBackends() throws IOException {
        try (Stream<Path> dirs = Files.list(DIR)) {
            return dirs.sorted().toList().stream().map(d -> d.getFileName().toString()).flatMap(d -> Stream.of(
                    Arguments.of(d, Backend.NATIVE, Optimizations.all()),
                    Arguments.of(d, Backend.NATIVE, Optimizations.unfused()),
                    Arguments.of(d, Backend.NATIVE, new Optimizations(true, true, false, false, false, false)),
                    Arguments.of(d, Backend.NATIVE, Optimizations.none()),
                    Arguments.of(d, Backend.JAVA, Optimizations.none())));
        }
    }

    @ParameterizedTest(name = "{0} on {1}, optimizations {2}")
    @MethodSource("modelsOnBothBackends")
    void outputsAndTapsMatchPyTorch(String name, Backend backend, Optimizations optimizations) throws IOException {
        Path dir = DIR.resolve(name);
        List<Tap> taps = taps(dir);
        List<String> requested = new ArrayList<>(List.of("output"));
        taps.forEach(t -> requested.add(t.tensor()));
        Session.Options options = Session.Options.defaults().withBackend(backend).withOptimizations(optimizations);
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session session = model.session(options);
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"))) {
            // Output alone: nothing is tapped, so every fusion applies.
            try (Result alone = session.run(Map.of("input", x), List.of("output"))) {
                assertClose(array(dir.resolve("output.npy")), alone.get("output").toArray(), TOLERANCE, name + " output (no taps)");
            }
        }
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session session = model.session(options);
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"));
             Result result = session.run(Map.of("input", x), requested)) {
            assertClose(array(dir.resolve("output.npy")), result.get("output").toArray(), TOLERANCE, name + " output");
            for (Tap tap : taps) {
                assertClose(array(tap.file()), result.get(tap.tensor()).toArray(), TOLERANCE,
                        name + " tap " + tap.tensor() + " (PyTorch hook on " + tap.module() + ")");
            }
        }
    }

    /**
     * The seed's GoogLeNet case: with transform_input=True, the tap at conv1's batch-norm output equals
     * PyTorch's hook on conv1.bn. A naive re-wrap of conv1 (feeding it the raw input) would skip
     * transform_input and get a different tensor, which this test also shows.
     */
    @Test
    void googlenetTapAtConv1BnSeesTransformInput() throws IOException {
        for (String variant : List.of("googlenet_eval", "googlenet_preserve")) {
            Path dir = DIR.resolve(variant);
            Tap bn = taps(dir).stream().filter(t -> t.module().equals("conv1.bn")).findFirst().orElseThrow();
            try (Model model = Model.load(dir.resolve("model.onnx"));
                 Session session = model.session(Session.Options.defaults());
                 Tensor x = Fixtures.tensor(dir.resolve("input.npy"));
                 Result result = session.run(Map.of("input", x), List.of(bn.tensor()))) {
                float[] hooked = array(bn.file());
                assertClose(hooked, result.get(bn.tensor()).toArray(), TOLERANCE, variant + " conv1.bn tap");
                assertEquals(1, result.names().size(), "only what was requested comes back");
            }
            // A re-wrap of conv1 would feed it the raw input; the graph feeds it transform_input(x):
            // channel c becomes x_c·std_c/0.5 + (mean_c − 0.5)/0.5 with ImageNet's mean and std.
            var loaded = dev.jdnn.onnx.OnnxLoader.load(dir.resolve("model.onnx"));
            Node conv = loaded.graph().nodes().stream().filter(n -> n.name().startsWith("/conv1/conv/")).findFirst().orElseThrow();
            loaded.release();
            try (Model model = Model.load(dir.resolve("model.onnx"));
                 Session session = model.session(Session.Options.defaults());
                 Tensor x = Fixtures.tensor(dir.resolve("input.npy"));
                 Result result = session.run(Map.of("input", x), List.of(conv.inputs().get(0)))) {
                Tensor seen = result.get(conv.inputs().get(0));
                double[] mean = {0.485, 0.456, 0.406}, std = {0.229, 0.224, 0.225};
                float[] raw = x.toArray(), transformed = new float[raw.length];
                int plane = 64 * 64;
                for (int i = 0; i < raw.length; i++) {
                    int c = (i / plane) % 3;
                    transformed[i] = (float) (raw[i] * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5);
                }
                assertClose(transformed, seen.toArray(), 1e-5, variant + ": conv1 sees the transformed input");
                assertTrue(dev.jdnn.testing.Fixtures.maxScaledError(raw, seen.toArray()) > 0.1, "which is not the raw input");
            }
        }
    }

    @Test
    void sessionPreparesOncePerBatchSizeAndRunsOnlyWhatIsNeeded() throws IOException {
        Path dir = DIR.resolve("resnet_eval");
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session session = model.session(Session.Options.defaults());
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"));
             Tensor one = Tensor.copyOf(x.sliceBatch(0, 1))) {
            float[] expected = array(dir.resolve("output.npy"));
            for (int i = 0; i < 3; i++) {
                try (Result r = session.run(Map.of("input", x))) {
                    assertClose(expected, r.get("output").toArray(), TOLERANCE, "run " + i);
                }
            }
            assertEquals(1, session.preparedPlans());
            try (Result r = session.run(Map.of("input", one))) {
                float[] first = java.util.Arrays.copyOf(expected, 10);
                assertClose(first, r.get("output").toArray(), TOLERANCE, "batch 1 = first row of batch 2");
            }
            assertEquals(2, session.preparedPlans(), "a new batch size is a new plan");
            String early = taps(dir).get(0).tensor();
            Map<String, long[]> shapes = model.tensorShapes(Map.of("input", x.shape()));
            assertArrayEquals(new long[] {2, 10}, shapes.get("output"));
            assertArrayEquals(new long[] {2, 16, 32, 32}, shapes.get(early));
            try (Result r = session.run(Map.of("input", x), List.of(early))) {
                assertArrayEquals(new long[] {2, 16, 32, 32}, r.get(early).shape());
            }
        }
    }

    @Test
    void concurrentRunsOnOneSessionAgree() throws Exception {
        Path dir = DIR.resolve("mobilenet_v2_eval");
        float[] expected = array(dir.resolve("output.npy"));
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session session = model.session(Session.Options.defaults());
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"))) {
            var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<float[]>> futures = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    futures.add(pool.submit(() -> {
                        try (Result r = session.run(Map.of("input", x))) {
                            return r.get("output").toArray();
                        }
                    }));
                }
                for (var f : futures) assertClose(expected, f.get(), TOLERANCE, "concurrent run");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void tapsAreCopiesThatLaterOpsCannotChange() throws IOException {
        Path dir = DIR.resolve("resnet_eval");
        // layer1's last ReLU output feeds layer2; the tap must keep the value PyTorch's hook saw.
        Tap layer1 = taps(dir).stream().filter(t -> t.module().equals("layer1")).findFirst().orElseThrow();
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session session = model.session(Session.Options.defaults());
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"));
             Result result = session.run(Map.of("input", x), List.of(layer1.tensor(), "output"))) {
            Tensor tapped = result.get(layer1.tensor());
            assertClose(array(layer1.file()), tapped.toArray(), TOLERANCE, "tap");
            try (Result again = session.run(Map.of("input", x), List.of(layer1.tensor(), "output"))) {
                assertNotEquals(tapped.segment().address(), again.get(layer1.tensor()).segment().address(), "each result owns its tensors");
            }
            assertClose(array(layer1.file()), tapped.toArray(), TOLERANCE, "unchanged by a later run");
        }
    }

    @Test
    void compiledResNetFusesConvBnAddRelu() throws IOException {
        // The PRESERVE export keeps its BatchNormalization nodes (the EVAL export has PyTorch fold them already).
        Path dir = DIR.resolve("resnet_preserve");
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session fused = model.session(Session.Options.defaults());
             Session unfused = model.session(Session.Options.defaults().withOptimizations(Optimizations.unfused()))) {
            Map<String, long[]> shapes = Map.of("input", new long[] {2, 3, 64, 64});
            List<String> plan = fused.explain(shapes, List.of("output"));
            long convs = model.operatorCounts().get("Conv"), bns = model.operatorCounts().get("BatchNormalization");
            assertTrue(bns > 0 && convs > 0);
            assertEquals(convs, plan.stream().filter(l -> l.contains("(folded)")).count(), "every BN follows a conv and is folded: " + plan);
            assertEquals((long) model.operatorCounts().get("Add"), plan.stream().filter(l -> l.contains("(sum post-op)")).count(), "every residual Add is a sum post-op");
            assertTrue(plan.stream().anyMatch(l -> l.contains("(eltwise post-op)")));
            assertTrue(plan.stream().noneMatch(l -> l.startsWith("java")), "ResNet runs entirely natively: " + plan);
            assertTrue(plan.stream().anyMatch(l -> l.contains("pooling")), "pools are native");
            List<String> plain = unfused.explain(shapes, List.of("output"));
            assertTrue(plain.stream().noneMatch(l -> l.contains("folded") || l.contains("post-op")), "unfused has no fusion: " + plain);
            assertTrue(plain.size() > plan.size());
        }
    }

    @Test
    void concatInPlaceWritesInputsIntoTheirSlicesAndChangesNoValue() throws IOException {
        // GoogLeNet's transform_input: three 1×1×64×64 planes (/Add*, plain NCHW) concatenated along channels.
        // At batch 1 each plane is a contiguous slice of the output, so the producers write there directly.
        Path dir = DIR.resolve("googlenet_eval");
        List<String> requested = List.of("output", "/Concat_output_0", "/Add_1_output_0");
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session inPlace = model.session(Session.Options.defaults());
             Session copying = model.session(Session.Options.defaults().withOptimizations(Optimizations.all().withConcatInPlace(false)));
             Tensor batch = Fixtures.tensor(dir.resolve("input.npy"));
             Tensor x = Tensor.of(Arrays.copyOf(batch.toArray(), 3 * 64 * 64), 1, 3, 64, 64); // the fixture's first image
             Result a = inPlace.run(Map.of("input", x), requested);
             Result b = copying.run(Map.of("input", x), requested)) {
            String concat = inPlace.explain(Map.of("input", x.shape()), requested).stream()
                    .filter(l -> l.contains("/Concat:")).findFirst().orElseThrow();
            assertTrue(concat.contains("(in place"), concat);
            assertTrue(copying.explain(Map.of("input", x.shape()), requested).stream().noneMatch(l -> l.contains("(in place")));
            for (String name : requested) assertArrayEquals(b.get(name).toArray(), a.get(name).toArray(), name);
            float[] expected = array(dir.resolve("output.npy"));
            assertClose(Arrays.copyOf(expected, expected.length / 2), a.get("output").toArray(), TOLERANCE, "output of the first image");
            // The middle plane is the middle channel of the concat: the slice and the view agree.
            float[] all = a.get("/Concat_output_0").toArray();
            float[] middle = a.get("/Add_1_output_0").toArray();
            assertArrayEquals(middle, Arrays.copyOfRange(all, middle.length, 2 * middle.length));
            // Batch 2: channel slices are no longer contiguous, so the Concat copies.
            assertTrue(inPlace.explain(Map.of("input", new long[] {2, 3, 64, 64}), requested).stream().noneMatch(l -> l.contains("(in place")));
        }
    }

    @Test
    void tapBetweenConvAndReluKeepsItsUnfusedValueAndStopsThatFusionOnly() throws IOException {
        Path dir = DIR.resolve("resnet_eval");
        Tap bn1 = taps(dir).stream().filter(t -> t.module().equals("bn1")).findFirst().orElseThrow();
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session session = model.session(Session.Options.defaults());
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"));
             Result r = session.run(Map.of("input", x), List.of(bn1.tensor(), "output"))) {
            assertClose(array(bn1.file()), r.get(bn1.tensor()).toArray(), TOLERANCE, "bn1 (before the ReLU) as PyTorch's hook saw it");
            assertClose(array(dir.resolve("output.npy")), r.get("output").toArray(), TOLERANCE, "output");
            List<String> plan = session.explain(Map.of("input", x.shape()), List.of(bn1.tensor(), "output"));
            assertTrue(plan.stream().anyMatch(l -> l.contains("eltwise RELU")), "the ReLU after the tapped BN runs on its own: " + plan);
        }
    }

    @Test
    void runIntoCallerTensorsMatchesAndReusesTheFrame() throws IOException {
        Path dir = DIR.resolve("densenet_eval");
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session session = model.session(Session.Options.defaults());
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"))) {
            float[] expected = array(dir.resolve("output.npy"));
            try (Tensor out = Tensor.zeros(2, 10)) {
                for (int i = 0; i < 3; i++) {
                    out.copyFrom(new float[20]);
                    session.run(Map.of("input", x), Map.of("output", out));
                    assertClose(expected, out.toArray(), TOLERANCE, "run " + i);
                }
                try (Tensor wrong = Tensor.zeros(2, 11)) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> session.run(Map.of("input", x), Map.of("output", wrong)));
                    assertTrue(e.getMessage().contains("output"), e.getMessage());
                }
            }
            long[] bytes = session.preparedBytes(Map.of("input", x.shape()), List.of("output"));
            assertTrue(bytes[0] > 0 && bytes[0] < bytes[1], "liveness sharing: " + bytes[0] + " of " + bytes[1] + " bytes");
        }
    }

    /**
     * Steady-state inference into caller tensors allocates nothing on the Java heap: measured with the
     * JVM's per-thread allocation counter over many runs (exact for the calling thread, unlike sampling).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("modelNames")
    void steadyStateRunIntoCallerTensorsAllocatesNothing(String name) throws IOException {
        assertSteadyStateRunAllocatesNothing(name, Session.Options.defaults().withThreads(1), 3);
    }

    /**
     * Runs fixture {@code name} into a caller tensor: 200 runs to prepare and let the JIT settle, then the
     * best of up to {@code windows} windows of 200 runs must allocate 0 bytes per run on the calling thread,
     * and the output must match PyTorch's. Best of several: a one-off (a JIT deoptimisation, a lazily built
     * JDK table, code C2 has not compiled yet) shows in one window; allocation on every run shows in all.
     */
    static void assertSteadyStateRunAllocatesNothing(String name, Session.Options options, int windows) {
        Path dir = DIR.resolve(name);
        var threadBean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session session = model.session(options);
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"));
             Tensor out = Tensor.zeros(model.tensorShapes(Map.of("input", x.shape())).get("output"))) {
            Map<String, Tensor> inputs = Map.of("input", x);
            Map<String, Tensor> outputs = Map.of("output", out);
            for (int i = 0; i < 200; i++) session.run(inputs, outputs);
            int runs = 200;
            long perRun = Long.MAX_VALUE;
            for (int window = 0; window < windows && perRun > 0; window++) {
                long before = threadBean.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < runs; i++) session.run(inputs, outputs);
                perRun = Math.min(perRun, (threadBean.getCurrentThreadAllocatedBytes() - before) / runs);
            }
            assertClose(array(dir.resolve("output.npy")), out.toArray(), TOLERANCE, name + " output");
            assertEquals(0, perRun, name + ": bytes allocated per steady-state run");
        }
    }

    static Stream<String> modelNames() {
        return Stream.of("resnet_eval", "googlenet_eval", "densenet_eval", "mobilenet_v2_eval", "squeezenet_eval", "mobilenet_v3_eval",
                "mobilenet_v3_preserve");
    }

    /**
     * MobileNetV3 (exported at opset 13: HardSwish spelled x·HardSigmoid(x), squeeze-excitation blocks with
     * HardSigmoid gates): every HardSwish and HardSigmoid runs inside the conv before it as an eltwise post-op,
     * and nothing on the hot path falls back to Java.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"mobilenet_v3_eval", "mobilenet_v3_preserve"})
    void mobileNetV3RunsHardSwishAndHardSigmoidAsConvPostOpsAllNative(String name) throws IOException {
        Path dir = DIR.resolve(name);
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session session = model.session(Session.Options.defaults())) {
            List<String> plan = session.explain(Map.of("input", new long[] {2, 3, 64, 64}), List.of("output"));
            String text = String.join("\n", plan);
            assertTrue(plan.stream().noneMatch(l -> l.startsWith("java")), "no Java fallback:\n" + text);
            // Each HardSigmoid of the export, alone (SE gate) or inside x·HardSigmoid(x) (HardSwish), is named in one
            // conv's explain line as its eltwise post-op.
            long hardSigmoids = model.operatorCounts().get("HardSigmoid");
            long fused = plan.stream().filter(l -> l.contains("HardSigmoid") && l.contains("(eltwise post-op)")).count();
            assertEquals(hardSigmoids, fused, "every HardSigmoid and HardSwish is a conv post-op:\n" + text);
        }
    }

    @Test
    void closingASessionDuringRunsNeverCrashes() throws Exception {
        Path dir = DIR.resolve("mobilenet_v2_eval");
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"))) {
            Session session = model.session(Session.Options.defaults());
            session.run(Map.of("input", x)).close();
            var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    futures.add(pool.submit(() -> {
                        for (int k = 0; k < 50; k++) {
                            try (Result r = session.run(Map.of("input", x))) {
                                assertEquals(20, r.get("output").toArray().length);
                            } catch (IllegalStateException closed) {
                                return null;
                            }
                        }
                        return null;
                    }));
                }
                Thread.sleep(20);
                session.close();
                for (var f : futures) f.get();
            } finally {
                pool.shutdownNow();
            }
            assertThrows(IllegalStateException.class, () -> session.run(Map.of("input", x)));
        }
    }
}
