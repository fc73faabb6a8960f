package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.TinyModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conv → activation runs as one oneDNN convolution with the activation as an eltwise post-op in compiled
 * plans (explain says so), and equals the Java reference and PyTorch: torch exports of Conv2d followed by
 * Hardswish, Hardsigmoid, GELU (the Erf pattern, rewritten to jdnn.Gelu) and SiLU (Sigmoid·x, rewritten to
 * jdnn.Silu), plus opset-20 Gelu (tanh), Elu, Tanh, Sigmoid, PRelu with one slope and Pow built here.
 */
class ConvActivationFusionTest {
    static final Path DIR = Fixtures.ROOT.resolve("unary");
    /** Native conv sums in another order than Java's double accumulation: ~1e-6 relative, plus the activation's error. */
    static final double TOL = 1e-5;

    static void check(Path model, Tensor x, float[] torch, String activation) {
        try (Model m = Model.load(model);
             Session fused = m.session(Config.COMPILED.options());
             Session unfused = m.session(Session.Options.defaults().withOptimizations(Optimizations.unfused()));
             Session java = m.session(Config.JAVA.options());
             Result rf = fused.run(Map.of("x", x)); Result ru = unfused.run(Map.of("x", x)); Result rj = java.run(Map.of("x", x))) {
            String y = m.outputs().get(0);
            List<String> plan = fused.explain(Map.of("x", x.shape()), List.of(y));
            List<String> ops = plan.stream().filter(l -> !l.startsWith("reorder")).toList();
            assertEquals(1, ops.size(), activation + " should be one fused instruction (besides reorders): " + plan);
            assertTrue(ops.get(0).startsWith("native") && ops.get(0).contains("(eltwise post-op)"), plan.toString());
            List<String> separate = unfused.explain(Map.of("x", x.shape()), List.of(y));
            assertTrue(separate.stream().anyMatch(l -> l.startsWith("native") && l.contains("eltwise")), "unfused: " + separate);
            float[] want = rj.get(y).toArray();
            assertNull(compare(want, rf.get(y).toArray(), TOL), activation + " fused vs Java");
            assertNull(compare(want, ru.get(y).toArray(), TOL), activation + " unfused vs Java");
            if (torch != null) assertNull(compare(torch, want, TOL), activation + " Java vs PyTorch");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv_hardswish", "conv_hardsigmoid", "conv_gelu", "conv_silu"})
    void torchExportsFuse(String name) {
        try (Tensor x = Fixtures.tensor(DIR.resolve(name + "_input.npy"))) {
            check(DIR.resolve(name + ".onnx"), x, Fixtures.array(DIR.resolve(name + "_output.npy")), name);
        }
    }

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    /** Conv(2→8, 3×3, pad 1) → one activation node, built here. */
    static Path convThen(Path dir, int opset, String op, List<String> extraInputs, GraphProto.Builder extra, AttributeProto... attrs) throws IOException {
        GraphProto.Builder g = extra.addInput(input("x", FLOAT, 1, 2, 7, 6)).addOutput(output("y"))
                .addInitializer(floats("w", new long[] {8, 2, 3, 3}, random(8 * 2 * 9, 1)))
                .addInitializer(floats("b", new long[] {8}, random(8, 2)))
                .addNode(node("Conv", List.of("x", "w", "b"), List.of("c"), ints("pads", 1, 1, 1, 1)));
        List<String> in = new java.util.ArrayList<>(List.of("c"));
        in.addAll(extraInputs);
        g.addNode(node(op, in, List.of("y"), attrs));
        return write(dir, op + ".onnx", opset, g.build());
    }

    @Test
    void builtActivationsFuse(@TempDir Path dir) throws IOException {
        try (Tensor x = Tensor.of(random(2 * 7 * 6, 3), 1, 2, 7, 6)) {
            GraphProto.Builder none = GraphProto.newBuilder();
            check(convThen(dir, 20, "Gelu", List.of(), none, attr("approximate", "tanh")), x, null, "Gelu tanh");
            check(convThen(dir, 20, "Gelu", List.of(), GraphProto.newBuilder()), x, null, "Gelu");
            check(convThen(dir, 13, "Elu", List.of(), GraphProto.newBuilder(), attr("alpha", 0.7f)), x, null, "Elu");
            check(convThen(dir, 13, "Tanh", List.of(), GraphProto.newBuilder()), x, null, "Tanh");
            check(convThen(dir, 13, "Sigmoid", List.of(), GraphProto.newBuilder()), x, null, "Sigmoid");
            check(convThen(dir, 13, "PRelu", List.of("s"), GraphProto.newBuilder().addInitializer(floats("s", new long[] {1}, 0.2f))), x, null, "PRelu");
            check(convThen(dir, 13, "Pow", List.of("p"), GraphProto.newBuilder().addInitializer(floats("p", new long[0], 2f))), x, null, "Pow");
        }
    }

    /** A per-channel PRelu after a conv is not a post-op, but runs natively on the conv's blocked output. */
    @Test
    void perChannelPReluAfterConvIsNativeOnTheBlockedLayout(@TempDir Path dir) throws IOException {
        float[] slope = {0.1f, 0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, 0.8f};
        Path p = convThen(dir, 13, "PRelu", List.of("s"), GraphProto.newBuilder().addInitializer(floats("s", new long[] {8, 1, 1}, slope)));
        try (Tensor x = Tensor.of(random(2 * 7 * 6, 4), 1, 2, 7, 6); Model m = Model.load(p);
             Session fused = m.session(Config.COMPILED.options()); Session java = m.session(Config.JAVA.options());
             Result rf = fused.run(Map.of("x", x)); Result rj = java.run(Map.of("x", x))) {
            List<String> plan = fused.explain(Map.of("x", x.shape()), List.of("y"));
            assertTrue(plan.stream().anyMatch(l -> l.startsWith("native") && l.contains("PRelu as binary mul + max")), plan.toString());
            assertNull(compare(rj.get("y").toArray(), rf.get("y").toArray(), TOL));
        }
    }
}
