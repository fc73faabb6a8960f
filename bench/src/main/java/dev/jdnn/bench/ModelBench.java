package dev.jdnn.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Whole-model latency, jdnn (native, compiled with every fusion; outputs written into a caller tensor,
 * the zero-allocation path) and ONNX Runtime Java 1.29 (the peer to beat, all graph optimisations,
 * intra-op threads = {@code threads}) on the same inputs, on the models that
 * {@code bench/python/gen_bench_models.py} exports into {@code models/} (torchvision, random weights).
 * Model directory: {@code -Djdnn.models=DIR} (bench/run.sh sets it to the repository's models/).
 * {@code jdnn} is the default ({@link Optimizations#all()}: Winograd EXACT unless -Djdnn.winograd says otherwise);
 * {@code jdnnWinogradOff}, {@code jdnnWinogradExact} and {@code jdnnWinogradFast} are the same with Winograd OFF, EXACT and FAST.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ModelBench {
    @Param({"resnet18", "resnet50", "googlenet", "densenet121", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0",
            "convnext_tiny", "deeplabv3_mobilenet_v3_large"})
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

    /** Input side: 224, or 520 for the DeepLabV3 segmenter (torchvision's evaluation size). */
    static int side(String model) {
        return model.startsWith("deeplabv3") ? 520 : 224;
    }

    static float[] input(int batch, int side) {
        Random random = new Random(42);
        float[] x = new float[batch * 3 * side * side];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    Model jdnnModel;
    Session jdnn;
    Tensor jdnnInput;
    Tensor jdnnOutput;
    Map<String, Tensor> jdnnInputs;
    Map<String, Tensor> jdnnOutputs;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) throws OrtException {
        // Each benchmark method runs in its own fork: prepare only the runtime it measures.
        String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
        if (method.startsWith("jdnn")) {
            Optimizations optimizations = switch (method) {
                // jdnnForked: the batch is not split into one-thread slices, every primitive forks over all threads.
                case "jdnnForked" -> Optimizations.all().withBatchSplit(false);
                case "jdnnWinogradOff" -> Optimizations.all().withWinograd(Optimizations.Winograd.OFF);
                case "jdnnWinogradFast" -> Optimizations.all().withWinograd(Optimizations.Winograd.FAST);
                case "jdnnWinogradExact" -> Optimizations.all().withWinograd(Optimizations.Winograd.EXACT);
                default -> Optimizations.all();
            };
            jdnnModel = Model.load(modelFile(model));
            jdnn = jdnnModel.session(new Session.Options(Backend.NATIVE, threads, optimizations));
            String inputName = jdnnModel.inputs().keySet().iterator().next();
            jdnnInput = Tensor.of(input(batch, side(model)), batch, 3, side(model), side(model));
            jdnnInputs = Map.of(inputName, jdnnInput);
            String outputName = jdnnModel.outputs().get(0);
            jdnnOutput = Tensor.zeros(jdnnModel.tensorShapes(Map.of(inputName, jdnnInput.shape())).get(outputName));
            jdnnOutputs = Map.of(outputName, jdnnOutput);
            return;
        }
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        ort = env.createSession(modelFile(model).toString(), options);
        ortInput = OnnxTensor.createTensor(env, FloatBuffer.wrap(input(batch, side(model))), new long[] {batch, 3, side(model), side(model)});
        ortInputs = Map.of(ort.getInputNames().iterator().next(), ortInput);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        if (jdnn != null) {
            jdnn.close();
            jdnnModel.close();
            jdnnInput.close();
            jdnnOutput.close();
        }
        if (ort != null) {
            ortInput.close();
            ort.close();
        }
    }

    @Benchmark
    public float jdnn() {
        jdnn.run(jdnnInputs, jdnnOutputs);
        return jdnnOutput.getFlat(0);
    }

    /** jdnn with {@code Optimizations.batchSplit} off (differs from {@link #jdnn} only with batch and threads above 1). */
    @Benchmark
    public float jdnnForked() {
        return jdnn();
    }

    @Benchmark
    public float jdnnWinogradOff() {
        return jdnn();
    }

    /** Winograd EXACT (F(2×2,3×3) where timing at prepare finds it faster); jdnn's default is off. */
    @Benchmark
    public float jdnnWinogradExact() {
        return jdnn();
    }

    @Benchmark
    public float jdnnWinogradFast() {
        return jdnn();
    }

    @Benchmark
    public float onnxRuntime() throws OrtException {
        try (OrtSession.Result result = ort.run(ortInputs)) {
            return ((OnnxTensor) result.get(0)).getFloatBuffer().get(0);
        }
    }
}
