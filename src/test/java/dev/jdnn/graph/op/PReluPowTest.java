package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.TinyModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * PRelu (slope broadcasting, the native forms: scalar → leaky relu, per-channel/full-shape with slopes on
 * one side of 1 → binary mul + max/min, else Java) and Pow (constant scalar exponent native, tensor
 * exponents and integer types in Java), against hand-computed values in the three configurations.
 */
class PReluPowTest {

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * 3);
        return v;
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Runs PRelu(x, slope) with a constant slope of the given shape; checks values and whether the compiled plan is native. */
    static void prelu(Path dir, Config config, long[] xShape, long[] sShape, float[] slope, String nativeMarker) throws IOException {
        float[] x = random((int) count(xShape), 7);
        GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, xShape)).addOutput(output("y"))
                .addInitializer(floats("s", sShape, slope)).addNode(node("PRelu", List.of("x", "s"), List.of("y"))).build();
        // Expected: numpy broadcasting of slope (right-aligned) against x, one float product.
        float[] want = x.clone();
        long[] xs = Ops.strides(xShape);
        int off = xShape.length - sShape.length;
        long[] ss = Ops.strides(sShape);
        for (int i = 0; i < want.length; i++) {
            long si = 0;
            for (int d = 0; d < sShape.length; d++) {
                long coord = (i / xs[d + off]) % xShape[d + off];
                si += (sShape[d] == 1 ? 0 : coord) * ss[d];
            }
            if (x[i] < 0) want[i] = x[i] * slope[(int) si];
        }
        try (Model m = Model.load(write(dir, "prelu.onnx", 16, g)); Session s = m.session(config.options());
             Tensor in = Tensor.of(x, xShape); Result r = s.run(Map.of("x", in))) {
            assertArrayEquals(want, r.get("y").toArray(), 0f, "PRelu " + java.util.Arrays.toString(sShape) + " on " + config);
            if (config == Config.COMPILED) {
                List<String> plan = s.explain(Map.of("x", xShape), List.of("y"));
                String where = nativeMarker == null ? "java" : "native";
                assertTrue(plan.stream().anyMatch(l -> l.startsWith(where) && (nativeMarker == null || l.contains(nativeMarker))), plan.toString());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void preluBroadcastsSlopeAndRunsNativeWhereExact(Config config, @TempDir Path dir) throws IOException {
        long[] x4 = {2, 3, 4, 5};
        prelu(dir, config, x4, new long[] {3, 1, 1}, new float[] {0.25f, -0.5f, 1f}, "binary mul + max");
        prelu(dir, config, x4, new long[] {3, 1, 1}, new float[] {1.5f, 2f, 1f}, "binary mul + min");
        prelu(dir, config, x4, new long[] {3, 1, 1}, new float[] {0.25f, 1.5f, 0f}, null);  // both sides of 1: Java
        prelu(dir, config, x4, new long[] {1}, new float[] {0.1f}, "eltwise RELU(0.1");
        prelu(dir, config, x4, new long[] {5}, new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, null); // along W: Java
        float[] full = random(120, 3);
        for (int i = 0; i < full.length; i++) full[i] = Math.abs(full[i]) % 1f;
        prelu(dir, config, x4, x4, full, "binary mul + max");
        prelu(dir, config, new long[] {4, 3}, new long[] {3}, new float[] {0.1f, 0.2f, 0.3f}, "binary mul + max");
    }

    @Test
    void preluRefusesSlopeThatDoesNotBroadcastToX(@TempDir Path dir) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 2, 3, 4, 5)).addOutput(output("y"))
                .addInitializer(floats("s", new long[] {4}, 1, 2, 3, 4)).addNode(node("PRelu", List.of("x", "s"), List.of("y"))).build();
        try (Model m = Model.load(write(dir, "p.onnx", 13, g)); Session s = m.session(Config.JAVA.options())) {
            var e = assertThrows(IllegalArgumentException.class, () -> s.explain(Map.of("x", new long[] {2, 3, 4, 5}), List.of("y")));
            assertTrue(e.getMessage().contains("PRelu") && e.getMessage().contains("[4]") && e.getMessage().contains("[2, 3, 4, 5]"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void preluOnInt32AtOpset16(Config config, @TempDir Path dir) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(input("x", INT32, 4)).addInput(input("s", INT32, 1)).addOutput(output("y"))
                .addNode(node("PRelu", List.of("x", "s"), List.of("y"))).build();
        try (Model m = Model.load(write(dir, "p.onnx", 16, g)); Session s = m.session(config.options());
             Tensor x = Tensor.ofLongs(new long[] {-3, 0, 5, -1}, DataType.INT32, 4);
             Tensor sl = Tensor.ofLongs(new long[] {4}, DataType.INT32, 1);
             Result r = s.run(Map.of("x", x, "s", sl))) {
            assertArrayEquals(new long[] {-12, 0, 5, -4}, r.get("y").toLongArray());
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void powWithScalarConstantExponentIsNativeElseJava(Config config, @TempDir Path dir) throws IOException {
        float[] x = {-2f, -0.5f, 0f, 0.25f, 1f, 3f};
        // float exponent 3, int64 exponent 2 (opset 12+ mixes types), tensor exponent [2,1] broadcast.
        GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 1, 6)).addOutput(output("a")).addOutput(output("b")).addOutput(output("c"))
                .addInitializer(floats("three", new long[0], 3f)).addInitializer(int64s("two", new long[] {1}, 2))
                .addInitializer(floats("pair", new long[] {2, 1}, 0.5f, -1f))
                .addNode(node("Pow", List.of("x", "three"), List.of("a")))
                .addNode(node("Pow", List.of("x", "two"), List.of("b")))
                .addNode(node("Pow", List.of("x", "pair"), List.of("c"))).build();
        try (Model m = Model.load(write(dir, "pow.onnx", 13, g)); Session s = m.session(config.options());
             Tensor in = Tensor.of(x, 1, 6); Result r = s.run(Map.of("x", in), List.of("a", "b", "c"))) {
            assertArrayEquals(new float[] {-8f, -0.125f, 0f, 0.015625f, 1f, 27f}, r.get("a").toArray(), 0f);
            assertArrayEquals(new float[] {4f, 0.25f, 0f, 0.0625f, 1f, 9f}, r.get("b").toArray(), 0f);
            assertArrayEquals(new long[] {2, 6}, r.get("c").shape());
            float[] c = r.get("c").toArray();
            float[] want = {Float.NaN, Float.NaN, 0f, 0.5f, 1f, (float) Math.sqrt(3), -0.5f, -2f, Float.POSITIVE_INFINITY, 4f, 1f, 1f / 3};
            assertArrayEquals(want, c, 0f);
            if (config == Config.COMPILED) {
                List<String> plan = s.explain(Map.of("x", new long[] {1, 6}), List.of("a", "b", "c"));
                assertEquals(2, plan.stream().filter(l -> l.startsWith("native") && l.contains("eltwise POW")).count(), plan.toString());
                assertEquals(1, plan.stream().filter(l -> l.startsWith("java") && l.contains("Pow")).count(), plan.toString());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void powOnIntegerBases(Config config, @TempDir Path dir) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(input("x", INT32, 4)).addInput(input("e", INT32, 4)).addInput(input("f", FLOAT, 1))
                .addInput(input("u", UINT8, 2)).addOutput(output("a")).addOutput(output("b")).addOutput(output("c"))
                .addNode(node("Pow", List.of("x", "e"), List.of("a")))
                .addNode(node("Pow", List.of("x", "f"), List.of("b")))
                .addNode(node("Pow", List.of("u", "e2"), List.of("c")))
                .addInitializer(int64s("e2", new long[0], 2)).build();
        try (Model m = Model.load(write(dir, "ipow.onnx", 15, g)); Session s = m.session(config.options());
             Tensor x = Tensor.ofLongs(new long[] {2, -3, 5, 7}, DataType.INT32, 4);
             Tensor e = Tensor.ofLongs(new long[] {3, 3, 0, -1}, DataType.INT32, 4);
             Tensor f = Tensor.of(new float[] {2.5f}, 1);
             Tensor u = Tensor.ofLongs(new long[] {16, 3}, DataType.UINT8, 2);
             Result r = s.run(Map.of("x", x, "e", e, "f", f, "u", u), List.of("a", "b", "c"))) {
            assertArrayEquals(new long[] {8, -27, 1, 0}, r.get("a").toLongArray());
            assertEquals(DataType.INT32, r.get("b").dtype());
            // np.power(int32, float32).astype(int32): 2^2.5 = 5.66 → 5, (−3)^2.5 = NaN → (platform) 0 in Java, 5^2.5 = 55.9 → 55, 7^2.5 = 129.6 → 129
            long[] b = r.get("b").toLongArray();
            assertEquals(5, b[0]);
            assertEquals(55, b[2]);
            assertEquals(129, b[3]);
            assertArrayEquals(new long[] {0, 9}, r.get("c").toLongArray()); // 16² = 256 wraps to 0 in uint8
        }
    }

    @Test
    void powRefusesMixedTypesBeforeOpset12(@TempDir Path dir) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 3)).addOutput(output("y"))
                .addInitializer(int64s("e", new long[0], 2)).addNode(node("Pow", List.of("x", "e"), List.of("y"))).build();
        try (Model m = Model.load(write(dir, "p.onnx", 11, g)); Session s = m.session(Config.JAVA.options())) {
            var ex = assertThrows(IllegalArgumentException.class, () -> s.explain(Map.of("x", new long[] {3}), List.of("y")));
            assertTrue(ex.getMessage().contains("Pow") && ex.getMessage().contains("int64") && ex.getMessage().contains("opset 12"), ex.getMessage());
        }
    }
}
