package dev.jdnn.onnx;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Value;
import dev.jdnn.onnx.proto.OnnxProto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.opentest4j.TestAbortedException;

/**
 * Running one ONNX backend node test directory ({@code model.onnx} + {@code test_data_set_0}) on a jdnn
 * configuration, shared by {@link OnnxNodeConformanceTest} and the op-family tests that run their own
 * selection (or jdnn's own cases in the same layout). A test needing something jdnn declares unsupported
 * is aborted with the reason; outputs must match within ONNX's tolerance (integers and bools exactly).
 */
public final class OnnxNodeTests {
    private OnnxNodeTests() {}

    /** Debian's libonnx-testdata (installed by .ci/run). */
    public static final Path NODE_TESTS = Path.of("/usr/share/libonnx-testdata/data/node");
    public static final double RTOL = 1e-3;
    public static final double ATOL = 1e-7;

    /** The model's default-domain opset (1 when it declares none). */
    public static int opset(OnnxProto.ModelProto proto) {
        return proto.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToInt(o -> (int) o.getVersion()).findFirst().orElse(1);
    }

    /** A test data file as a tensor; data jdnn cannot hold aborts the test. */
    public static Tensor read(Path pb) throws IOException {
        try (InputStream in = Files.newInputStream(pb)) {
            OnnxProto.TensorProto t = OnnxProto.TensorProto.parseFrom(in);
            Value v = OnnxLoader.tensor(t, pb.getParent(), pb.toString());
            if (v instanceof Value.Floats f && t.getDataType() == OnnxProto.TensorProto.DataType.FLOAT16_VALUE) {
                // The loader widens float16 (exactly); the data file's tensor is float16, as jdnn's run takes and returns it.
                try (Tensor widened = f.tensor()) {
                    return widened.toType(dev.jdnn.DataType.FLOAT16);
                }
            }
            if (v instanceof Value.Floats f) return f.tensor();
            Value.Longs l = (Value.Longs) v;
            return Tensor.ofLongs(l.view(), l.type(), l.shape());
        } catch (OnnxFormatException e) {
            throw new TestAbortedException("unsupported data: " + e.getMessage());
        }
    }

    /** Whether a session error is jdnn declaring something unsupported (a skip), not a bug. */
    public static boolean declaredUnsupported(RuntimeException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("not supported") || m.contains("jdnn runs") || m.contains("jdnn pools") || m.contains("jdnn supports")
                || m.contains("model inputs are float32") || m.contains("data-dependent");
    }

    /** ONNX's tolerance: |a − b| ≤ 1e-7 + 1e-3·|b|, equal values (infinities) and NaN matching NaN pass. */
    public static void assertOnnxClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int j = 0; j < want.length; j++) {
            double tolerance = ATOL + RTOL * Math.abs(want[j]);
            if (!(Math.abs(got[j] - want[j]) <= tolerance) && !(Float.isNaN(want[j]) && Float.isNaN(got[j])) && !(want[j] == got[j])) {
                fail(what + "[" + j + "]: expected " + want[j] + ", got " + got[j]);
            }
        }
    }

    /** Runs test directory {@code dir} on {@code backend} with {@code optimizations} against its expected outputs. */
    public static void runCase(Path dir, Backend backend, Optimizations optimizations) throws IOException {
        Model model;
        try {
            model = Model.load(dir.resolve("model.onnx"));
        } catch (OnnxFormatException e) {
            throw new TestAbortedException("not loadable by jdnn: " + e.getMessage());
        }
        Path data = dir.resolve("test_data_set_0");
        List<String> inputNames = new ArrayList<>(model.inputs().keySet());
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        List<Tensor> expected = new ArrayList<>();
        try (model; Session session = model.session(Session.Options.defaults().withBackend(backend).withOptimizations(optimizations))) {
            for (int i = 0; Files.exists(data.resolve("input_" + i + ".pb")); i++) {
                if (i >= inputNames.size()) throw new TestAbortedException("more input files than graph inputs");
                inputs.put(inputNames.get(i), read(data.resolve("input_" + i + ".pb")));
            }
            for (int i = 0; Files.exists(data.resolve("output_" + i + ".pb")); i++) expected.add(read(data.resolve("output_" + i + ".pb")));
            List<String> outputs = model.outputs();
            Result result;
            try {
                result = session.run(inputs, outputs);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                if (declaredUnsupported(e)) throw new TestAbortedException("declared unsupported: " + e.getMessage());
                throw e;
            }
            try (result) {
                for (int i = 0; i < expected.size(); i++) {
                    Tensor want = expected.get(i), got = result.get(outputs.get(i));
                    String what = dir.getFileName() + " output " + outputs.get(i);
                    assertArrayEquals(want.shape(), got.shape(), "shape of " + what);
                    assertEquals(want.dtype(), got.dtype(), "element type of " + what);
                    if (want.dtype().isFloatingPoint()) assertOnnxClose(want.toArray(), got.toArray(), what);
                    else assertArrayEquals(want.toLongArray(), got.toLongArray(), what);
                }
            }
        } finally {
            inputs.values().forEach(Tensor::close);
            expected.forEach(Tensor::close);
        }
    }
}
