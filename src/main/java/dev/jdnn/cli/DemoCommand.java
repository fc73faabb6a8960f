package dev.jdnn.cli;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Npy;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import java.util.stream.Stream;

/**
 * {@code ./jdnn demo}: runs the model embedded in the jar (torchvision's GoogLeNet architecture with
 * {@code transform_input=True}, narrowed to 64×64 input and random weights, exported from PyTorch 1.13)
 * on the native backend (fused and unfused) and on the Java backend, and checks each against the output
 * PyTorch computed and against PyTorch's forward hook on {@code conv1.bn} — the seed case where re-wrapping
 * {@code conv1} would silently drop {@code transform_input}. Exit code 1 if anything disagrees.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the embedded GoogLeNet on native (fused, unfused) and Java, checks each against PyTorch's output and its "
                + "conv1.bn hook, and prints their latencies; exit code 1 if any disagrees."})
final class DemoCommand extends Subcommand {
    static final double TOLERANCE = 1e-4;
    /** conv1.bn's output: the exporter folds the eval-mode BN into the Conv node, so it is that node's output. */
    static final String TAP = "/conv1/conv/Conv_output_0";
    private static final String RESOURCES = "/dev/jdnn/demo/";

    @Option(names = "--iterations", paramLabel = "I", defaultValue = "20", description = "timed runs per backend; default ${DEFAULT-VALUE}")
    int iterations;

    private record Variant(String label, Backend backend, Optimizations optimizations) {}

    @Mixin
    ThreadsOption threadsOption;

    @Override
    public Integer call() {
        int threads = threadsOption.resolve(this);
        atLeast(iterations, 1, "--iterations");
        Path dir = extract();
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Tensor input = Npy.read(dir.resolve("input.npy"));
             Tensor expectedOutput = Npy.read(dir.resolve("output.npy"));
             Tensor expectedTap = Npy.read(dir.resolve("tap_0.npy"))) {
            String inputName = model.inputs().keySet().iterator().next();
            String outputName = model.outputs().get(0);
            Map<String, Tensor> inputs = Map.of(inputName, input);
            out.println("jdnn demo: GoogLeNet (torchvision architecture, transform_input=True, narrowed; random weights),");
            out.printf(Locale.ROOT, "  embedded in the jar with PyTorch 1.13's output. %d nodes, input '%s' %s, %.0f MFLOP per run, %d threads%n%n",
                    model.operatorCounts().values().stream().mapToInt(Integer::intValue).sum(), inputName, Tensor.format(input.shape()),
                    model.flops(Map.of(inputName, input.shape())) / 1e6, threads);
            List<Variant> variants = List.of(
                    new Variant("native, fused (compiled)", Backend.NATIVE, Optimizations.all()),
                    new Variant("native, unfused (compiled)", Backend.NATIVE, Optimizations.unfused()),
                    new Variant("native, node by node", Backend.NATIVE, Optimizations.none()),
                    new Variant("java reference", Backend.JAVA, Optimizations.none()));
            out.printf(Locale.ROOT, "%-28s %-24s %-26s %12s%n", "backend", "output vs PyTorch", "tap conv1.bn vs PyTorch", "median ms");
            boolean allAgree = true;
            double fusedMs = 0;
            float[] firstTap = null;
            for (Variant v : variants) {
                try (Session session = model.session(new Session.Options(v.backend(), threads, v.optimizations()))) {
                    double outputError, tapError;
                    try (Result r = session.run(inputs, List.of(outputName, TAP))) {
                        outputError = relativeError(expectedOutput.toArray(), r.get(outputName).toArray());
                        tapError = relativeError(expectedTap.toArray(), r.get(TAP).toArray());
                        if (firstTap == null) firstTap = r.get(TAP).toArray();
                    }
                    double ms = medianMillis(session, inputs, iterations);
                    if (v.optimizations().equals(Optimizations.all()) && v.backend() == Backend.NATIVE) fusedMs = ms;
                    boolean agree = outputError <= TOLERANCE && tapError <= TOLERANCE;
                    allAgree &= agree;
                    out.printf(Locale.ROOT, "%-28s %-24s %-26s %12.2f%s%n", v.label(), verdict(outputError), verdict(tapError), ms,
                            fusedMs > 0 && ms != fusedMs ? String.format(Locale.ROOT, "  (%.1fx fused)", ms / fusedMs) : "");
                }
            }
            out.printf(Locale.ROOT, "%nerror = max |jdnn - PyTorch| / max(1, |PyTorch|) over all elements; agreement means <= %.0e.%n", TOLERANCE);
            out.println("Tap: " + TAP + " " + Tensor.format(expectedTap.shape()) + " is conv1.bn's output after transform_input; first values "
                    + Arrays.toString(Arrays.copyOf(firstTap, 4)) + ".");
            out.println("A tap is a copy taken before any fusion or in-place op could change it; re-wrapping conv1 would have skipped transform_input.");
            out.println(allAgree ? "All backends agree with PyTorch." : "DISAGREEMENT with PyTorch: see the rows above.");
            return allAgree ? Main.OK : Main.FAILURE;
        } catch (IOException e) {
            throw new UncheckedIOException("reading the embedded demo model: " + e.getMessage(), e);
        } finally {
            delete(dir);
        }
    }

    private static double medianMillis(Session session, Map<String, Tensor> inputs, int iterations) {
        for (int i = 0; i < 3; i++) session.run(inputs).close();
        long[] nanos = new long[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            session.run(inputs).close();
            nanos[i] = System.nanoTime() - t0;
        }
        Arrays.sort(nanos);
        return nanos[iterations / 2] / 1e6;
    }

    static double relativeError(float[] expected, float[] actual) {
        if (expected.length != actual.length) return Double.POSITIVE_INFINITY;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = Math.abs((double) actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
            if (Double.isNaN(e)) return Double.NaN;
            worst = Math.max(worst, e);
        }
        return worst;
    }

    private static String verdict(double error) {
        return String.format(Locale.ROOT, "%s (error %.1e)", error <= TOLERANCE ? "agrees" : "DIFFERS", error);
    }

    /** The model and .npy files as real files: the loaders read paths (external data lives next to a model). */
    private static Path extract() {
        try {
            Path dir = Files.createTempDirectory("jdnn-demo");
            for (String name : List.of("model.onnx", "input.npy", "output.npy", "tap_0.npy")) {
                try (InputStream in = DemoCommand.class.getResourceAsStream(RESOURCES + name)) {
                    if (in == null) {
                        delete(dir);
                        throw new IllegalStateException("the demo model is missing from the jar (" + RESOURCES + name + "); rebuild with mvn package");
                    }
                    Files.copy(in, dir.resolve(name));
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("extracting the demo model: " + e.getMessage(), e);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
