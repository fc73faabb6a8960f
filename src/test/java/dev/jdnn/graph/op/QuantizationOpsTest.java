package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.TinyModels.*;
import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Quantization ops beyond what the ONNX backend node tests cover (they run in OnnxNodeConformanceTest):
 * rounding ties and saturation for uint8 and int8, per-axis scales and zero points, opset 21's output_dtype,
 * per-channel QLinearConv with every Conv attribute, per-row / per-column QLinearMatMul and MatMulInteger,
 * clear errors for what jdnn refuses, and a small QDQ network whose compiled plan runs its float convolutions
 * and fake quantization natively. Expected values are worked by hand or by independent loops written here
 * (explicitly padded input, long arithmetic), in all three configurations.
 */
class QuantizationOpsTest {

    static AttributeProto attr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static AttributeProto attr(String name, String v) {
        return TinyModels.attr(name, v);
    }

    /** A uint8 / int8 / int32 initializer (raw little-endian data). */
    static TensorProto quantized(String name, int type, long[] dims, long... v) {
        int bytes = type == INT32 ? 4 : 1;
        ByteBuffer b = ByteBuffer.allocate(v.length * bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            if (bytes == 4) b.putInt((int) x);
            else b.put((byte) x);
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type).setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    static final long[] SCALAR = {};

    static GraphProto.Builder graph(String input, int type, long[] shape, String output) {
        return GraphProto.newBuilder().addInput(input(input, type, shape)).addOutput(output(output));
    }

    static Result run(Path model, Config config, Map<String, Tensor> inputs) {
        try (Model m = Model.load(model); Session s = m.session(config.options())) {
            return s.run(inputs);
        }
    }

    static long[] runInts(Path model, Config config, Tensor x, String output) {
        try (Model m = Model.load(model); Session s = m.session(config.options()); Result r = s.run(Map.of("x", x))) {
            return r.get(output).toLongArray();
        } finally {
            x.close();
        }
    }

    static float[] runFloats(Path model, Config config, Tensor x, String output) {
        try (Model m = Model.load(model); Session s = m.session(config.options()); Result r = s.run(Map.of("x", x))) {
            return r.get(output).toArray();
        } finally {
            x.close();
        }
    }

    static final float[] TIES = {-300f, -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 126.5f, 127.5f, 300f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};

    @ParameterizedTest
    @EnumSource(Config.class)
    void quantizeRoundsHalfToEvenAndSaturatesUint8AndInt8(Config config, @TempDir Path dir) throws IOException {
        long[] shape = {TIES.length};
        // uint8, zero point 128: rint(x) + 128 clipped to 0..255.
        GraphProto g = graph("x", FLOAT, shape, "y").addInitializer(floats("s", SCALAR, 1f)).addInitializer(quantized("z", UINT8, SCALAR, 128))
                .addNode(node("QuantizeLinear", List.of("x", "s", "z"), List.of("y"))).build();
        assertArrayEquals(new long[] {0, 126, 126, 128, 128, 130, 130, 254, 255, 255, 255, 0},
                runInts(write(dir, "u8.onnx", 13, g), config, Tensor.of(TIES, shape), "y"));
        // int8, zero point -1: rint(x) - 1 clipped to -128..127.
        g = graph("x", FLOAT, shape, "y").addInitializer(floats("s", SCALAR, 1f)).addInitializer(quantized("z", INT8, SCALAR, -1))
                .addNode(node("QuantizeLinear", List.of("x", "s", "z"), List.of("y"))).build();
        assertArrayEquals(new long[] {-128, -3, -3, -1, -1, 1, 1, 125, 127, 127, 127, -128},
                runInts(write(dir, "i8.onnx", 13, g), config, Tensor.of(TIES, shape), "y"));
        // No zero point: uint8, zero 0 (opset 10).
        g = graph("x", FLOAT, shape, "y").addInitializer(floats("s", SCALAR, 0.5f))
                .addNode(node("QuantizeLinear", List.of("x", "s"), List.of("y"))).build();
        assertArrayEquals(new long[] {0, 0, 0, 0, 1, 3, 5, 253, 255, 255, 255, 0},
                runInts(write(dir, "default.onnx", 10, g), config, Tensor.of(TIES, shape), "y"));
        // Opset 21's output_dtype int8 without a zero point.
        g = graph("x", FLOAT, shape, "y").addInitializer(floats("s", SCALAR, 1f))
                .addNode(node("QuantizeLinear", List.of("x", "s"), List.of("y"), attr("output_dtype", INT8))).build();
        try (Model m = Model.load(write(dir, "dtype.onnx", 21, g)); Session s = m.session(config.options());
             Tensor x = Tensor.of(TIES, shape); Result r = s.run(Map.of("x", x))) {
            assertEquals(DataType.INT8, r.get("y").dtype());
            assertArrayEquals(new long[] {-128, -2, -2, 0, 0, 2, 2, 126, 127, 127, 127, -128}, r.get("y").toLongArray());
        }
    }

    /** x [2,3,2] quantized per channel of axis 1 (scales 1, 0.5, 2; int8 zero points 0, 1, -2), then dequantized. */
    static final float[] AXIS_X = {1f, -1f, 1.25f, 0.75f, 3f, -5f, 0.5f, 2.5f, -0.25f, 100f, 1f, 300f};
    static final long[] AXIS_Q = {1, -1, 3, 3, 0, -4, 0, 2, 1, 127, -2, 127};
    static final float[] AXIS_Y = {1f, -1f, 1f, 1f, 4f, -4f, 0f, 2f, 0f, 63f, 0f, 258f};

    @ParameterizedTest
    @EnumSource(Config.class)
    void perAxisQuantizeAndDequantize(Config config, @TempDir Path dir) throws IOException {
        long[] shape = {2, 3, 2};
        for (long axis : new long[] {1, -2}) {
            GraphProto g = graph("x", FLOAT, shape, "q").addOutput(output("y"))
                    .addInitializer(floats("s", new long[] {3}, 1f, 0.5f, 2f)).addInitializer(quantized("z", INT8, new long[] {3}, 0, 1, -2))
                    .addNode(node("QuantizeLinear", List.of("x", "s", "z"), List.of("q"), attr("axis", axis)))
                    .addNode(node("DequantizeLinear", List.of("q", "s", "z"), List.of("y"), attr("axis", axis))).build();
            try (Model m = Model.load(write(dir, "axis.onnx", 13, g)); Session s = m.session(config.options());
                 Tensor x = Tensor.of(AXIS_X, shape); Result r = s.run(Map.of("x", x))) {
                assertArrayEquals(AXIS_Q, r.get("q").toLongArray(), "axis " + axis);
                assertArrayEquals(AXIS_Y, r.get("y").toArray(), 0f, "axis " + axis);
            }
            // The pair alone (q not an output): fused into jdnn.FakeQuantize, per axis so on its Java steps.
            g = graph("x", FLOAT, shape, "y")
                    .addInitializer(floats("s", new long[] {3}, 1f, 0.5f, 2f)).addInitializer(quantized("z", INT8, new long[] {3}, 0, 1, -2))
                    .addNode(node("QuantizeLinear", List.of("x", "s", "z"), List.of("q"), attr("axis", axis)))
                    .addNode(node("DequantizeLinear", List.of("q", "s", "z"), List.of("y"), attr("axis", axis))).build();
            assertArrayEquals(AXIS_Y, runFloats(write(dir, "pair.onnx", 13, g), config, Tensor.of(AXIS_X, shape), "y"), 0f);
        }
        // DequantizeLinear of uint8 along the last axis, and of int32 (a bias) without a zero point.
        GraphProto g = graph("x", UINT8, new long[] {2, 2}, "y").addInitializer(floats("s", new long[] {2}, 0.5f, 3f))
                .addInitializer(quantized("z", UINT8, new long[] {2}, 128, 0))
                .addNode(node("DequantizeLinear", List.of("x", "s", "z"), List.of("y"), attr("axis", -1))).build();
        assertArrayEquals(new float[] {-64f, 765f, 63.5f, 3f},
                runFloats(write(dir, "dq.onnx", 13, g), config, Tensor.ofLongs(new long[] {0, 255, 255, 1}, DataType.UINT8, 2, 2), "y"), 0f);
        g = graph("x", INT32, new long[] {3}, "y").addInitializer(floats("s", SCALAR, 0.25f))
                .addNode(node("DequantizeLinear", List.of("x", "s"), List.of("y"))).build();
        assertArrayEquals(new float[] {-250000f, 0.25f, 536870911.75f},
                runFloats(write(dir, "dq32.onnx", 10, g), config, Tensor.ofLongs(new long[] {-1000000, 1, Integer.MAX_VALUE}, DataType.INT32, 3), "y"), 0f);
    }

    /**
     * A float activation's QuantizeLinear → DequantizeLinear with per-tensor constants runs as one native
     * primitive in a compiled plan and gives the Java reference's floats bit for bit: random values with an
     * arbitrary scale (the division must be IEEE's, not a multiplication by the reciprocal), and exact ties
     * (scale 0.25, so x / scale = k + 0.5) that only round half to even gets right.
     */
    @ParameterizedTest
    @EnumSource(Config.class)
    void fakeQuantizationRunsNativeAndExact(Config config, @TempDir Path dir) throws IOException {
        long[] shape = {1, 4, 8, 8};
        int n = 256;
        Random rnd = new Random(11);
        for (int type : new int[] {UINT8, INT8}) {
            float scale = 0.0123f;
            long zp = type == UINT8 ? 131 : -7;
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian() * 2;
            // Values next to rounding boundaries where x / scale and x · (1 / scale) round to different integers.
            int near = 0;
            for (int k = -60; k < 60 && near < 128; k++) {
                float y = (k + 0.5f) * scale;
                for (int step = 0; step < 4; step++, y = Math.nextUp(y)) {
                    if (near < 128 && Math.rint(y / scale) != Math.rint(y * (1f / scale))) x[near++] = y;
                }
            }
            assertTrue(near > 10, "boundary values found: " + near);
            GraphProto g = graph("x", FLOAT, shape, "y").addInitializer(floats("s", SCALAR, scale)).addInitializer(quantized("z", type, SCALAR, zp))
                    .addInitializer(floats("s2", SCALAR, 0.02f)).addInitializer(quantized("z2", type, SCALAR, zp + 1))
                    .addNode(node("QuantizeLinear", List.of("x", "s", "z"), List.of("q")))
                    .addNode(node("DequantizeLinear", List.of("q", "s2", "z2"), List.of("y"))).build();
            Path model = write(dir, "fq.onnx", 13, g);
            float[] want = new float[n];
            for (int i = 0; i < n; i++) {
                // The reference by hand: float division, rint, + zp, clip, then (q - zp2) * s2.
                double q = Math.rint(x[i] / scale) + zp;
                q = Math.max(type == UINT8 ? 0 : -128, Math.min(type == UINT8 ? 255 : 127, q));
                want[i] = ((float) q - (float) (zp + 1)) * 0.02f;
            }
            assertArrayEquals(want, runFloats(model, config, Tensor.of(x, shape), "y"), 0f, "type " + type);
            // Ties: scale 0.25, x = (k + 0.5) * 0.25.
            float[] ties = new float[n];
            for (int i = 0; i < n; i++) ties[i] = (i - 128 + 0.5f) * 0.25f;
            g = graph("x", FLOAT, shape, "y").addInitializer(floats("s", SCALAR, 0.25f)).addInitializer(quantized("z", type, SCALAR, 0))
                    .addNode(node("QuantizeLinear", List.of("x", "s", "z"), List.of("q")))
                    .addNode(node("DequantizeLinear", List.of("q", "s", "z"), List.of("y"))).build();
            float[] tieWant = new float[n];
            for (int i = 0; i < n; i++) {
                long k = i - 128;   // x / s = k + 0.5: half to even picks the even one of k, k + 1
                long q = (k % 2 == 0) ? k : k + 1;
                q = Math.max(type == UINT8 ? 0 : -128, Math.min(type == UINT8 ? 255 : 127, q));
                tieWant[i] = q * 0.25f;
            }
            Path tiesModel = write(dir, "ties.onnx", 13, g);
            assertArrayEquals(tieWant, runFloats(tiesModel, config, Tensor.of(ties, shape), "y"), 0f, "ties, type " + type);
            if (config == Config.COMPILED) {
                for (Path p : List.of(model, tiesModel)) {
                    try (Model m = Model.load(p); Session s = m.session(config.options())) {
                        List<String> plan = s.explain(Map.of("x", shape), List.of("y"));
                        assertTrue(plan.stream().anyMatch(l -> l.startsWith("native") && l.contains("fake quantization")), plan.toString());
                        assertFalse(plan.stream().anyMatch(l -> l.startsWith("java")), plan.toString());
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void dynamicQuantizeLinearOfZerosAndOfOneSign(Config config, @TempDir Path dir) throws IOException {
        GraphProto g = graph("x", FLOAT, new long[] {4}, "y").addOutput(output("s")).addOutput(output("z"))
                .addNode(node("DynamicQuantizeLinear", List.of("x"), List.of("y", "s", "z"))).build();
        Path model = write(dir, "dyn.onnx", 11, g);
        try (Tensor x = Tensor.of(new float[4], 4); Result r = run(model, config, Map.of("x", x))) {
            assertArrayEquals(new long[4], r.get("y").toLongArray());
            assertEquals(1f / 255f, r.get("s").getFlat(0));
            assertEquals(0, r.get("z").toLongArray()[0]);
        }
        // All negative: the range is [-5.1, 0], scale 0.02, zero point 255.
        try (Tensor x = Tensor.of(new float[] {-5.1f, -1f, -0.01f, -0.03f}, 4); Result r = run(model, config, Map.of("x", x))) {
            float s = -(-5.1f) / 255f;
            assertEquals(s, r.get("s").getFlat(0));
            assertEquals(255, r.get("z").toLongArray()[0]);
            long[] want = new long[4];
            float[] xs = {-5.1f, -1f, -0.01f, -0.03f};
            for (int i = 0; i < 4; i++) want[i] = Math.max(0, Math.min(255, (long) Math.rint(xs[i] / s) + 255));
            assertArrayEquals(want, r.get("y").toLongArray());
        }
    }

    // ---- QLinearConv / ConvInteger ----

    /**
     * The oracle for a 2-D integer convolution: x zero-point-shifted and explicitly padded (so padding adds 0),
     * then a direct sum in long per output element.
     */
    static long[] integerConv(long[] x, long[] xShape, long xzp, long[] w, long[] wShape, long[] wzp, int[] pads, int[] strides, int[] dil, int group) {
        int n = (int) xShape[0], c = (int) xShape[1], h = (int) xShape[2], wd = (int) xShape[3];
        int m = (int) wShape[0], cg = (int) wShape[1], kh = (int) wShape[2], kw = (int) wShape[3];
        int ph = h + pads[0] + pads[2], pw = wd + pads[1] + pads[3];
        long[][][][] padded = new long[n][c][ph][pw];
        for (int b = 0; b < n; b++) for (int ch = 0; ch < c; ch++) for (int i = 0; i < h; i++) for (int j = 0; j < wd; j++) {
            padded[b][ch][i + pads[0]][j + pads[1]] = x[((b * c + ch) * h + i) * wd + j] - xzp;
        }
        int oh = (ph - dil[0] * (kh - 1) - 1) / strides[0] + 1, ow = (pw - dil[1] * (kw - 1) - 1) / strides[1] + 1;
        long[] out = new long[n * m * oh * ow];
        int mg = m / group;
        for (int b = 0; b < n; b++) for (int oc = 0; oc < m; oc++) for (int i = 0; i < oh; i++) for (int j = 0; j < ow; j++) {
            long sum = 0;
            for (int ic = 0; ic < cg; ic++) for (int r = 0; r < kh; r++) for (int s = 0; s < kw; s++) {
                sum += padded[b][(oc / mg) * cg + ic][i * strides[0] + r * dil[0]][j * strides[1] + s * dil[1]]
                        * (w[((oc * cg + ic) * kh + r) * kw + s] - wzp[wzp.length == 1 ? 0 : oc]);
            }
            out[((b * m + oc) * oh + i) * ow + j] = sum;
        }
        return out;
    }

    static long[] random(Random r, int n, int lo, int hi) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) v[i] = lo + r.nextInt(hi - lo + 1);
        return v;
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void qlinearConvPerChannelWithConvAttributesAndBias(Config config, @TempDir Path dir) throws IOException {
        Random rnd = new Random(5);
        long[] xShape = {2, 4, 7, 6}, wShape = {6, 2, 3, 2};
        long[] x = random(rnd, 2 * 4 * 7 * 6, 0, 255), w = random(rnd, 6 * 2 * 3 * 2, -128, 127), bias = random(rnd, 6, -5000, 5000);
        long xzp = 119;
        long[] wzp = {0, 3, -2, 0, 1, -1};
        float xs = 0.031f, ys = 0.27f;
        float[] ws = {0.011f, 0.02f, 0.0042f, 0.017f, 0.009f, 0.013f};
        long yzp = -3;
        int[] pads = {1, 0, 2, 1}, strides = {2, 1}, dil = {1, 2};
        GraphProto g = graph("x", UINT8, xShape, "y")
                .addInitializer(floats("xs", SCALAR, xs)).addInitializer(quantized("xz", UINT8, SCALAR, xzp))
                .addInitializer(quantized("w", INT8, wShape, w)).addInitializer(floats("ws", new long[] {6}, ws)).addInitializer(quantized("wz", INT8, new long[] {6}, wzp))
                .addInitializer(floats("ys", SCALAR, ys)).addInitializer(quantized("yz", INT8, SCALAR, yzp)).addInitializer(quantized("b", INT32, new long[] {6}, bias))
                .addNode(node("QLinearConv", List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"), List.of("y"),
                        ints("pads", 1, 0, 2, 1), ints("strides", 2, 1), ints("dilations", 1, 2), attr("group", 2))).build();
        long[] acc = integerConv(x, xShape, xzp, w, wShape, wzp, pads, strides, dil, 2);
        long[] want = new long[acc.length];
        int plane = acc.length / (2 * 6);
        for (int i = 0; i < acc.length; i++) {
            int oc = (i / plane) % 6;
            float multiplier = xs * ws[oc] / ys;
            want[i] = Math.max(-128, Math.min(127, (long) Math.rint((acc[i] + bias[oc]) * (double) multiplier + yzp)));
        }
        long[] got = runInts(write(dir, "qconv.onnx", 13, g), config, Tensor.ofLongs(x, DataType.UINT8, xShape), "y");
        assertArrayEquals(want, got);
        assertTrue(java.util.Arrays.stream(want).anyMatch(v -> v == 127) || java.util.Arrays.stream(want).anyMatch(v -> v != yzp), "a trivial case");
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void convIntegerSameUpperAnd1D(Config config, @TempDir Path dir) throws IOException {
        Random rnd = new Random(9);
        long[] xShape = {1, 3, 5, 5}, wShape = {2, 3, 3, 3};
        long[] x = random(rnd, 75, 0, 255), w = random(rnd, 54, 0, 255);
        GraphProto g = graph("x", UINT8, xShape, "y").addInitializer(quantized("w", UINT8, wShape, w))
                .addInitializer(quantized("xz", UINT8, SCALAR, 17)).addInitializer(quantized("wz", UINT8, new long[] {2}, 100, 200))
                .addNode(node("ConvInteger", List.of("x", "w", "xz", "wz"), List.of("y"), attr("auto_pad", "SAME_UPPER"), ints("strides", 2, 2))).build();
        // SAME_UPPER, stride 2 on 5: output 3, total padding 2, 1 before and 1 after.
        long[] want = integerConv(x, xShape, 17, w, wShape, new long[] {100, 200}, new int[] {1, 1, 1, 1}, new int[] {2, 2}, new int[] {1, 1}, 1);
        assertArrayEquals(want, runInts(write(dir, "cint.onnx", 10, g), config, Tensor.ofLongs(x, DataType.UINT8, xShape), "y"));
        // 1-D: as 2-D with height 1; no zero points.
        long[] x1 = random(rnd, 2 * 2 * 9, -128, 127), w1 = random(rnd, 3 * 2 * 4, -128, 127);
        g = graph("x", INT8, new long[] {2, 2, 9}, "y").addInitializer(quantized("w", INT8, new long[] {3, 2, 4}, w1))
                .addNode(node("ConvInteger", List.of("x", "w"), List.of("y"), ints("pads", 2, 1))).build();
        long[] want1 = integerConv(x1, new long[] {2, 2, 1, 9}, 0, w1, new long[] {3, 2, 1, 4}, new long[] {0}, new int[] {0, 2, 0, 1}, new int[] {1, 1}, new int[] {1, 1}, 1);
        assertArrayEquals(want1, runInts(write(dir, "cint1.onnx", 10, g), config, Tensor.ofLongs(x1, DataType.INT8, 2, 2, 9), "y"));
    }

    // ---- QLinearMatMul / MatMulInteger ----

    @ParameterizedTest
    @EnumSource(Config.class)
    void matMulIntegerPerRowAndPerColumnZeroPoints(Config config, @TempDir Path dir) throws IOException {
        Random rnd = new Random(3);
        int batch = 2, m = 3, k = 5, n = 4;
        long[] a = random(rnd, batch * m * k, 0, 255), b = random(rnd, k * n, -128, 127);
        long[] azp = {1, 250, 7}, bzp = {0, -5, 9, 127};
        GraphProto g = graph("x", UINT8, new long[] {batch, m, k}, "y").addInitializer(quantized("b", INT8, new long[] {k, n}, b))
                .addInitializer(quantized("az", UINT8, new long[] {m}, azp)).addInitializer(quantized("bz", INT8, new long[] {n}, bzp))
                .addNode(node("MatMulInteger", List.of("x", "b", "az", "bz"), List.of("y"))).build();
        long[] want = new long[batch * m * n];
        for (int p = 0; p < batch; p++) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            long s = 0;
            for (int q = 0; q < k; q++) s += (a[(p * m + i) * k + q] - azp[i]) * (b[q * n + j] - bzp[j]);
            want[(p * m + i) * n + j] = s;
        }
        assertArrayEquals(want, runInts(write(dir, "mmi.onnx", 10, g), config, Tensor.ofLongs(a, DataType.UINT8, batch, m, k), "y"));
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void qlinearMatMulPerColumnScales(Config config, @TempDir Path dir) throws IOException {
        Random rnd = new Random(4);
        int m = 3, k = 6, n = 2;
        long[] a = random(rnd, m * k, -128, 127), b = random(rnd, k * n, 0, 255);
        float as = 0.05f, ys = 0.9f;
        float[] bs = {0.01f, 0.07f};
        long azp = -4, yzp = 128;
        long[] bzp = {120, 3};
        GraphProto g = graph("x", INT8, new long[] {m, k}, "y")
                .addInitializer(floats("as", SCALAR, as)).addInitializer(quantized("az", INT8, SCALAR, azp))
                .addInitializer(quantized("b", UINT8, new long[] {k, n}, b)).addInitializer(floats("bs", new long[] {n}, bs)).addInitializer(quantized("bz", UINT8, new long[] {n}, bzp))
                .addInitializer(floats("ys", SCALAR, ys)).addInitializer(quantized("yz", UINT8, SCALAR, yzp))
                .addNode(node("QLinearMatMul", List.of("x", "as", "az", "b", "bs", "bz", "ys", "yz"), List.of("y"))).build();
        long[] want = new long[m * n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            long s = 0;
            for (int q = 0; q < k; q++) s += (a[i * k + q] - azp) * (b[q * n + j] - bzp[j]);
            want[i * n + j] = Math.max(0, Math.min(255, (long) Math.rint(s * (double) (as * bs[j] / ys) + yzp)));
        }
        assertArrayEquals(want, runInts(write(dir, "qmm.onnx", 10, g), config, Tensor.ofLongs(a, DataType.INT8, m, k), "y"));
    }

    // ---- errors ----

    static String loadError(Path dir, int opset, GraphProto g) throws IOException {
        Path model = write(dir, "bad.onnx", opset, g);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            try (Model m = Model.load(model); Session s = m.session(Config.JAVA.options());
                 Tensor x = Tensor.of(new float[4], 4); Result r = s.run(Map.of("x", x))) {
                fail("ran: " + r);
            }
        });
        return e.getMessage();
    }

    @Test
    void refusedAttributesAndTypesNameTheNode(@TempDir Path dir) throws IOException {
        java.util.function.Function<NodeProto, GraphProto> one = n -> graph("x", FLOAT, new long[] {4}, "y")
                .addInitializer(floats("s", SCALAR, 1f)).addInitializer(floats("s4", new long[] {4}, 1f, 1f, 1f, 1f))
                .addInitializer(floats("s3", new long[] {3}, 1f, 1f, 1f)).addInitializer(quantized("z8", INT8, SCALAR, 0)).addNode(n).build();
        String m = loadError(dir, 21, one.apply(node("QuantizeLinear", List.of("x", "s4"), List.of("y"), attr("block_size", 2))));
        assertTrue(m.contains("QuantizeLinear node y") && m.contains("block quantization"), m);
        m = loadError(dir, 10, one.apply(node("QuantizeLinear", List.of("x", "s4"), List.of("y"))));
        assertTrue(m.contains("needs opset 13"), m);
        m = loadError(dir, 13, one.apply(node("QuantizeLinear", List.of("x", "s3"), List.of("y"), attr("axis", 0))));
        assertTrue(m.contains("y_scale has 3 values, expected 4"), m);
        m = loadError(dir, 21, one.apply(node("QuantizeLinear", List.of("x", "s"), List.of("y"), attr("output_dtype", 17))));
        assertTrue(m.contains("output_dtype=17 (float8e4m3fn) is not supported"), m);
        m = loadError(dir, 21, one.apply(node("QuantizeLinear", List.of("x", "s", "z8"), List.of("y"), attr("output_dtype", UINT8))));
        assertTrue(m.contains("differs from y_zero_point's type int8"), m);
        m = loadError(dir, 19, one.apply(node("QuantizeLinear", List.of("x", "s"), List.of("y"), attr("saturate", 2))));
        assertTrue(m.contains("saturate must be 0 or 1"), m);
        m = loadError(dir, 13, one.apply(node("DequantizeLinear", List.of("x", "s"), List.of("y"))));
        assertTrue(m.contains("DequantizeLinear node y") && m.contains("x of type float is not supported"), m);
        m = loadError(dir, 13, one.apply(node("QuantizeLinear", List.of("x", "s4", "z8"), List.of("y"))));
        assertTrue(m.contains("the zero point's shape [] differs from the scale's [4]"), m);
        m = loadError(dir, 13, one.apply(node("QLinearMatMul", List.of("x", "s", "z8", "x", "s", "z8", "s", "z8"), List.of("y"))));
        assertTrue(m.contains("QLinearMatMul node y") && m.contains("a of type float is not supported"), m);
    }

    // ---- a QDQ network ----

    /**
     * x → Q/DQ → Conv(DQ(int8 weights, per output channel), DQ(int32 bias)) → BatchNormalization → Relu → Q/DQ
     * → Conv(DQ(int8 weights)) → y, as ONNX Runtime's QDQ quantizer writes it: in the compiled plan the
     * weights' DequantizeLinear is folded at prepare, both convolutions (the first with its batch norm and
     * ReLU) and both fake quantizations run natively, nothing in Java; the result matches the Java
     * reference within one output quantization step (a native conv's float rounding can move a value
     * across a rounding boundary of the next fake quantization), and equals it almost everywhere.
     */
    @Test
    void qdqConvNetworkRunsNativeAndMatchesTheReference(@TempDir Path dir) throws IOException {
        Random rnd = new Random(21);
        long[] xShape = {1, 3, 16, 16}, w1Shape = {8, 3, 3, 3}, w2Shape = {4, 8, 1, 1};
        float sx = 0.02f, sa = 0.03f;
        float[] sw1 = new float[8];
        for (int i = 0; i < 8; i++) sw1[i] = 0.002f + 0.001f * i;
        long[] bias = random(rnd, 8, -2000, 2000);
        float[] sb = new float[8];
        for (int i = 0; i < 8; i++) sb[i] = sx * sw1[i];
        float[] gamma = new float[8], beta = new float[8], mean = new float[8], var = new float[8];
        for (int i = 0; i < 8; i++) {
            gamma[i] = 0.5f + 0.1f * i;
            beta[i] = 0.1f * (i - 4);
            mean[i] = 0.05f * i;
            var[i] = 1f + 0.2f * i;
        }
        List<NodeProto> nodes = new ArrayList<>(List.of(
                node("QuantizeLinear", List.of("x", "sx", "zx"), List.of("xq")),
                node("DequantizeLinear", List.of("xq", "sx", "zx"), List.of("xd")),
                node("DequantizeLinear", List.of("w1", "sw1", "zw1"), List.of("w1d"), attr("axis", 0)),
                node("DequantizeLinear", List.of("b1", "sb1"), List.of("b1d"), attr("axis", 0)),
                node("Conv", List.of("xd", "w1d", "b1d"), List.of("c1"), ints("pads", 1, 1, 1, 1)),
                node("BatchNormalization", List.of("c1", "g", "be", "mu", "va"), List.of("bn")),
                node("Relu", List.of("bn"), List.of("r1")),
                node("QuantizeLinear", List.of("r1", "sa", "za"), List.of("aq")),
                node("DequantizeLinear", List.of("aq", "sa", "za"), List.of("ad")),
                node("DequantizeLinear", List.of("w2", "sw2"), List.of("w2d")),
                node("Conv", List.of("ad", "w2d"), List.of("y"))));
        GraphProto.Builder g = graph("x", FLOAT, xShape, "y")
                .addInitializer(floats("sx", SCALAR, sx)).addInitializer(quantized("zx", UINT8, SCALAR, 128))
                .addInitializer(quantized("w1", INT8, w1Shape, random(rnd, 216, -127, 127))).addInitializer(floats("sw1", new long[] {8}, sw1))
                .addInitializer(quantized("zw1", INT8, new long[] {8}, new long[8]))
                .addInitializer(quantized("b1", INT32, new long[] {8}, bias)).addInitializer(floats("sb1", new long[] {8}, sb))
                .addInitializer(floats("g", new long[] {8}, gamma)).addInitializer(floats("be", new long[] {8}, beta))
                .addInitializer(floats("mu", new long[] {8}, mean)).addInitializer(floats("va", new long[] {8}, var))
                .addInitializer(floats("sa", SCALAR, sa)).addInitializer(quantized("za", UINT8, SCALAR, 0))
                .addInitializer(quantized("w2", INT8, w2Shape, random(rnd, 32, -127, 127))).addInitializer(floats("sw2", SCALAR, 0.004f));
        nodes.forEach(g::addNode);
        Path model = write(dir, "qdq.onnx", 13, g.build());
        float[] x = new float[16 * 48];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] reference = runFloats(model, Config.JAVA, Tensor.of(x, xShape), "y");
        float[] compiled = runFloats(model, Config.COMPILED, Tensor.of(x, xShape), "y");
        // One step of the second fake quantization moves y by sa · Σ|w2·sw2| at most.
        double step = 0;
        for (int i = 0; i < 4; i++) step = Math.max(step, 8 * 127 * 0.004 * sa);
        int equal = 0;
        for (int i = 0; i < reference.length; i++) {
            assertTrue(Math.abs(reference[i] - compiled[i]) <= step, "element " + i + ": " + reference[i] + " vs " + compiled[i]);
            if (Math.abs(reference[i] - compiled[i]) <= 1e-5 * Math.max(1, Math.abs(reference[i]))) equal++;
        }
        assertTrue(equal >= reference.length * 0.95, equal + " of " + reference.length + " equal");
        try (Model m = Model.load(model); Session s = m.session(Config.COMPILED.options())) {
            List<String> plan = s.explain(Map.of("x", xShape), List.of("y"));
            String all = String.join("\n", plan);
            assertFalse(plan.stream().anyMatch(l -> l.startsWith("java")), all);
            assertEquals(2, plan.stream().filter(l -> l.startsWith("native") && l.contains("fake quantization")).count(), all);
            assertTrue(plan.stream().anyMatch(l -> l.startsWith("native") && l.contains("(folded)") && l.contains("eltwise post-op")), all);
            assertTrue(plan.stream().anyMatch(l -> l.startsWith("const") && l.contains("DequantizeLinear×3")), all);
        }
    }
}
