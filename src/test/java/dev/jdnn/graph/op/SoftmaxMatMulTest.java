package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.IndexingOpsTest.*;
import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Value;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorShapeProto;
import dev.jdnn.onnx.proto.OnnxProto.TypeProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Softmax, LogSoftmax, MatMul, Gemm and the matmul-shaped Einsums on oneDNN against the Java
 * reference (itself checked by ONNX's node tests in {@link IndexingOpsTest}): node by node on several
 * shapes, axes, opsets and attribute combinations, with B known at prepare (packed once) and at run
 * time; then in compiled plans, where {@code explain} must show the native primitive.
 */
class SoftmaxMatMulTest {

    /** Deterministic data in [-2, 2). */
    static Value random(long seed, long... shape) {
        int n = (int) Tensor.elementCount(shape);
        float[] r = new float[n];
        long s = seed * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < n; i++) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            r[i] = ((s >>> 40) / (float) (1L << 24)) * 4 - 2;
        }
        return f(r, shape);
    }

    static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= 1e-5 + 1e-4 * Math.abs(want[i]), what + "[" + i + "]: Java " + want[i] + ", native " + got[i]);
        }
    }

    /** Runs {@code node} on the Java reference and node by node on NATIVE; both must agree. */
    static void nativeMatchesJava(Node node, int opset, boolean[] constant, Value... inputs) {
        Value java = run(node, opset, Backend.JAVA, constant, inputs);
        Value nat = run(node, opset, Backend.NATIVE, constant, inputs);
        assertArrayEquals(java.shape(), nat.shape(), node.opType() + " shape");
        assertClose(floats(java), floats(nat), node.opType() + " " + node.attributes().names() + " opset " + opset);
    }

    /** Whether {@code node} prepared node by node on NATIVE runs a oneDNN primitive (not the Java fallback). */
    static boolean runsNative(Node node, int opset, boolean[] constant, Value... inputs) {
        List<long[]> shapes = new java.util.ArrayList<>();
        List<dev.jdnn.DataType> types = new java.util.ArrayList<>();
        List<Value> constants = new java.util.ArrayList<>();
        for (int i = 0; i < inputs.length; i++) {
            shapes.add(inputs[i].shape());
            types.add(inputs[i].type());
            constants.add(constant != null && constant[i] ? inputs[i] : null);
        }
        try (Op.Step step = Registry.get(node.opType(), opset).prepare(node, new Inputs(shapes, types, constants), new Op.Context(Backend.NATIVE, opset))) {
            return step.getClass().getEnclosingClass() == NativeStep.class;
        }
    }

    @Test
    void softmaxAndLogSoftmaxNativeMatchJava() {
        long[][] shapes = {{7}, {2, 5}, {3, 4, 5}, {2, 3, 4, 5}, {2, 17, 1, 1}};
        for (String op : List.of("Softmax", "LogSoftmax")) {
            for (long[] shape : shapes) {
                Value x = random(shape.length, shape);
                for (int axis = -shape.length; axis < shape.length; axis++) {
                    nativeMatchesJava(node(op, 1, "axis", axis), 13, null, x);
                    assertTrue(runsNative(node(op, 1, "axis", axis), 13, null, x), op + " axis " + axis + " of " + java.util.Arrays.toString(shape));
                    nativeMatchesJava(node(op, 1, "axis", axis), 11, null, x); // coerced to 2-D; native when one axis remains
                }
                nativeMatchesJava(node(op, 1), 13, null, x);
                if (shape.length > 1) nativeMatchesJava(node(op, 1), 11, null, x);
            }
        }
        // Large values: max subtracted, no overflow.
        Value big = f(new float[] {1000, 1001, 1002, -1000}, 1, 4);
        assertClose(new float[] {0.09003057f, 0.24472847f, 0.66524096f, 0}, floats(run(node("Softmax", 1), 13, Backend.NATIVE, null, big)), "softmax large");
        assertClose(new float[] {-2.407606f, -1.4076059f, -0.40760595f, -2002.4076f}, floats(run(node("LogSoftmax", 1), 13, Backend.NATIVE, null, big)), "log large");
    }

    @Test
    void matMulNativeMatchesJavaWithBroadcastAndOneDimensionalOperands() {
        long[][][] pairs = {
                {{3, 4}, {4, 5}}, {{2, 3, 4}, {4, 5}}, {{2, 3, 4}, {2, 4, 5}}, {{4}, {2, 4, 3}}, {{3, 4}, {4}},
                {{2, 1, 3, 4}, {1, 5, 4, 2}}, {{1, 64}, {64, 10}}, {{5, 1, 3}, {3, 7}}, {{4}, {4, 6}},
        };
        int seed = 0;
        for (long[][] p : pairs) {
            Value a = random(++seed, p[0]), b = random(++seed, p[1]);
            nativeMatchesJava(node("MatMul", 2), 13, null, a, b);
            nativeMatchesJava(node("MatMul", 2), 13, new boolean[] {false, true}, a, b);
            assertTrue(runsNative(node("MatMul", 2), 13, null, a, b), "MatMul " + a + " " + b);
            assertTrue(runsNative(node("MatMul", 2), 13, new boolean[] {false, true}, a, b), "MatMul, B constant, " + a + " " + b);
        }
        assertError("inner dimensions differ", () -> run(node("MatMul", 2), 13, random(1, 3, 4), random(2, 5, 6)));
        assertError("cannot be broadcast", () -> run(node("MatMul", 2), 13, random(1, 2, 3, 4), random(2, 3, 4, 5)));
    }

    @Test
    void gemmAllAttributesNativeMatchesJava() {
        int m = 3, k = 5, n = 4;
        long[][] cShapes = {null, {}, {n}, {1}, {m, 1}, {m, n}, {1, n}};
        int seed = 10;
        for (int ta = 0; ta < 2; ta++) {
            for (int tb = 0; tb < 2; tb++) {
                for (long[] c : cShapes) {
                    for (boolean constantB : new boolean[] {true, false}) {
                        Value a = random(++seed, ta == 1 ? new long[] {k, m} : new long[] {m, k});
                        Value b = random(++seed, tb == 1 ? new long[] {n, k} : new long[] {k, n});
                        Value cv = c == null ? null : random(++seed, c);
                        for (float[] ab : new float[][] {{1, 1}, {0.5f, -2}}) {
                            Node g = node("Gemm", c == null ? 2 : 3, "transA", ta, "transB", tb, "alpha", (double) ab[0], "beta", (double) ab[1]);
                            Value[] in = c == null ? new Value[] {a, b} : new Value[] {a, b, cv};
                            boolean[] constant = c == null ? new boolean[] {false, constantB} : new boolean[] {false, constantB, true};
                            nativeMatchesJava(g, 13, constant, in);
                            // A runtime B with alpha != 1 stays on Java (alpha is folded into a packed B).
                            assertEquals(constantB || ab[0] == 1, runsNative(g, 13, constant, in), "Gemm native " + g.attributes().names() + " C " + java.util.Arrays.toString(c));
                        }
                    }
                }
            }
        }
        assertError("cannot be broadcast", () -> run(node("Gemm", 3), 13, random(1, 3, 5), random(2, 5, 4), random(3, 2, 4)));
    }

    @Test
    void matmulShapedEinsumsNativeMatchJava() {
        Object[][] cases = {
                {"bij,bjk->bik", new long[] {2, 3, 4}, new long[] {2, 4, 5}},
                {"ij,jk->ik", new long[] {3, 4}, new long[] {4, 5}},
                {"ij,kj->ik", new long[] {3, 4}, new long[] {5, 4}},
                {"ji,jk->ik", new long[] {4, 3}, new long[] {4, 5}},
                {"bhwc,ck->bhwk", new long[] {2, 3, 4, 6}, new long[] {6, 5}},
                {"bij,jk->bik", new long[] {2, 3, 4}, new long[] {4, 5}},
                {"ibj,bjk->bik", new long[] {3, 2, 4}, new long[] {2, 4, 5}},
                {"...ij,...jk->...ik", new long[] {2, 3, 4}, new long[] {1, 4, 5}},
                {"i,i", new long[] {7}, new long[] {7}},
                {"i,j->ij", new long[] {3}, new long[] {4}},
                {"bij,bkj->bik", new long[] {2, 3, 4}, new long[] {2, 5, 4}},
        };
        int seed = 30;
        for (Object[] c : cases) {
            Value a = random(++seed, (long[]) c[1]), b = random(++seed, (long[]) c[2]);
            Node e = node("Einsum", 2, "equation", c[0]);
            nativeMatchesJava(e, 12, null, a, b);
            nativeMatchesJava(e, 12, new boolean[] {false, true}, a, b);
            assertEquals(!c[0].equals("i,i"), runsNative(e, 12, null, a, b), c[0] + " native");
            assertEquals(!c[0].equals("i,i"), runsNative(e, 12, new boolean[] {false, true}, a, b), c[0] + " native, B constant");
        }
    }

    // ---- compiled plans -------------------------------------------------------------------------------

    static ValueInfoProto input(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    static TensorProto initializer(String name, Value v) {
        float[] data = floats(v);
        ByteBuffer buf = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : data) buf.putFloat(x);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1).setRawData(ByteString.copyFrom(buf.array()));
        for (long d : v.shape()) t.addDims(d);
        return t.build();
    }

    static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static NodeProto onnxNode(String op, List<String> in, String out, AttributeProto... attrs) {
        return NodeProto.newBuilder().setOpType(op).setName(out).addAllInput(in).addOutput(out).addAllAttribute(List.of(attrs)).build();
    }

    @Test
    void compiledPlansRunMatMulGemmEinsumAndSoftmaxNatively(@TempDir Path dir) throws IOException {
        // x 2×3×8 · W 8×6 (MatMul, W packed) → LogSoftmax(axis -1); x2 = Gemm(Aᵀ of a 8×4 input, B, full C) → Softmax;
        // Einsum 'bij,bkj->bik' of x with itself (both at run time) → output.
        Value w = random(1, 8, 6), gb = random(2, 8, 5), gc = random(3, 4, 5);
        AttributeProto equation = AttributeProto.newBuilder().setName("equation").setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8("bij,bkj->bik")).build();
        GraphProto g = GraphProto.newBuilder()
                .addInput(input("x", 2, 3, 8)).addInput(input("a", 8, 4))
                .addInitializer(initializer("w", w)).addInitializer(initializer("gb", gb)).addInitializer(initializer("gc", gc))
                .addNode(onnxNode("MatMul", List.of("x", "w"), "mm"))
                .addNode(onnxNode("LogSoftmax", List.of("mm"), "y1", intAttr("axis", -1)))
                .addNode(onnxNode("Gemm", List.of("a", "gb", "gc"), "gemm", intAttr("transA", 1)))
                .addNode(onnxNode("Softmax", List.of("gemm"), "y2", intAttr("axis", 1)))
                .addNode(onnxNode("Einsum", List.of("x", "x"), "y3", equation))
                .addOutput(ValueInfoProto.newBuilder().setName("y1")).addOutput(ValueInfoProto.newBuilder().setName("y2"))
                .addOutput(ValueInfoProto.newBuilder().setName("y3")).build();
        ModelProto proto = ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(g).build();
        Path file = dir.resolve("model.onnx");
        Files.write(file, proto.toByteArray());
        // Einsum is registered from opset 12 on, so opset 13 loads all five nodes.
        List<String> outs = List.of("y1", "y2", "y3");
        try (Model model = Model.load(file);
             Session compiled = model.session(Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.all()));
             Session java = model.session(Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()));
             Tensor x = ((Value.Floats) random(4, 2, 3, 8)).tensor(); Tensor a = ((Value.Floats) random(5, 8, 4)).tensor()) {
            Map<String, Tensor> inputs = Map.of("x", x, "a", a);
            String plan = String.join("\n", compiled.explain(Map.of("x", x.shape(), "a", a.shape()), outs));
            assertTrue(plan.contains("matmul 2x3x8 · 8x6 (B constant)"), plan);
            assertTrue(plan.contains("softmax_log axis 2"), plan);
            assertTrue(plan.contains("Gemm as matmul 4x8 (Aᵀ)"), plan);
            assertTrue(plan.contains("softmax axis 1"), plan);
            assertTrue(plan.contains("as matmul"), plan);
            assertFalse(plan.contains("java "), plan);
            try (Result r = compiled.run(inputs, outs); Result e = java.run(inputs, outs)) {
                for (String o : outs) assertClose(e.get(o).toArray(), r.get(o).toArray(), o + " compiled vs Java");
            }
        }
    }
}
