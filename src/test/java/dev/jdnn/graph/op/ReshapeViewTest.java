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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Reshape in a compiled plan takes over its input's buffer (no copy) when nothing reads the input
 * afterwards, and copies when something does; either way every configuration gives the Java reference's
 * values, so the view never lets a later op overwrite a tensor that is still read.
 */
class ReshapeViewTest {
    @TempDir Path dir;

    /**
     * x 1×4×3×2 → Relu → r → Reshape(1,2,12) → s → Sigmoid → y; with {@code keepInput} also
     * r → Neg → z after the Reshape (so r stays live and the Reshape must copy).
     */
    private Path model(boolean keepInput) throws IOException {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x", 1, 1, 4, 3, 2))
                .addInitializer(longs("shape", new long[] {1, 2, 12}, 3))
                .addNode(node("Relu", List.of("x"), List.of("r")))
                .addNode(node("Reshape", List.of("r", "shape"), List.of("s")))
                .addNode(node("Sigmoid", List.of("s"), List.of("y")))
                .addOutput(value("y", 1));
        if (keepInput) g.addNode(node("Neg", List.of("r"), List.of("z"))).addOutput(value("z", 1));
        return write(dir, keepInput ? "copy.onnx" : "view.onnx", 13, g.build());
    }

    private static void check(Path model, List<String> outputs, String expectedKind) {
        Map<String, long[]> shapes = Map.of("x", new long[] {1, 4, 3, 2});
        String plan = explain(model, shapes, outputs);
        String reshape = plan.lines().filter(l -> l.contains("Reshape")).findFirst().orElseThrow();
        assertTrue(reshape.contains(expectedKind), reshape);
        float[] data = new float[24];
        for (int i = 0; i < data.length; i++) data[i] = (i % 5) - 2.5f + i * 0.1f;
        Map<String, Result> results = runAll(model, Map.of("x", Tensor.zeros(1, 4, 3, 2).copyFrom(data)), outputs);
        try {
            for (String name : outputs) {
                float[] java = results.get("JAVA").get(name).toArray();
                for (Map.Entry<String, Result> r : results.entrySet()) {
                    assertArrayEquals(java, r.getValue().get(name).toArray(), 1e-6f, r.getKey() + " " + name);
                }
            }
        } finally {
            results.values().forEach(Result::close);
        }
    }

    @Test
    void reshapeOfADyingTensorIsAView() throws IOException {
        check(model(false), List.of("y"), "(view, no copy)");
    }

    @Test
    void reshapeOfATensorReadLaterCopies() throws IOException {
        check(model(true), List.of("y", "z"), "(copy)");
    }
}
