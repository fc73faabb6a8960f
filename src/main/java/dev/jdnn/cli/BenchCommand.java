package dev.jdnn.cli;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./jdnn bench}: whole-model latency on random input. Reports p50/p90/p99, throughput and the
 * GFLOP/s of the convolutions and matrix products; {@code --compare-ort} runs ONNX Runtime Java on the
 * same model and input in the same process, interleaved with jdnn, and prints both and their ratio.
 * A quick tool: the recorded comparisons come from JMH in bench/. Progress goes to stderr (see {@link Progress}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Latency p50/p90/p99, throughput and GFLOP/s of a model on random input; optionally ONNX Runtime side by side."})
final class BenchCommand extends Subcommand {
    @Option(names = "--model", required = true, paramLabel = "M.onnx", description = "the ONNX model (one input)")
    Path model;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", description = "batch size (the input's first dimension); default ${DEFAULT-VALUE}")
    int batch;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "5", description = "untimed runs first; default ${DEFAULT-VALUE}")
    int warmup;

    @Option(names = "--iterations", paramLabel = "I", defaultValue = "30", description = "timed runs; default ${DEFAULT-VALUE}")
    int iterations;

    @Option(names = "--compare-ort", arity = "0..1", paramLabel = "true|false", fallbackValue = "true", defaultValue = "false",
            description = "also run ONNX Runtime Java on the same model and input, interleaved, and print the ratio")
    boolean compareOrt;

    @Mixin
    CompileOptions compile;

    @Mixin
    BackendOption backendOption;

    @Mixin
    ThreadsOption threadsOption;

    @Override
    public Integer call() {
        atLeast(batch, 1, "--batch");
        int threads = threadsOption.resolve(this);
        Backend backend = backendOption.backend;
        atLeast(warmup, 0, "--warmup");
        atLeast(iterations, 1, "--iterations");
        existing(model, "model");
        Optimizations optimizations = compile.optimizations();
        try (Model m = Model.load(model); Session session = m.session(new Session.Options(backend, threads, optimizations))) {
            if (m.inputs().size() != 1) throw new Main.CliException("bench feeds one input; this model has " + m.inputs().keySet());
            String inputName = m.inputs().keySet().iterator().next();
            long[] shape = m.inputs().get(inputName).clone();
            for (int i = 0; i < shape.length; i++) if (shape[i] < 0) shape[i] = i == 0 ? batch : 1;
            if (shape.length > 0) shape[0] = batch;
            double gflop = m.flops(Map.of(inputName, shape)) / 1e9;
            float[] data = new float[(int) Arrays.stream(shape).reduce(1, Math::multiplyExact)];
            Random random = new Random(42);
            for (int i = 0; i < data.length; i++) data[i] = (float) random.nextGaussian();
            out.printf(Locale.ROOT, "%s: input %s %s, %.2f GFLOP per run, backend %s (optimizations %s), %d threads%n", model.getFileName(), inputName,
                    Tensor.format(shape), gflop, backend.name().toLowerCase(Locale.ROOT), backend == Backend.JAVA ? "none" : optimizations, threads);
            OrtRunner ort = compareOrt ? OrtRunner.open(model, inputName, shape, data, threads) : null;
            try (Tensor x = Tensor.of(data, shape); ort) {
                long[] jdnnNanos = new long[iterations];
                long[] ortNanos = new long[iterations];
                float[] jdnnFirst = null;
                try (Progress progress = progress("bench " + model.getFileName(), warmup + iterations)) {
                    for (int i = -warmup; i < iterations; i++) {
                        long t0 = System.nanoTime();
                        try (Result r = session.run(Map.of(inputName, x))) {
                            if (jdnnFirst == null) jdnnFirst = r.get(m.outputs().get(0)).toArray();
                        }
                        long t1 = System.nanoTime();
                        if (ort != null) ort.run();
                        long t2 = System.nanoTime();
                        if (i >= 0) {
                            jdnnNanos[i] = t1 - t0;
                            ortNanos[i] = t2 - t1;
                        }
                        progress.advance(1);
                    }
                }
                double jdnnP50 = report(out, "jdnn (" + backend.name().toLowerCase(Locale.ROOT) + ")", jdnnNanos, batch, gflop);
                if (ort != null) {
                    double ortP50 = report(out, "ONNX Runtime " + ort.version(), ortNanos, batch, gflop);
                    out.printf(Locale.ROOT, "median latency jdnn / ONNX Runtime = %.2f (< 1: jdnn is faster); max |difference| of outputs %.2e%n",
                            jdnnP50 / ortP50, ort.maxDifference(jdnnFirst));
                }
            }
        }
        return Main.OK;
    }

    private static double report(PrintStream out, String name, long[] nanos, int batch, double gflop) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        double p50 = percentile(sorted, 50), p90 = percentile(sorted, 90), p99 = percentile(sorted, 99);
        out.printf(Locale.ROOT, "%-24s p50 %8.2f ms  p90 %8.2f ms  p99 %8.2f ms  %8.1f images/s  %6.1f GFLOP/s%n",
                name, p50, p90, p99, batch * 1000 / p50, gflop / (p50 / 1000));
        return p50;
    }

    static double percentile(long[] sorted, int p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }
}
