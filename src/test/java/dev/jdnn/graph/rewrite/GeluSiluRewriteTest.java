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
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * GeluFusion, SiluFusion and HardSwishFusion on torch exports (nn.GELU at opset 13, the BERT-style
 * x·0.5·(1 + erf(x/√2)), nn.SiLU) and on orderings built here: the rewritten plan has one jdnn.Gelu /
 * jdnn.Silu / jdnn.HardSwish node where the export had five / two / two, and computes what the unrewritten graph does (the same model with an intermediate
 * requested as a tap, which the rewrite must leave alone) and what PyTorch computed.
 */
class GeluSiluRewriteTest {
    static final Path DIR = Fixtures.ROOT.resolve("unary");

    /** Runs {@code y} alone (rewritten) and with {@code tap} requested (not rewritten); compares; returns both plans. */
    static void check(Path model, Tensor x, String tap, String fused, float[] torch, Config config) {
        try (Model m = Model.load(model); Session s = m.session(config.options())) {
            String y = m.outputs().get(0);
            List<String> rewritten = s.explain(Map.of("x", x.shape()), List.of(y));
            List<String> kept = s.explain(Map.of("x", x.shape()), List.of(y, tap));
            String joined = String.join("\n", rewritten);
            if (config != Config.COMPILED) {
                // Node-by-node plans list nodes: the pattern is one node.
                assertEquals(1, rewritten.stream().filter(l -> l.endsWith(": " + fused)).count(), joined);
                assertTrue(rewritten.stream().noneMatch(l -> l.endsWith(": Erf") || l.endsWith(": Sigmoid")), joined);
                assertTrue(kept.stream().noneMatch(l -> l.endsWith(": " + fused)), "a requested intermediate blocks the rewrite: " + kept);
            } else {
                // Compiled: one oneDNN eltwise (or a conv post-op) computes the whole pattern.
                String alg = switch (fused) {
                    case "jdnn.Gelu" -> "GELU_ERF";
                    case "jdnn.Silu" -> "SWISH";
                    default -> "HARDSWISH";
                };
                assertTrue(rewritten.stream().anyMatch(l -> l.contains(alg) || l.contains(alg.toLowerCase())), joined);
                assertTrue(rewritten.stream().noneMatch(l -> l.startsWith("java")), joined);
            }
            try (Result r = s.run(Map.of("x", x), List.of(y)); Result u = s.run(Map.of("x", x), List.of(y, tap))) {
                double tol = config == Config.JAVA ? 1e-6 : 1e-5;
                assertNull(compare(u.get(y).toArray(), r.get(y).toArray(), tol), "rewritten vs exported graph on " + config);
                if (torch != null) assertNull(compare(torch, r.get(y).toArray(), 1e-5), "vs PyTorch on " + config);
            }
        }
    }

    /** A committed PyTorch export {@code name}.onnx with its {@code name}_input/_output.npy (see check). */
    static void export(String name, String tap, String fused, Config config) {
        try (Tensor x = Fixtures.tensor(DIR.resolve(name + "_input.npy"))) {
            check(DIR.resolve(name + ".onnx"), x, tap, fused, Fixtures.array(DIR.resolve(name + "_output.npy")), config);
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void torchGeluConvExport(Config config) {
        export("conv_gelu", "/act/Erf_output_0", "jdnn.Gelu", config);
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void bertStyleGelu(Config config) {
        export("bert_gelu", "/Mul_output_0", "jdnn.Gelu", config);
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void torchSiluConvExport(Config config) {
        export("conv_silu", "/act/Sigmoid_output_0", "jdnn.Silu", config);
    }

    /** {@link #check} on every configuration, x = {@code v} as 1×64. */
    static void checkAll(Path model, float[] v, String tap, String fused, float[] want) {
        try (Tensor x = Tensor.of(v, 1, 64)) {
            for (Config config : Config.values()) check(model, x, tap, fused, want, config);
        }
    }

    static float[] grid() {
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) v[i] = -6f + i * 0.19f;
        return v;
    }

    /** A graph x → (nodes) → y with scalar initializers sqrt2, inv_sqrt2, one, half, two. */
    static Path build(Path dir, String file, Consumer<List<NodeProto>> nodes) throws IOException {
        List<NodeProto> list = new ArrayList<>();
        nodes.accept(list);
        GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 1, 64)).addOutput(output("y"))
                .addInitializer(floats("sqrt2", new long[0], 1.4142135f)).addInitializer(floats("inv_sqrt2", new long[] {1}, 0.70710677f))
                .addInitializer(floats("one", new long[0], 1f)).addInitializer(floats("half", new long[0], 0.5f))
                .addInitializer(floats("two", new long[0], 2f)).addInitializer(floats("almost", new long[0], 1.41f))
                .addAllNode(list).build();
        return write(dir, file, 13, g);
    }

    @Test
    void otherGeluOrderings(@TempDir Path dir) throws IOException {
        List<Path> models = List.of(
                // Mul by 1/√2, Add(1, e), 0.5 applied to (1 + erf): y = x · (a · 0.5)
                build(dir, "a.onnx", n -> {
                    n.add(node("Mul", List.of("inv_sqrt2", "x"), List.of("u")));
                    n.add(node("Erf", List.of("u"), List.of("e")));
                    n.add(node("Add", List.of("one", "e"), List.of("a")));
                    n.add(node("Mul", List.of("half", "a"), List.of("h")));
                    n.add(node("Mul", List.of("h", "x"), List.of("y")));
                }),
                // Div by √2, halving by Div(·, 2) at the end: y = (x · a) / 2
                build(dir, "b.onnx", n -> {
                    n.add(node("Div", List.of("x", "sqrt2"), List.of("u")));
                    n.add(node("Erf", List.of("u"), List.of("e")));
                    n.add(node("Add", List.of("e", "one"), List.of("a")));
                    n.add(node("Mul", List.of("a", "x"), List.of("m")));
                    n.add(node("Div", List.of("m", "two"), List.of("y")));
                }),
                // BERT order with the 0.5 first: y = (0.5 · x) · a
                build(dir, "c.onnx", n -> {
                    n.add(node("Mul", List.of("half", "x"), List.of("h")));
                    n.add(node("Div", List.of("x", "sqrt2"), List.of("u")));
                    n.add(node("Erf", List.of("u"), List.of("e")));
                    n.add(node("Add", List.of("e", "one"), List.of("a")));
                    n.add(node("Mul", List.of("a", "h"), List.of("y")));
                }));
        float[] v = grid();
        float[] want = new float[v.length];
        for (int i = 0; i < v.length; i++) want[i] = (float) (0.5 * v[i] * dev.jdnn.ops.eltwise.Erf.erfc(-v[i] / Math.sqrt(2)));
        for (Path p : models) checkAll(p, v, "e", "jdnn.Gelu", want);
    }

    /** x·HardSigmoid(x; alpha, beta), HardSwish as exported before opset 14 (MobileNetV3 at opset 13), either Mul order. */
    @Test
    void hardSwishFromHardSigmoidTimesX(@TempDir Path dir) throws IOException {
        float[] v = grid();
        for (float[] ab : new float[][] {{1f / 6, 0.5f}, {0.5f, 0.25f}}) {
            Path p = build(dir, "hs.onnx", n -> {
                n.add(node("HardSigmoid", List.of("x"), List.of("h"), dev.jdnn.graph.op.TinyModels.attr("alpha", ab[0]),
                        dev.jdnn.graph.op.TinyModels.attr("beta", ab[1])));
                n.add(node("Mul", List.of("h", "x"), List.of("y")));
            });
            float[] want = new float[v.length];
            for (int i = 0; i < v.length; i++) want[i] = (float) (v[i] * Math.max(0, Math.min(1, (double) ab[0] * v[i] + ab[1])));
            checkAll(p, v, "h", "jdnn.HardSwish", want);
        }
    }

    @Test
    void nearMissesAreLeftAlone(@TempDir Path dir) throws IOException {
        // √2 written as 1.41 is not GELU; an Erf output read twice cannot be removed; x·sigmoid(z) is not SiLU;
        // z·HardSigmoid(x) is not HardSwish.
        List<Path> models = List.of(
                build(dir, "d.onnx", n -> {
                    n.add(node("Div", List.of("x", "almost"), List.of("u")));
                    n.add(node("Erf", List.of("u"), List.of("e")));
                    n.add(node("Add", List.of("e", "one"), List.of("a")));
                    n.add(node("Mul", List.of("x", "a"), List.of("m")));
                    n.add(node("Mul", List.of("m", "half"), List.of("y")));
                }),
                build(dir, "e.onnx", n -> {
                    n.add(node("Div", List.of("x", "sqrt2"), List.of("u")));
                    n.add(node("Erf", List.of("u"), List.of("e")));
                    n.add(node("Add", List.of("e", "one"), List.of("a")));
                    n.add(node("Mul", List.of("x", "a"), List.of("m")));
                    n.add(node("Mul", List.of("m", "half"), List.of("g")));
                    n.add(node("Add", List.of("g", "e"), List.of("y")));
                }),
                build(dir, "f.onnx", n -> {
                    n.add(node("Mul", List.of("x", "two"), List.of("z")));
                    n.add(node("Sigmoid", List.of("z"), List.of("s")));
                    n.add(node("Mul", List.of("x", "s"), List.of("y")));
                }),
                build(dir, "g.onnx", n -> {
                    n.add(node("Mul", List.of("x", "two"), List.of("z")));
                    n.add(node("HardSigmoid", List.of("x"), List.of("h")));
                    n.add(node("Mul", List.of("z", "h"), List.of("y")));
                }));
        try (Tensor x = Tensor.of(grid(), 1, 64)) {
            for (Path p : models) {
                try (Model m = Model.load(p); Session s = m.session(Config.JAVA.options())) {
                    List<String> plan = s.explain(Map.of("x", x.shape()), List.of("y"));
                    assertTrue(plan.stream().noneMatch(l -> l.contains("jdnn.")), p + ": " + plan);
                }
            }
        }
    }
}
