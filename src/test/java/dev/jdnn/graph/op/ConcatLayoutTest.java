package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.OpModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Result;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Concat whose inputs arrive in different layouts (a plain graph input beside a conv output that oneDNN
 * keeps channels-last or blocked) gets one common layout for its inputs, so oneDNN runs a real concat
 * kernel instead of its reference one ({@code ref:any}), and equals the Java reference at batch 1 and 3.
 */
class ConcatLayoutTest {
    @TempDir Path dir;

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void mixedLayoutsAreUnified(int batch) throws IOException {
        Random r = new Random(3);
        float[] w = new float[24 * 16 * 3 * 3];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.1f;
        // x N×16×10×10 → conv 3×3 16→24 (pad 1) → c; Concat(x, c) along channels → N×40×10×10
        GraphProto g = GraphProto.newBuilder().addInput(value("x", 1, batch, 16, 10, 10))
                .addInitializer(floats("w", w, 24, 16, 3, 3))
                .addNode(node("Conv", List.of("x", "w"), List.of("c"), ints("pads", 1, 1, 1, 1)))
                .addNode(node("Concat", List.of("x", "c"), List.of("y"), attr("axis", 1)))
                .addOutput(value("y", 1)).build();
        Path model = write(dir, "model.onnx", 13, g);

        String plan = explain(model, Map.of("x", new long[] {batch, 16, 10, 10}), List.of("y"));
        String concat = plan.lines().filter(l -> l.contains("concat of 2")).findFirst().orElseThrow();
        assertFalse(concat.contains("ref:"), plan);

        float[] data = new float[batch * 16 * 100];
        for (int i = 0; i < data.length; i++) data[i] = (float) r.nextGaussian();
        Map<String, Result> results = runAll(model, Map.of("x", Tensor.zeros(batch, 16, 10, 10).copyFrom(data)), List.of("y"));
        try {
            float[] java = results.get("JAVA").get("y").toArray();
            for (Map.Entry<String, Result> e : results.entrySet()) {
                float[] got = e.getValue().get("y").toArray();
                for (int i = 0; i < java.length; i++) assertEquals(java[i], got[i], 1e-4 * Math.max(1, Math.abs(java[i])), e.getKey() + " y[" + i + "]");
            }
        } finally {
            results.values().forEach(Result::close);
        }
    }
}
