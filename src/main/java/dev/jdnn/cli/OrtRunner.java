package dev.jdnn.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * ONNX Runtime Java for {@code ./jdnn bench --compare-ort}. The only class that touches ONNX Runtime,
 * an optional dependency: it is loaded only when the comparison is asked for.
 */
final class OrtRunner implements AutoCloseable {
    private final OrtSession session;
    private final OnnxTensor input;
    private final Map<String, OnnxTensor> inputs;

    private OrtRunner(OrtSession session, OnnxTensor input, String name) {
        this.session = session;
        this.input = input;
        this.inputs = Map.of(name, input);
    }

    static OrtRunner open(Path model, String inputName, long[] shape, float[] data, int threads) {
        try {
            Class.forName("ai.onnxruntime.OrtEnvironment");
        } catch (ClassNotFoundException e) {
            throw new Main.CliException("--compare-ort needs com.microsoft.onnxruntime:onnxruntime on the class path (./jdnn puts it there)");
        }
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            OrtSession session = env.createSession(model.toString(), options);
            return new OrtRunner(session, OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape), inputName);
        } catch (OrtException e) {
            throw new Main.CliException("ONNX Runtime could not load " + model + ": " + e.getMessage());
        }
    }

    String version() {
        return OrtEnvironment.getEnvironment().getVersion();
    }

    float[] run() {
        try (OrtSession.Result r = session.run(inputs)) {
            OnnxTensor t = (OnnxTensor) r.get(0);
            FloatBuffer b = t.getFloatBuffer();
            float[] out = new float[b.remaining()];
            b.get(out);
            return out;
        } catch (OrtException e) {
            throw new Main.CliException("ONNX Runtime failed: " + e.getMessage());
        }
    }

    /** Largest absolute difference between jdnn's first output and ONNX Runtime's. */
    double maxDifference(float[] jdnn) {
        float[] ort = run();
        if (jdnn == null || ort.length != jdnn.length) return Double.NaN;
        double max = 0;
        for (int i = 0; i < ort.length; i++) max = Math.max(max, Math.abs(ort[i] - jdnn[i]));
        return max;
    }

    @Override
    public void close() {
        try {
            input.close();
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
