package dev.jdnn.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * Whole-model latency, ONNX Runtime Java (the peer to beat) on the models that
 * {@code bench/python/gen_bench_models.py} exports into {@code models/} (torchvision, random weights).
 * Model directory: {@code -Djdnn.models=DIR} (bench/run.sh sets it to the repository's models/).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ModelBench {
    @Param({"resnet18", "resnet50", "googlenet", "densenet121"})
    String model;

    @Param({"1", "8"})
    int batch;

    @Param({"1", "2"})
    int threads;

    OrtEnvironment env;
    OrtSession ort;
    OnnxTensor ortInput;
    Map<String, OnnxTensor> ortInputs;

    static Path modelFile(String name) {
        Path dir = Path.of(System.getProperty("jdnn.models", "models"));
        Path file = dir.resolve(name + ".onnx");
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(file.toAbsolutePath() + " is missing: run /usr/bin/python3 bench/python/gen_bench_models.py");
        }
        return file;
    }

    static float[] input(int batch) {
        Random random = new Random(42);
        float[] x = new float[batch * 3 * 224 * 224];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    @Setup(Level.Trial)
    public void setUp() throws OrtException {
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        ort = env.createSession(modelFile(model).toString(), options);
        ortInput = OnnxTensor.createTensor(env, FloatBuffer.wrap(input(batch)), new long[] {batch, 3, 224, 224});
        ortInputs = Map.of(ort.getInputNames().iterator().next(), ortInput);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        ortInput.close();
        ort.close();
    }

    @Benchmark
    public float ortRun() throws OrtException {
        try (OrtSession.Result result = ort.run(ortInputs)) {
            return ((float[][]) result.get(0).getValue())[0][0];
        }
    }
}
