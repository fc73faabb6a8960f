package dev.jdnn.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Real torchvision architectures (full width, random weights, realistic BN statistics) exported by
 * PyTorch at opsets 11, 13 and 17, with BN folded (EVAL) and kept (PRESERVE, no constant folding):
 * src/test/python/gen_torchvision_zoo.py writes them to {@code target/zoo} (too large to commit; CI
 * generates them). Every exported model runs on the native backend with every optimization at batch 1
 * and 2 in one session (symbolic batch axis), and on the Java backend at batch 1 (the reference is plain
 * loops: batch 2 would only double its time). Each output must match PyTorch within
 * max|jdnn − torch| ≤ 1e-4 · max(1, max|torch|): the error relative to the output's scale, because a
 * logit near 0 carries the rounding of a sum whose terms are as large as the output's largest values.
 * The models with symbolic H and W ({@code target/zoo/dynamic_hw}) run at two spatial sizes in one
 * session. Without the directory the tests are skipped, saying how to make it; a model jdnn cannot run
 * (an unsupported operator, say) fails.
 */
class TorchvisionZooTest {
    static final Path ZOO = Path.of(System.getProperty("jdnn.zoo", "target/zoo"));
    static final double TOLERANCE = 1e-4;
    /** Above this many floating-point operations per image, Java runs one export of the architecture (see runArchitecture). */
    static final double JAVA_EVERY_EXPORT_FLOPS = 2e9;
    /** Absent zoo: skipped on a developer's machine, a failure in CI (.ci/run makes it; a silent skip would hide a broken export). */
    static void absent() {
        if ("true".equals(System.getenv("CI"))) org.junit.jupiter.api.Assertions.fail(HOW);
        Assumptions.abort(HOW);
    }

    static final String HOW = "no torchvision zoo in " + ZOO.toAbsolutePath()
            + "; make it with /usr/bin/python3 src/test/python/gen_torchvision_zoo.py --out " + ZOO;

    static List<Path> dirs(Path root) {
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(d -> Files.isRegularFile(d.resolve("meta.txt")) || Files.isDirectory(d)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Path> models(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".onnx")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @TestFactory
    Stream<DynamicNode> everyExportedArchitectureMatchesPyTorch() {
        List<Path> archs = dirs(ZOO).stream().filter(d -> Files.isRegularFile(d.resolve("meta.txt"))).toList();
        if (archs.isEmpty()) return Stream.of(DynamicTest.dynamicTest("zoo absent", TorchvisionZooTest::absent));
        String only = System.getProperty("jdnn.zoo.filter", "");
        return archs.stream().filter(d -> d.getFileName().toString().matches(only.isEmpty() ? ".*" : only))
                .map(d -> DynamicContainer.dynamicContainer(d.getFileName().toString(), models(d).stream().map(m ->
                        DynamicTest.dynamicTest(m.getFileName().toString(), () -> runArchitecture(d, m)))));
    }

    /**
     * Native (all optimizations) at batch 1 then 2 in one session, then Java at batch 1: on every export of an
     * architecture under {@link #JAVA_EVERY_EXPORT_FLOPS}, on the opset-17 EVAL export alone above it (VGG and
     * MaxViT at 224×224 take 30-70 s each on the plain-loop reference; the other exports differ from it in
     * export idioms that the native run covers, not in the convolutions that make the time).
     */
    static void runArchitecture(Path dir, Path file) {
        String what = dir.getFileName() + "/" + file.getFileName();
        List<String> failures = new ArrayList<>();
        long start = System.nanoTime();
        String timing = "";
        try (Model model = Model.load(file)) {
            long loaded = System.nanoTime();
            Session.Options nativeAll = Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.all());
            try (Session session = model.session(nativeAll)) {
                for (int n : new int[] {1, 2}) {
                    check(session, dir, n, what + " native batch " + n, failures);
                }
            }
            long nativeDone = System.nanoTime();
            long[] one = model.inputs().get("input");
            one[0] = 1;
            double flops = failures.isEmpty() ? model.flops(Map.of("input", one)) : 0;
            boolean java = flops <= JAVA_EVERY_EXPORT_FLOPS || file.getFileName().toString().equals("opset17_eval.onnx");
            if (java) {
                try (Session session = model.session(Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()))) {
                    check(session, dir, 1, what + " java batch 1", failures);
                }
            }
            long javaDone = System.nanoTime();
            timing = String.format("load %5.1f s  native b1+b2 %5.1f s  java b1 %s", (loaded - start) / 1e9, (nativeDone - loaded) / 1e9,
                    java ? String.format("%5.1f s", (javaDone - nativeDone) / 1e9) : "  (not run)");
        } catch (RuntimeException e) {
            failures.add(what + ": " + e);
        }
        String status = failures.isEmpty() ? "PASS" : "FAIL " + failures.get(0).replaceAll("\\(nodes [^)]*\\)", "");
        System.out.printf("zoo %-46s %s %s%n", what, timing, status.length() > 300 ? status.substring(0, 300) + "…" : status);
        if (!failures.isEmpty()) fail(String.join("\n", failures));
    }

    /** Runs one batch and records (rather than throws) a mismatch or error, so one model reports every backend. */
    static void check(Session session, Path dir, int n, String what, List<String> failures) {
        try (Tensor x = Fixtures.tensor(dir.resolve("input_b" + n + ".npy"));
             Result r = session.run(Map.of("input", x))) {
            String error = compare(Fixtures.array(dir.resolve("output_b" + n + ".npy")), r.get("output").toArray(), what);
            if (error != null) failures.add(error);
        } catch (RuntimeException e) {
            failures.add(what + ": " + e);
        }
    }

    /** null when max|actual − expected| ≤ TOLERANCE · max(1, max|expected|), else what went wrong. */
    static String compare(float[] expected, float[] actual, String what) {
        if (expected.length != actual.length) return what + ": " + actual.length + " values, PyTorch has " + expected.length;
        double scale = 1, worst = 0;
        int at = 0;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (!(d <= worst)) {
                worst = d;
                at = i;
            }
        }
        if (worst / scale <= TOLERANCE) return null;
        return String.format("%s: max|jdnn − torch| / max(1, max|torch|) = %.3g > %g (element %d: torch %g, jdnn %g)",
                what, worst / scale, TOLERANCE, at, expected[at], actual[at]);
    }

    /**
     * Symbolic H and W beyond the batch: one session runs the model at two spatial sizes (two plans) and
     * matches PyTorch at both, on native and Java.
     */
    @TestFactory
    Stream<DynamicNode> symbolicHeightAndWidthRunAtTwoSizesInOneSession() {
        List<Path> archs = dirs(ZOO.resolve("dynamic_hw"));
        if (archs.isEmpty()) return Stream.of(DynamicTest.dynamicTest("zoo absent", TorchvisionZooTest::absent));
        return archs.stream().map(d -> DynamicContainer.dynamicContainer(d.getFileName().toString(), models(d).stream().flatMap(m ->
                Stream.of(Backend.NATIVE, Backend.JAVA).map(b -> DynamicTest.dynamicTest(m.getFileName() + " on " + b, () -> {
                    List<String> sizes;
                    try (Stream<Path> s = Files.list(d)) {
                        sizes = s.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("input_"))
                                .map(f -> f.substring(6, f.length() - 4)).sorted().toList();
                    }
                    List<String> failures = new ArrayList<>();
                    Optimizations o = b == Backend.NATIVE ? Optimizations.all() : Optimizations.none();
                    try (Model model = Model.load(m);
                         Session session = model.session(Session.Options.defaults().withBackend(b).withOptimizations(o))) {
                        for (String hw : sizes) {
                            try (Tensor x = Fixtures.tensor(d.resolve("input_" + hw + ".npy"));
                                 Result r = session.run(Map.of("input", x))) {
                                String error = compare(Fixtures.array(d.resolve("output_" + hw + ".npy")), r.get("output").toArray(),
                                        d.getFileName() + "/" + m.getFileName() + " " + b + " at " + hw);
                                if (error != null) failures.add(error);
                            } catch (RuntimeException e) {
                                failures.add(m + " " + b + " at " + hw + ": " + e);
                            }
                        }
                        if (failures.isEmpty() && b == Backend.NATIVE) {
                            assertEquals(sizes.size(), session.preparedPlans(), "one plan per spatial size");
                        }
                    }
                    if (sizes.size() < 2) failures.add(d + ": expected inputs at two sizes, found " + sizes);
                    if (!failures.isEmpty()) fail(String.join("\n", failures));
                })))));
    }
}
