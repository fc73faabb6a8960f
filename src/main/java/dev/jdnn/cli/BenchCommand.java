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
import java.util.Set;

/**
 * {@code ./jdnn bench}: whole-model latency on random input. Reports p50/p90/p99, throughput and the
 * GFLOP/s of the convolutions and matrix products; {@code --compare-ort} runs ONNX Runtime Java on the
 * same model and input in the same process, interleaved with jdnn, and prints both and their ratio.
 * A quick tool: the recorded comparisons come from JMH in bench/.
 */
final class BenchCommand {
    static final Set<String> OPTIONS = Set.of("model", "batch", "threads", "warmup", "iterations", "backend", "compare-ort", "optimizations", "autotune", "winograd");

    private BenchCommand() {}

    static int run(Args args, PrintStream out) {
        Path modelFile = Path.of(args.required("model"));
        if (!Files.isRegularFile(modelFile)) throw new Main.CliException("model file " + modelFile + " does not exist");
        int batch = positive(args, "batch", 1);
        int threads = positive(args, "threads", Runtime.getRuntime().availableProcessors());
        int warmup = positive(args, "warmup", 5);
        int iterations = positive(args, "iterations", 30);
        boolean compareOrt = Boolean.parseBoolean(args.one("compare-ort", "false"));
        Backend backend = args.one("backend", "native").equalsIgnoreCase("java") ? Backend.JAVA : Backend.NATIVE;
        Optimizations optimizations = optimizations(args);
        try (Model model = Model.load(modelFile); Session session = model.session(new Session.Options(backend, threads, optimizations))) {
            if (model.inputs().size() != 1) throw new Main.CliException("bench feeds one input; this model has " + model.inputs().keySet());
            String inputName = model.inputs().keySet().iterator().next();
            long[] shape = model.inputs().get(inputName).clone();
            for (int i = 0; i < shape.length; i++) if (shape[i] < 0) shape[i] = i == 0 ? batch : 1;
            if (shape.length > 0) shape[0] = batch;
            double gflop = model.flops(Map.of(inputName, shape)) / 1e9;
            float[] data = new float[(int) Arrays.stream(shape).reduce(1, Math::multiplyExact)];
            Random random = new Random(42);
            for (int i = 0; i < data.length; i++) data[i] = (float) random.nextGaussian();
            out.printf(Locale.ROOT, "%s: input %s %s, %.2f GFLOP per run, backend %s (optimizations %s), %d threads%n", modelFile.getFileName(), inputName,
                    Tensor.format(shape), gflop, backend.name().toLowerCase(Locale.ROOT), backend == Backend.JAVA ? "none" : optimizations, threads);
            OrtRunner ort = compareOrt ? OrtRunner.open(modelFile, inputName, shape, data, threads) : null;
            try (Tensor x = Tensor.of(data, shape); ort) {
                long[] jdnnNanos = new long[iterations];
                long[] ortNanos = new long[iterations];
                float[] jdnnFirst = null;
                for (int i = -warmup; i < iterations; i++) {
                    long t0 = System.nanoTime();
                    try (Result r = session.run(Map.of(inputName, x))) {
                        if (jdnnFirst == null) jdnnFirst = r.get(model.outputs().get(0)).toArray();
                    }
                    long t1 = System.nanoTime();
                    if (ort != null) ort.run();
                    long t2 = System.nanoTime();
                    if (i >= 0) {
                        jdnnNanos[i] = t1 - t0;
                        ortNanos[i] = t2 - t1;
                    }
                    progress(out, i + warmup + 1, warmup + iterations);
                }
                out.println();
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

    private static void progress(PrintStream out, int done, int total) {
        if (done == total || done % Math.max(1, total / 20) == 0) out.print("\rrunning " + done + "/" + total);
    }

    private static double report(PrintStream out, String name, long[] nanos, int batch, double gflop) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        double p50 = percentile(sorted, 50), p90 = percentile(sorted, 90), p99 = percentile(sorted, 99);
        out.printf(Locale.ROOT, "%-24s p50 %8.2f ms  p90 %8.2f ms  p99 %8.2f ms  %8.1f images/s  %6.1f GFLOP/s%n",
                name, p50, p90, p99, batch * 1000 / p50, gflop / (p50 / 1000));
        return p50;
    }

    private static double percentile(long[] sorted, int p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }

    /** {@code --optimizations all|unfused|none} (native backend): every fusion, compiled without fusion, node by node. */
    static Optimizations optimizations(Args args) {
        String v = args.one("optimizations", "all");
        Optimizations o = switch (v) {
            case "all" -> Optimizations.all();
            case "unfused" -> Optimizations.unfused();
            case "none" -> Optimizations.none();
            default -> throw new Main.CliException("--optimizations must be all, unfused or none, got '" + v + "'");
        };
        String tune = args.one("autotune", "false");
        if (!tune.equals("true") && !tune.equals("false")) throw new Main.CliException("--autotune must be true or false, got '" + tune + "'");
        String wino = args.one("winograd", o.winograd().name().toLowerCase(java.util.Locale.ROOT));
        Optimizations.Winograd winograd = switch (wino) {
            case "off" -> Optimizations.Winograd.OFF;
            case "exact" -> Optimizations.Winograd.EXACT;
            case "fast" -> Optimizations.Winograd.FAST;
            default -> throw new Main.CliException("--winograd must be off, exact or fast, got '" + wino + "'");
        };
        return o.compile() ? o.withAutotune(tune.equals("true")).withWinograd(winograd) : o;
    }

    static int positive(Args args, String name, int fallback) {
        String v = args.one(name, Integer.toString(fallback));
        try {
            int n = Integer.parseInt(v);
            if (n < 1) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new Main.CliException("--" + name + " must be a whole number >= 1, got '" + v + "'");
        }
    }
}
