package dev.jdnn.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * One fresh-JVM measurement for bench/footprint.sh: load a model, run it once (jdnn prepares its plan there),
 * then {@code steady} more runs; prints {@code load_ms first_ms steady_ms} (steady: the median). Peak RSS is
 * measured around the whole JVM by the script ({@code /usr/bin/time}).
 *
 * <pre>java -cp benchmarks.jar dev.jdnn.bench.FootprintRun jdnn|jdnn-autotune|ort MODEL.onnx BATCH SIDE THREADS STEADY</pre>
 */
public final class FootprintRun {
    public static void main(String[] args) throws OrtException {
        String runtime = args[0];
        Path model = Path.of(args[1]);
        int batch = Integer.parseInt(args[2]);
        int side = Integer.parseInt(args[3]);
        int threads = Integer.parseInt(args[4]);
        int steady = Integer.parseInt(args[5]);
        if (steady < 1) throw new IllegalArgumentException("STEADY must be at least 1 (the median of the steady runs is printed), got " + steady);
        float[] input = new float[batch * 3 * side * side];
        for (int i = 0; i < input.length; i++) input[i] = (float) Math.sin(i * 0.37);
        long[] shape = {batch, 3, side, side};
        long[] nanos = runtime.equals("ort") ? ort(model, input, shape, threads, steady) : jdnn(model, input, shape, threads, steady, runtime.endsWith("autotune"));
        long[] runs = Arrays.copyOfRange(nanos, 2, nanos.length);
        Arrays.sort(runs);
        System.out.printf(Locale.ROOT, "load_ms %.1f first_ms %.1f steady_ms %.2f%n", nanos[0] / 1e6, nanos[1] / 1e6, runs[runs.length / 2] / 1e6);
    }

    /** {load, first run, steady runs...} in nanoseconds. */
    static long[] jdnn(Path file, float[] input, long[] shape, int threads, int steady, boolean autotune) {
        long[] nanos = new long[2 + steady];
        long t0 = System.nanoTime();
        try (Model model = Model.load(file)) {
            nanos[0] = System.nanoTime() - t0;
            Session.Options options = Session.Options.defaults().withThreads(threads).withOptimizations(Optimizations.all().withAutotune(autotune));
            String name = model.inputs().keySet().iterator().next();
            try (Session session = model.session(options); Tensor x = Tensor.of(input, shape)) {
                for (int i = 1; i < nanos.length; i++) {
                    long t = System.nanoTime();
                    try (Result r = session.run(Map.of(name, x))) {
                        nanos[i] = System.nanoTime() - t;
                    }
                }
            }
        }
        return nanos;
    }

    static long[] ort(Path file, float[] input, long[] shape, int threads, int steady) throws OrtException {
        long[] nanos = new long[2 + steady];
        long t0 = System.nanoTime();   // loading ORT's native library is part of its load, as oneDNN's is part of jdnn's first run
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(file.toString(), options)) {
                nanos[0] = System.nanoTime() - t0;
                String name = session.getInputNames().iterator().next();
                for (int i = 1; i < nanos.length; i++) {
                    long t = System.nanoTime();
                    try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), shape);
                         OrtSession.Result r = session.run(Map.of(name, x))) {
                        nanos[i] = System.nanoTime() - t;
                    }
                }
            }
        }
        return nanos;
    }
}
