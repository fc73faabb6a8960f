package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.TinyModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Unary activations and math (Unary, Sigmoid, Pow with a constant exponent) against PyTorch/numpy float64
 * results (src/test/python/gen_unary_fixtures.py) on x = −12..12, in the three configurations; integer
 * Abs/Neg/Sign, Round's ties, attribute errors. The ONNX node tests (OnnxNodeConformanceTest) cover the
 * ops' examples at their opsets; these cover the ops whose node tests are below jdnn's opset 7 and the
 * native forms over a wide range.
 */
class UnaryOpsTest {
    static final Path DIR = Fixtures.ROOT.resolve("unary");
    /** Java: computed in double, rounded once, like the fixtures. Native: oneDNN's kernels (see EltwiseAlgorithmTest). */
    static final double JAVA_TOL = 1e-6, NATIVE_TOL = 2e-6;

    record Case(String fixture, String op, int opset, boolean absInput, Float exponent, boolean nativeForm, AttributeProto... attrs) {
        @Override public String toString() { return fixture; }
    }

    static Case c(String fixture, String op, int opset, boolean nativeForm, AttributeProto... attrs) {
        return new Case(fixture, op, opset, false, null, nativeForm, attrs);
    }

    static List<Case> cases() {
        return List.of(
                c("abs", "Abs", 13, true), c("neg", "Neg", 13, true), c("sign", "Sign", 13, false),
                c("floor", "Floor", 13, false), c("ceil", "Ceil", 13, false), c("round", "Round", 11, true),
                c("reciprocal", "Reciprocal", 13, true), c("exp", "Exp", 13, true), c("tanh", "Tanh", 13, true),
                c("erf", "Erf", 13, false), c("sigmoid", "Sigmoid", 13, true),
                c("hardsigmoid", "HardSigmoid", 7, true),
                c("hardsigmoid_a05_b025", "HardSigmoid", 13, true, attr("alpha", 0.5f), attr("beta", 0.25f)),
                c("hardswish", "HardSwish", 14, true),
                c("elu", "Elu", 7, true), c("elu_a05", "Elu", 13, true, attr("alpha", 0.5f)),
                c("selu", "Selu", 7, false),
                c("celu", "Celu", 12, true), c("celu_a2", "Celu", 13, false, attr("alpha", 2f)),
                c("softplus", "Softplus", 7, false), c("softsign", "Softsign", 7, false), c("mish", "Mish", 18, false),
                c("thresholdedrelu", "ThresholdedRelu", 10, false),
                c("thresholdedrelu_a2", "ThresholdedRelu", 13, false, attr("alpha", 2f)),
                c("gelu", "Gelu", 20, true), c("gelu_tanh", "Gelu", 20, true, attr("approximate", "tanh")),
                c("gelu", "jdnn.Gelu", 13, true), c("silu", "jdnn.Silu", 13, true),
                new Case("sqrt", "Sqrt", 13, true, null, true), new Case("log", "Log", 13, true, null, false),
                new Case("pow3", "Pow", 13, false, 3f, true), new Case("pow_m2", "Pow", 7, false, -2f, true),
                new Case("pow_1_5", "Pow", 15, true, 1.5f, true));
    }

    static Stream<Arguments> casesAndConfigs() {
        List<Arguments> a = new ArrayList<>();
        for (Case c : cases()) for (Config k : Config.values()) a.add(Arguments.of(c, k));
        return a.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("casesAndConfigs")
    void matchesPyTorchFloat64(Case c, Config config, @TempDir Path dir) throws IOException {
        float[] x = Fixtures.array(DIR.resolve("x.npy"));
        if (c.absInput()) for (int i = 0; i < x.length; i++) x[i] = Math.abs(x[i]) + 0.01f; // float32, as the script
        float[] expected = Fixtures.array(DIR.resolve(c.fixture() + ".npy"));
        GraphProto.Builder g = GraphProto.newBuilder().addInput(input("x", FLOAT, 1, x.length)).addOutput(output("y"));
        List<String> ins = new ArrayList<>(List.of("x"));
        if (c.exponent() != null) {
            g.addInitializer(floats("e", new long[0], c.exponent()));
            ins.add("e");
        }
        g.addNode(node(c.op(), ins, List.of("y"), c.attrs()));
        try (Model m = Model.load(write(dir, "m.onnx", c.opset(), g.build()));
             Session s = m.session(config.options());
             Tensor in = Tensor.of(x, 1, x.length);
             Result r = s.run(Map.of("x", in))) {
            boolean nativeRun = c.nativeForm() && config != Config.JAVA;
            String diff = compare(expected, r.get("y").toArray(), nativeRun ? NATIVE_TOL : JAVA_TOL);
            assertNull(diff, c + " on " + config + ": " + diff);
            if (config == Config.COMPILED) {
                List<String> plan = s.explain(Map.of("x", in.shape()), List.of("y"));
                String line = plan.stream().filter(l -> l.contains("x") || l.contains("y")).reduce("", (p, q) -> p + q + "\n");
                if (c.nativeForm()) assertTrue(plan.stream().anyMatch(l -> l.startsWith("native") && l.contains("eltwise")), c + " should be native: " + plan);
                else assertTrue(plan.stream().anyMatch(l -> l.startsWith("java")), c + " should run in Java: " + line);
            }
        }
    }

    /** Runs one node on one integer input in every configuration and returns the outputs. */
    static void assertIntegerOp(Path dir, String op, DataType type, int code, long[] x, long[] want) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(input("x", code, x.length)).addOutput(output("y"))
                .addNode(node(op, List.of("x"), List.of("y"))).build();
        for (Config config : Config.values()) {
            try (Model m = Model.load(write(dir, op + type + ".onnx", 13, g));
                 Session s = m.session(config.options());
                 Tensor in = Tensor.ofLongs(x, type, x.length);
                 Result r = s.run(Map.of("x", in))) {
                assertEquals(type, r.get("y").dtype(), op + " " + type + " on " + config);
                assertArrayEquals(want, r.get("y").toLongArray(), op + " " + type + " on " + config);
            }
        }
    }

    @Test
    void absNegSignOnIntegersWrapLikeNumpy(@TempDir Path dir) throws IOException {
        assertIntegerOp(dir, "Abs", DataType.INT8, INT8, new long[] {-128, -5, 0, 7, 127}, new long[] {-128, 5, 0, 7, 127});
        assertIntegerOp(dir, "Neg", DataType.INT8, INT8, new long[] {-128, -5, 0, 7, 127}, new long[] {-128, 5, 0, -7, -127});
        assertIntegerOp(dir, "Neg", DataType.UINT8, UINT8, new long[] {0, 1, 200, 255}, new long[] {0, 255, 56, 1});
        assertIntegerOp(dir, "Abs", DataType.UINT8, UINT8, new long[] {0, 1, 200, 255}, new long[] {0, 1, 200, 255});
        assertIntegerOp(dir, "Sign", DataType.INT32, INT32, new long[] {Integer.MIN_VALUE, -3, 0, 9}, new long[] {-1, -1, 0, 1});
        assertIntegerOp(dir, "Abs", DataType.INT64, INT64, new long[] {Long.MIN_VALUE, -3, 4}, new long[] {Long.MIN_VALUE, 3, 4});
        assertIntegerOp(dir, "Neg", DataType.INT64, INT64, new long[] {Long.MAX_VALUE, -3, 0}, new long[] {-Long.MAX_VALUE, 3, 0});
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void roundHalvesToEven(Config config, @TempDir Path dir) throws IOException {
        float[] x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, 2.4999998f, -0.49999997f};
        float[] want = {0f, 2f, 2f, -0f, -2f, -2f, 4f, 2f, -0f};
        GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, x.length)).addOutput(output("y"))
                .addNode(node("Round", List.of("x"), List.of("y"))).build();
        try (Model m = Model.load(write(dir, "round.onnx", 11, g)); Session s = m.session(config.options());
             Tensor in = Tensor.of(x, x.length); Result r = s.run(Map.of("x", in))) {
            assertArrayEquals(want, r.get("y").toArray(), 0f);
        }
    }

    static IllegalArgumentException failure(Path dir, int opset, int code, String op, AttributeProto... attrs) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(input("x", code, 3)).addOutput(output("y"))
                .addNode(node(op, List.of("x"), List.of("y"), attrs)).build();
        try (Model m = Model.load(write(dir, "bad.onnx", opset, g)); Session s = m.session(Config.JAVA.options())) {
            return assertThrows(IllegalArgumentException.class, () -> s.explain(Map.of("x", new long[] {3}), List.of("y")));
        }
    }

    @Test
    void badAttributesAndTypesAreRefusedNamingThem(@TempDir Path dir) throws IOException {
        String m = failure(dir, 20, FLOAT, "Gelu", attr("approximate", "fast")).getMessage();
        assertTrue(m.contains("Gelu") && m.contains("approximate") && m.contains("'fast'"), m);
        m = failure(dir, 13, FLOAT, "Celu", attr("alpha", 0f)).getMessage();
        assertTrue(m.contains("Celu") && m.contains("alpha") && m.contains("0.0"), m);
        m = failure(dir, 13, INT32, "Exp").getMessage();
        assertTrue(m.contains("Exp") && m.contains("int32") && m.contains("not supported"), m);
        m = failure(dir, 13, INT64, "Floor").getMessage();
        assertTrue(m.contains("Floor") && m.contains("int64") && m.contains("not supported"), m);
    }
}
