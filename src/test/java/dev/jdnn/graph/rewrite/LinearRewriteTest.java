package dev.jdnn.graph.rewrite;

import static dev.jdnn.graph.op.TinyModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.op.TinyModels.Config;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MatMulBias and ConstantIdentity on graphs shaped like torch's exports of a channels-last MLP
 * ({@code Linear(K→N)} on a 1×H×W×K tensor: MatMul + Add, then GELU) and of a LayerNorm whose γ and β
 * torch de-duplicated into {@code Identity} nodes: the rewritten plan runs one matmul with its bias (and the
 * GELU as its post-op), one layer normalisation with γ and β, and computes what plain loops compute.
 */
class LinearRewriteTest {
    static final int H = 3, W = 5, K = 12, N = 20;

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    static final float[] X = random(H * W * K, 1), WEIGHTS = random(K * N, 2), BIAS = random(N, 3);

    /** x (1×H×W×K) → nodes → y, with initializers w (K×N), b (N) and GELU's scalars √2, 1, 0.5. */
    static Path build(Path dir, String file, Consumer<List<NodeProto>> nodes) throws IOException {
        List<NodeProto> list = new ArrayList<>();
        nodes.accept(list);
        GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 1, H, W, K)).addOutput(output("y"))
                .addInitializer(floats("w", new long[] {K, N}, WEIGHTS)).addInitializer(floats("b", new long[] {N}, BIAS))
                .addInitializer(floats("sqrt2", new long[0], 1.4142135f)).addInitializer(floats("one", new long[0], 1f))
                .addInitializer(floats("half", new long[0], 0.5f))
                .addAllNode(list).build();
        return write(dir, file, 13, g);
    }

    /** x·w + b by plain loops (each product summed in double, rounded to float, then the bias added in float), optionally GELU'd. */
    static float[] linear(boolean gelu) {
        float[] y = new float[H * W * N];
        for (int r = 0; r < H * W; r++) {
            for (int j = 0; j < N; j++) {
                double acc = 0;
                for (int k = 0; k < K; k++) acc += (double) X[r * K + k] * WEIGHTS[k * N + j];
                float v = (float) acc + BIAS[j];
                y[r * N + j] = gelu ? (float) (0.5 * v * (1 + erf(v / Math.sqrt(2)))) : v;
            }
        }
        return y;
    }

    /** erf by its series (|x| < 3) or continued fraction: accurate to 1e-12 over the values here. */
    static double erf(double x) {
        if (Math.abs(x) > 3) return Math.signum(x) * (1 - Math.exp(-x * x) / (Math.abs(x) * Math.sqrt(Math.PI)) * (1 - 1 / (2 * x * x)));
        double sum = 0, term = x;
        for (int n = 0; n < 100; n++) {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    static void check(Path model, float[] want, String explainMustContain, String tap) {
        for (Config config : Config.values()) {
            try (Model m = Model.load(model); Session s = m.session(config.options()); Tensor x = Tensor.of(X, 1, H, W, K)) {
                List<String> plan = s.explain(Map.of("x", x.shape()), List.of("y"));
                String joined = String.join("\n", plan);
                if (config == Config.COMPILED) {
                    assertTrue(joined.contains(explainMustContain), config + ":\n" + joined);
                    assertTrue(plan.stream().noneMatch(l -> l.contains(": add ")), "no separate bias Add:\n" + joined);
                } else {
                    assertTrue(joined.contains("jdnn.MatMulAdd"), config + ":\n" + joined);
                }
                List<String> kept = s.explain(Map.of("x", x.shape()), List.of("y", tap));
                assertFalse(String.join("\n", kept).contains("jdnn.MatMulAdd"), "a requested intermediate blocks the rewrite: " + kept);
                try (Result r = s.run(Map.of("x", x), List.of("y")); Result u = s.run(Map.of("x", x), List.of("y", tap))) {
                    assertNull(compare(want, r.get("y").toArray(), 1e-5), "rewritten vs plain loops on " + config);
                    assertNull(compare(want, u.get("y").toArray(), 1e-5), "exported graph vs plain loops on " + config);
                }
            }
        }
    }

    @Test
    void linearIsOneMatmulWithItsBias(@TempDir Path dir) throws IOException {
        Path model = build(dir, "linear.onnx", n -> {
            n.add(node("MatMul", List.of("x", "w"), List.of("m")));
            n.add(node("Add", List.of("b", "m"), List.of("y")));   // torch's order: bias first
        });
        check(model, linear(false), "+ bias", "m");
    }

    @Test
    void mlpIsOneMatmulWithBiasAndGeluPostOp(@TempDir Path dir) throws IOException {
        // The bias and the weights reached through Identity nodes, as torch writes de-duplicated initializers.
        Path erf = build(dir, "mlp_erf.onnx", n -> {
            n.add(node("Identity", List.of("w"), List.of("w2")));
            n.add(node("Identity", List.of("b"), List.of("b2")));
            n.add(node("MatMul", List.of("x", "w2"), List.of("m")));
            n.add(node("Add", List.of("m", "b2"), List.of("a")));
            n.add(node("Div", List.of("a", "sqrt2"), List.of("u")));
            n.add(node("Erf", List.of("u"), List.of("e")));
            n.add(node("Add", List.of("e", "one"), List.of("p")));
            n.add(node("Mul", List.of("a", "p"), List.of("q")));
            n.add(node("Mul", List.of("q", "half"), List.of("y")));
        });
        check(erf, linear(true), "(eltwise post-op)", "m");
    }

    @Test
    void biasOfAnotherShapeOrAReusedProductIsLeftAlone(@TempDir Path dir) throws IOException {
        // m read twice (by the Add and by a second output path): the Add stays a separate node.
        Path model = build(dir, "reused.onnx", n -> {
            n.add(node("MatMul", List.of("x", "w"), List.of("m")));
            n.add(node("Add", List.of("m", "b"), List.of("a")));
            n.add(node("Sub", List.of("a", "m"), List.of("y")));   // = b broadcast, whatever x is
        });
        try (Model m = Model.load(model); Session s = m.session(Config.COMPILED.options()); Tensor x = Tensor.of(X, 1, H, W, K)) {
            assertFalse(String.join("\n", s.explain(Map.of("x", x.shape()), List.of("y"))).contains("jdnn.MatMulAdd"));
            try (Result r = s.run(Map.of("x", x), List.of("y"))) {
                float[] y = r.get("y").toArray();
                for (int i = 0; i < y.length; i++) assertEquals(BIAS[i % N], y[i], 1e-4, "element " + i);
            }
        }
    }
}
