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
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The CRNN line recogniser of RecurrentOpsTest (src/test/resources/fixtures/recurrent/crnn_opset14.onnx: three
 * conv/ReLU/max-pool stages on a 1×32×W grey line, a bidirectional LSTM over the W/4 columns, Linear, LogSoftmax;
 * random weights) on one line of width {@code width}: jdnn compiled native (the convolutions and, since session 10,
 * the LSTM on oneDNN) against ONNX Runtime Java, one thread each. Run from the repository root (the fixture path is relative):
 * {@code bench/interleaved.sh target/crnn.json CrnnBench width=96,320}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CrnnBench {
    static final Path MODEL = Path.of(System.getProperty("jdnn.crnn", "src/test/resources/fixtures/recurrent/crnn_opset14.onnx"));

    @Param({"96", "320"})
    int width;

    Model jdnnModel;
    Session jdnn;
    Map<String, Tensor> jdnnInputs;
    OrtEnvironment env;
    OrtSession ort;
    Map<String, OnnxTensor> ortInputs;

    static float[] line(int width) {
        Random random = new Random(42);
        float[] x = new float[32 * width];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) throws OrtException {
        long[] shape = {1, 1, 32, width};
        if (params.getBenchmark().endsWith(".jdnn")) {
            jdnnModel = Model.load(MODEL);
            jdnn = jdnnModel.session(new Session.Options(Backend.NATIVE, 1, Optimizations.all()));
            jdnnInputs = Map.of("image", Tensor.of(line(width), shape));
            return;
        }
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        ort = env.createSession(MODEL.toString(), options);
        ortInputs = Map.of("image", OnnxTensor.createTensor(env, FloatBuffer.wrap(line(width)), shape));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        if (jdnn != null) {
            jdnn.close();
            jdnnModel.close();
            jdnnInputs.values().forEach(Tensor::close);
        }
        if (ort != null) {
            ortInputs.values().forEach(OnnxTensor::close);
            ort.close();
        }
    }

    @Benchmark
    public float jdnn() {
        try (var result = jdnn.run(jdnnInputs, java.util.List.of("logprobs"))) {
            return result.get("logprobs").getFlat(0);
        }
    }

    @Benchmark
    public float onnxRuntime() throws OrtException {
        try (OrtSession.Result result = ort.run(ortInputs)) {
            return ((OnnxTensor) result.get(0)).getFloatBuffer().get(0);
        }
    }
}
