package dev.jdnn.graph;

import static dev.jdnn.testing.Fixtures.array;
import static dev.jdnn.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.ops.winograd.WinogradChoice;
import dev.jdnn.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Winograd convolutions inside compiled plans: with every eligible 3×3 conv forced onto Winograd
 * ({@code jdnn.winograd.choice=always}), torchvision models exported from PyTorch still match PyTorch within
 * the model tests' 1e-4 · max(1, |expected|), for EXACT (F(2×2,3×3)) and FAST (F(4×4,3×3)); explain says
 * which layers run Winograd. ResNet has 3×3 convs with folded BN, residual sum and ReLU fused; GoogLeNet
 * and DenseNet have them before a Concat; SqueezeNet's have bias and ReLU.
 */
class WinogradPlanTest {
    static final Path DIR = Fixtures.ROOT.resolve("models");

    static Stream<Arguments> models() {
        return Stream.of("resnet_eval", "googlenet_eval", "densenet_eval", "squeezenet_eval").flatMap(m -> Stream.of(
                Arguments.of(m, Optimizations.Winograd.EXACT), Arguments.of(m, Optimizations.Winograd.FAST)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("models")
    void forcedWinogradMatchesPyTorch(String name, Optimizations.Winograd mode) {
        Path dir = DIR.resolve(name);
        withWinogradForced(() -> {
            try (Model model = Model.load(dir.resolve("model.onnx"));
                 Session session = model.session(Session.Options.defaults().withOptimizations(Optimizations.all().withWinograd(mode)));
                 Tensor x = Fixtures.tensor(dir.resolve("input.npy"))) {
                List<String> explain = session.explain(Map.of("input", x.shape()), List.of("output"));
                String tile = mode == Optimizations.Winograd.EXACT ? "winograd F(2×2,3×3)" : "winograd F(4×4,3×3)";
                long winograd = explain.stream().filter(l -> l.contains(tile)).count();
                assertTrue(winograd > 0, name + ": no layer runs " + tile + ":\n" + String.join("\n", explain));
                try (Result r = session.run(Map.of("input", x), List.of("output"))) {
                    assertClose(array(dir.resolve("output.npy")), r.get("output").toArray(), TorchvisionModelsTest.TOLERANCE,
                            name + " output with " + winograd + " Winograd layers (" + mode + ")");
                }
            }
        });
    }

    /**
     * A forced Winograd plan keeps jdnn's promise that a steady-state run into caller tensors allocates
     * nothing (issue 13: F(4×4)'s output transform once boxed its residual loads, 96 KB per ResNet run).
     * Up to 10 windows: the Vector API allocates on every call until C2 has compiled the transforms.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("models")
    void forcedWinogradRunIntoCallerTensorsAllocatesNothing(String name, Optimizations.Winograd mode) {
        Session.Options options = Session.Options.defaults().withThreads(1).withOptimizations(Optimizations.all().withWinograd(mode));
        withWinogradForced(() -> TorchvisionModelsTest.assertSteadyStateRunAllocatesNothing(name, options, 10));
    }

    /** Runs {@code body} with {@code jdnn.winograd.choice=always} (every eligible conv on Winograd), then restores the property. */
    static void withWinogradForced(Runnable body) {
        String before = System.getProperty(WinogradChoice.CHOICE_PROPERTY);
        System.setProperty(WinogradChoice.CHOICE_PROPERTY, "always");
        try {
            body.run();
        } finally {
            if (before == null) System.clearProperty(WinogradChoice.CHOICE_PROPERTY);
            else System.setProperty(WinogradChoice.CHOICE_PROPERTY, before);
        }
    }

    /** Timed (the default): every eligible conv says what it measured and chose; OFF leaves only direct convs. */
    @Test
    void explainShowsTheTimedChoiceAndOffHasNone() {
        Path dir = DIR.resolve("resnet_eval");
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"))) {
            try (Session session = model.session(Session.Options.defaults().withThreads(1).withOptimizations(Optimizations.all().withWinograd(Optimizations.Winograd.FAST)))) {
                List<String> explain = session.explain(Map.of("input", x.shape()), List.of("output"));
                // Every eligible 3×3 layer says how it was chosen: timed now, or a decision of an earlier timing (this JVM's,
                // or another JVM's on this machine, read from the autotune cache).
                List<String> eligible = explain.stream().filter(l -> l.contains("k3x3 s1x1") && l.contains("d1x1 g1")).toList();
                assertFalse(eligible.isEmpty(), String.join("\n", explain));
                for (String l : eligible) assertTrue(l.contains("timed: direct") || l.contains("(timed earlier)"), l);
                for (String l : eligible) {
                    if (l.contains("timed: direct")) assertTrue(l.matches(".*F\\(2×2,3×3\\) [0-9.]+ ms, F\\(4×4,3×3\\) [0-9.]+ ms → .*"), l);
                }
                try (Result r = session.run(Map.of("input", x), List.of("output"))) {
                    assertClose(array(dir.resolve("output.npy")), r.get("output").toArray(), TorchvisionModelsTest.TOLERANCE, "resnet timed FAST");
                }
            }
            try (Session off = model.session(Session.Options.defaults().withOptimizations(Optimizations.all().withWinograd(Optimizations.Winograd.OFF)))) {
                List<String> explain = off.explain(Map.of("input", x.shape()), List.of("output"));
                assertTrue(explain.stream().noneMatch(l -> l.contains("winograd") || l.contains("timed:")), String.join("\n", explain));
            }
        }
    }
    /**
     * A session on two threads runs jdnn's Winograd only in the slices of a split batch: a whole-batch plan (odd batch)
     * keeps every 3×3 layer direct and says why (layers that fork would run Winograd's Java helper threads against
     * oneDNN's spinning OpenMP workers; and the one-thread plan it may be timed against must give the same bits), and the
     * results of the two kinds of plan both match PyTorch.
     */
    @Test
    void twoThreadsRunWinogradOnlyInTheSlicesOfASplitBatch() {
        Path dir = DIR.resolve("resnet_eval");
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Tensor x = Fixtures.tensor(dir.resolve("input.npy"));
             Session session = model.session(Session.Options.defaults().withThreads(2)
                     .withOptimizations(Optimizations.all().withWinograd(Optimizations.Winograd.EXACT)))) {
            // The fixture's batch of 2 splits into two one-thread slices, which may run Winograd.
            List<String> split = session.explain(Map.of("input", x.shape()), List.of("output"));
            assertTrue(split.stream().anyMatch(l -> l.startsWith("split ")), String.join("\n", split));
            assertTrue(split.stream().noneMatch(l -> l.contains("winograd off")), String.join("\n", split));
            assertTrue(split.stream().filter(l -> l.contains("k3x3 s1x1") && l.contains("d1x1 g1"))
                    .allMatch(l -> l.contains("timed: direct") || l.contains("(timed earlier)")), String.join("\n", split));
            float[] expected = array(dir.resolve("output.npy"));
            try (Result r = session.run(Map.of("input", x), List.of("output"))) {
                assertClose(expected, r.get("output").toArray(), TorchvisionModelsTest.TOLERANCE, "resnet, batch 2 split on 2 threads");
            }
            // One sample: the whole batch on two threads, no Winograd.
            long[] one = x.shape().clone();
            one[0] = 1;
            float[] first = java.util.Arrays.copyOf(x.toArray(), (int) Tensor.elementCount(one));
            try (Tensor x1 = Tensor.of(first, one)) {
                List<String> whole = session.explain(Map.of("input", one), List.of("output"));
                List<String> eligible = whole.stream().filter(l -> l.contains("k3x3 s1x1") && l.contains("d1x1 g1")).toList();
                assertFalse(eligible.isEmpty(), String.join("\n", whole));
                for (String l : eligible) assertTrue(l.contains("(direct: winograd off: 2 threads and the batch is not split)"), l);
                assertTrue(whole.stream().noneMatch(l -> l.contains("winograd F") || l.contains("timed:")), String.join("\n", whole));
                try (Result r = session.run(Map.of("input", x1), List.of("output"))) {
                    float[] y = r.get("output").toArray();
                    assertClose(java.util.Arrays.copyOf(expected, y.length), y, TorchvisionModelsTest.TOLERANCE, "resnet, batch 1 on 2 threads");
                }
            }
        }
    }
}
