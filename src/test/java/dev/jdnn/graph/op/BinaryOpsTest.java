package dev.jdnn.graph.op;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Attributes;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Add/Sub/Mul/Div, Max/Min/Sum/Mean, the comparisons, And/Or/Xor/Not, Mod and Where beyond ONNX's own
 * node tests (OnnxNodeConformanceTest with {@code -Djdnn.conformance.filter}): native broadcasting against
 * the Java reference on all three configurations (per-channel constants, the SE block's runtime
 * {@code [N,C,1,1]} scale, lower-rank and two-sided broadcasts, blocked layouts after a Conv), integer
 * wrap-around and truncation, NaN propagation, and the errors. Expected values are hand-computed
 * (numpy's results for the same inputs, given in the comments) where the Java reference is the subject.
 */
class BinaryOpsTest {
    static final List<Session.Options> CONFIGS = List.of(
            Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()),
            Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.all()),
            Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.none()));

    // ---- tiny models --------------------------------------------------------------------------------

    /** A graph under construction: inputs, initializers, nodes, outputs. */
    static final class G {
        final GraphProto.Builder g = GraphProto.newBuilder();
        final List<String> outputs = new ArrayList<>();

        G input(String name, DataType type, long... dims) {
            TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
            for (long d : dims) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            g.addInput(ValueInfoProto.newBuilder().setName(name)
                    .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type.onnxCode()).setShape(shape))));
            return this;
        }

        G constant(String name, float[] values, long... dims) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) b.putFloat(v);
            g.addInitializer(TensorProto.newBuilder().setName(name).setDataType(1).addAllDims(Arrays.stream(dims).boxed().toList())
                    .setRawData(ByteString.copyFrom(b.array())));
            return this;
        }

        G node(String op, List<String> in, String out, AttributeProto... attrs) {
            g.addNode(NodeProto.newBuilder().setOpType(op).setName(out).addAllInput(in).addOutput(out).addAllAttribute(List.of(attrs)));
            return this;
        }

        G output(String name) {
            g.addOutput(ValueInfoProto.newBuilder().setName(name));
            outputs.add(name);
            return this;
        }

        Path write(Path dir, int opset) throws IOException {
            ModelProto m = ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                    .setGraph(g).build();
            Path file = dir.resolve("model-" + System.nanoTime() + ".onnx");
            Files.write(file, m.toByteArray());
            return file;
        }
    }

    static float[] ramp(int n, float scale, float offset) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 37) % 23 - 11) * scale + offset;
        return v;
    }

    static float[] nonZero(int n, float offset) {
        float[] v = ramp(n, 0.25f, offset);
        for (int i = 0; i < n; i++) if (v[i] == 0) v[i] = 0.5f;
        return v;
    }

    /**
     * Runs the model on every configuration and checks each native one against Java (bit-exact: these
     * ops round once, the same way, everywhere; Sum/Mean within one rounding). Returns the compiled
     * plan's explain lines.
     */
    static List<String> checkAgainstJava(Path file, Map<String, Tensor> inputs, List<String> outputs, float tolerance) {
        Map<String, float[]> want = new HashMap<>();
        List<String> explain = null;
        Map<String, long[]> shapes = new LinkedHashMap<>();
        inputs.forEach((k, v) -> shapes.put(k, v.shape()));
        try (Model m = Model.load(file)) {
            for (Session.Options o : CONFIGS) {
                try (Session s = m.session(o); Result r = s.run(inputs, outputs)) {
                    if (o.backend() == Backend.NATIVE && o.optimizations().compile()) explain = s.explain(shapes, outputs);
                    for (String name : outputs) {
                        float[] got = r.get(name).toArray();
                        if (o.backend() == Backend.JAVA) {
                            want.put(name, got);
                            continue;
                        }
                        float[] w = want.get(name);
                        assertEquals(w.length, got.length, name);
                        for (int i = 0; i < w.length; i++) {
                            boolean same = Float.isNaN(w[i]) ? Float.isNaN(got[i]) : Math.abs(w[i] - got[i]) <= tolerance * Math.max(1, Math.abs(w[i]));
                            if (!same) fail(name + "[" + i + "] on " + o.optimizations() + ": Java " + w[i] + ", native " + got[i] + "\n" + explain);
                        }
                    }
                }
            }
        }
        if (Boolean.getBoolean("jdnn.test.explain")) System.out.println(String.join("\n", explain));
        return explain;
    }

    static void assertNative(List<String> explain, String node, String... contains) {
        String line = explain.stream().filter(l -> l.startsWith("native") && l.contains(" " + node + ": ")).findFirst()
                .orElseGet(() -> fail(node + " did not run natively:\n" + String.join("\n", explain)));
        for (String c : contains) assertTrue(line.contains(c), line + " should contain " + c);
    }

    // ---- native broadcasting vs Java ---------------------------------------------------------------

    /** Per-channel constants ({@code [1,C,1,1]}, {@code [C,1,1]}) on both sides of each op, after a Conv that may pick a blocked layout. */
    @Test
    void perChannelConstantsNativeMatchJava(@TempDir Path dir) throws IOException {
        int n = 2, c = 16, h = 5, w = 7;
        G g = new G().input("x", DataType.FLOAT, n, c, h, w)
                .constant("wconv", ramp(c * c, 0.05f, 0.01f), c, c, 1, 1)
                .constant("s", nonZero(c, 0.1f), 1, c, 1, 1)
                .constant("t", ramp(c, 0.5f, 0.25f), c, 1, 1)
                .constant("k", new float[] {2.5f}, 1)
                .node("Conv", List.of("x", "wconv"), "y")
                .node("Mul", List.of("y", "s"), "mul")
                .node("Add", List.of("t", "y"), "add")          // constant first, lower rank: swapped
                .node("Sub", List.of("s", "y"), "sub")          // constant first: -(y - s)
                .node("Sub", List.of("y", "t"), "sub2")
                .node("Div", List.of("y", "s"), "div")
                .node("Div", List.of("s", "x"), "rdiv")         // constant first: oneDNN broadcasts its first source
                .node("Div", List.of("y", "k"), "divk")         // scalar divisor: binary (x·(1/k) is not x/k)
                .node("Mul", List.of("k", "y"), "mulk");        // scalar: linear eltwise
        for (String o : List.of("mul", "add", "sub", "sub2", "div", "rdiv", "divk", "mulk")) g.output(o);
        try (Tensor x = Tensor.of(nonZero(n * c * h * w, 0.03f), n, c, h, w)) {
            // Conv output differs from Java's by rounding; the binary ops add none of their own.
            List<String> explain = checkAgainstJava(g.write(dir, 13), Map.of("x", x), g.outputs, 1e-5f);
            assertNative(explain, "mul", "(const)", "jit");
            assertNative(explain, "add", "16x1x1 (const)");
            assertNative(explain, "sub", "-(b - a)");
            assertNative(explain, "sub2");
            assertNative(explain, "div", "jit");
            assertNative(explain, "rdiv");
            assertNative(explain, "divk", "div 2x16x5x7 , 1 (const)");
            assertNative(explain, "mulk", "eltwise");
        }
    }

    /** Squeeze-and-excitation: {@code x · sigmoid(GlobalAveragePool(x))}, a runtime {@code [N,C,1,1]} scale times the runtime {@code [N,C,H,W]}, both orders. */
    @Test
    void seBlockScaleRuntimeTimesRuntime(@TempDir Path dir) throws IOException {
        int n = 2, c = 24, h = 6, w = 6;
        G g = new G().input("x", DataType.FLOAT, n, c, h, w)
                .constant("wconv", ramp(c * c * 9, 0.02f, 0.005f), c, c, 3, 3)
                .node("Conv", List.of("x", "wconv"), "y", AttributeProto.newBuilder().setName("pads").setType(AttributeProto.AttributeType.INTS)
                        .addAllInts(List.of(1L, 1L, 1L, 1L)).build())
                .node("GlobalAveragePool", List.of("y"), "pooled")
                .node("Sigmoid", List.of("pooled"), "scale")
                .node("Mul", List.of("y", "scale"), "se")
                .node("Mul", List.of("scale", "y"), "se2")
                .node("Sub", List.of("scale", "y"), "se3")
                .node("Div", List.of("y", "scale"), "se4")
                .output("se").output("se2").output("se3").output("se4");
        try (Tensor x = Tensor.of(ramp(n * c * h * w, 0.1f, 0.02f), n, c, h, w)) {
            List<String> explain = checkAgainstJava(g.write(dir, 13), Map.of("x", x), g.outputs, 1e-5f);
            assertNative(explain, "se", "2x24x1x1", "jit");
            assertNative(explain, "se2", "jit");
            assertNative(explain, "se3", "-(b - a)");
            assertNative(explain, "se4", "jit");
        }
    }

    /** Runtime operands of lower rank ({@code [4,5]} against {@code [2,3,4,5]}) and two-sided broadcasts ({@code [3,1] ⊙ [1,4]}). */
    @Test
    void lowerRankAndTwoSidedBroadcasts(@TempDir Path dir) throws IOException {
        G g = new G().input("a", DataType.FLOAT, 2, 3, 4, 5).input("b", DataType.FLOAT, 4, 5)
                .input("col", DataType.FLOAT, 3, 1).input("row", DataType.FLOAT, 1, 4)
                .node("Add", List.of("a", "b"), "ab")
                .node("Sub", List.of("b", "a"), "ba")
                .node("Div", List.of("b", "a"), "bdiva")
                .node("Mul", List.of("col", "row"), "outer")
                .node("Sub", List.of("col", "row"), "outerSub")
                .output("ab").output("ba").output("bdiva").output("outer").output("outerSub");
        try (Tensor a = Tensor.of(nonZero(120, 0.1f), 2, 3, 4, 5); Tensor b = Tensor.of(ramp(20, 0.3f, 0f), 4, 5);
             Tensor col = Tensor.of(new float[] {1, -2, 3.5f}, 3, 1); Tensor row = Tensor.of(new float[] {0.5f, 4, -1, 2}, 1, 4)) {
            List<String> explain = checkAgainstJava(g.write(dir, 14), Map.of("a", a, "b", b, "col", col, "row", row), g.outputs, 0f);
            assertNative(explain, "ab", "4x5");
            assertNative(explain, "ba", "-(b - a)");
            assertNative(explain, "outer");
        }
        // Hand-checked: outer[i][j] = col[i]·row[j].
        try (Model m = Model.load(g.write(dir, 14)); Session s = m.session(Session.Options.defaults());
             Tensor a = Tensor.of(new float[120], 2, 3, 4, 5); Tensor b = Tensor.of(new float[20], 4, 5);
             Tensor col = Tensor.of(new float[] {1, -2, 3.5f}, 3, 1); Tensor row = Tensor.of(new float[] {0.5f, 4, -1, 2}, 1, 4);
             Result r = s.run(Map.of("a", a, "b", b, "col", col, "row", row), List.of("outer"))) {
            assertArrayEquals(new long[] {3, 4}, r.get("outer").shape());
            assertArrayEquals(new float[] {0.5f, 4, -1, 2, -1, -8, 2, -4, 1.75f, 14, -3.5f, 7}, r.get("outer").toArray());
        }
    }

    /** Sum/Mean of three broadcast inputs (runtime and constant) natively; Max/Min with constants natively, runtime pairs in Java. */
    @Test
    void variadicNativeMatchesJava(@TempDir Path dir) throws IOException {
        G g = new G().input("a", DataType.FLOAT, 2, 8, 3, 3).input("b", DataType.FLOAT, 2, 8, 1, 1)
                .constant("c", ramp(8, 0.5f, 0f), 8, 1, 1).constant("lo", new float[] {-0.5f}, 1).constant("hi", new float[] {0.75f}, 1)
                .node("Sum", List.of("b", "a", "c"), "sum")
                .node("Mean", List.of("a", "b", "c"), "mean")
                .node("Max", List.of("a", "lo"), "relu6ish")
                .node("Min", List.of("hi", "a", "c"), "min")
                .node("Max", List.of("a", "b"), "maxab")
                .output("sum").output("mean").output("relu6ish").output("min").output("maxab");
        try (Tensor a = Tensor.of(ramp(144, 0.1f, 0f), 2, 8, 3, 3); Tensor b = Tensor.of(ramp(16, 0.2f, 0.05f), 2, 8, 1, 1)) {
            List<String> explain = checkAgainstJava(g.write(dir, 13), Map.of("a", a, "b", b), g.outputs, 1e-6f);
            assertNative(explain, "sum", "jit");
            assertNative(explain, "mean");
            assertNative(explain, "relu6ish", "constant first");
            assertNative(explain, "min", "constant first");
            assertTrue(explain.stream().anyMatch(l -> l.startsWith("java") && l.contains("maxab")), String.join("\n", explain));
        }
    }

    /** Max/Min propagate a NaN from any input (numpy's maximum/minimum, ONNX Runtime), on every configuration. */
    @Test
    void maxMinPropagateNaN(@TempDir Path dir) throws IOException {
        float nan = Float.NaN;
        G g = new G().input("a", DataType.FLOAT, 4).input("b", DataType.FLOAT, 4).constant("k", new float[] {0f}, 1)
                .node("Max", List.of("a", "b"), "max").node("Min", List.of("a", "b"), "min")
                .node("Max", List.of("a", "k"), "maxk").node("Min", List.of("k", "b"), "mink")
                .output("max").output("min").output("maxk").output("mink");
        Path file = g.write(dir, 13);
        try (Model m = Model.load(file); Tensor a = Tensor.of(new float[] {nan, 1, nan, -2}, 4); Tensor b = Tensor.of(new float[] {1, nan, nan, 3}, 4)) {
            for (Session.Options o : CONFIGS) {
                try (Session s = m.session(o); Result r = s.run(Map.of("a", a, "b", b), g.outputs)) {
                    assertArrayEquals(new float[] {nan, nan, nan, 3}, r.get("max").toArray(), o.toString());
                    assertArrayEquals(new float[] {nan, nan, nan, -2}, r.get("min").toArray(), o.toString());
                    assertArrayEquals(new float[] {nan, 1, nan, 0}, r.get("maxk").toArray(), o.toString());
                    assertArrayEquals(new float[] {0, nan, nan, 0}, r.get("mink").toArray(), o.toString());
                }
            }
        }
    }

    // ---- typed semantics, Java reference (op level) --------------------------------------------------

    static Value longs(DataType t, long[] shape, long... v) {
        return new Value.Longs(t, shape, v);
    }

    static Value floats(long[] shape, float... v) {
        return new Value.Floats(Tensor.of(v, shape));
    }

    static Node node(String op, Map<String, Object> attrs, int inputs) {
        List<String> in = new ArrayList<>();
        for (int i = 0; i < inputs; i++) in.add("i" + i);
        return new Node("n", op, in, List.of("y"), new Attributes(attrs));
    }

    static Op.Step prepare(String op, int opset, Map<String, Object> attrs, Value... in) {
        Node node = node(op, attrs, in.length);
        List<Value> values = Arrays.asList(in);
        // Shapes and types only (no constants), as for runtime inputs.
        List<Value> none = new ArrayList<>();
        for (int i = 0; i < in.length; i++) none.add(null);
        Inputs inputs = new Inputs(values.stream().map(Value::shape).toList(), values.stream().map(Value::type).toList(), none);
        return Registry.get(op, opset).prepare(node, inputs, new Op.Context(Backend.JAVA, opset));
    }

    static Value run(String op, int opset, Map<String, Object> attrs, Value... in) {
        Op.Step s = prepare(op, opset, attrs, in);
        Value v = s.run(Arrays.asList(in)).get(0);
        assertEquals(s.outputTypes().get(0), v.type(), "declared vs produced type");
        assertArrayEquals(s.outputShapes().get(0), v.shape(), "declared vs produced shape");
        return v;
    }

    static long[] data(Value v) {
        return ((Value.Longs) v).data();
    }

    static final long[] S4 = {4};

    @Test
    void integerArithmeticWrapsAndTruncates() {
        // uint8: 200 + 100 = 300 → 44; 5 − 10 → 251; 16 · 20 = 320 → 64; 7 / 2 = 3 (numpy with uint8 arrays).
        assertArrayEquals(new long[] {44, 251, 64, 3}, new long[] {
                data(run("Add", 14, Map.of(), longs(DataType.UINT8, new long[] {1}, 200), longs(DataType.UINT8, new long[] {1}, 100)))[0],
                data(run("Sub", 14, Map.of(), longs(DataType.UINT8, new long[] {1}, 5), longs(DataType.UINT8, new long[] {1}, 10)))[0],
                data(run("Mul", 14, Map.of(), longs(DataType.UINT8, new long[] {1}, 16), longs(DataType.UINT8, new long[] {1}, 20)))[0],
                data(run("Div", 14, Map.of(), longs(DataType.UINT8, new long[] {1}, 7), longs(DataType.UINT8, new long[] {1}, 2)))[0]});
        // int8: 100 + 100 → −56; −128 / −1 → −128 (wraps); −7 / 2 → −3 (truncation, as C and ONNX Runtime).
        Value a = longs(DataType.INT8, S4, 100, -128, -7, 7), b = longs(DataType.INT8, S4, 100, -1, 2, -2);
        assertArrayEquals(new long[] {-56, 127, -5, 5}, data(run("Add", 14, Map.of(), a, b)));
        assertArrayEquals(new long[] {1, -128, -3, -3}, data(run("Div", 14, Map.of(), a, b)));
        // int32 multiplication wraps at 32 bits: 65536 · 65536 = 2^32 → 0; 2^31 − 1 + 1 → −2^31.
        Value c = longs(DataType.INT32, new long[] {2}, 65536, Integer.MAX_VALUE), d = longs(DataType.INT32, new long[] {2}, 65536, 1);
        assertArrayEquals(new long[] {0, Integer.MAX_VALUE}, data(run("Mul", 14, Map.of(), c, d)));
        assertArrayEquals(new long[] {65536 * 2, Integer.MIN_VALUE}, data(run("Add", 14, Map.of(), c, d)));
        Value sum = run("Add", 14, Map.of(), c, d);
        assertEquals(DataType.INT32, sum.type());
        // int64 broadcasting [2,1] + [3].
        Value e = run("Add", 14, Map.of(), longs(DataType.INT64, new long[] {2, 1}, 10, 20), longs(DataType.INT64, new long[] {3}, 1, 2, 3));
        assertArrayEquals(new long[] {2, 3}, e.shape());
        assertArrayEquals(new long[] {11, 12, 13, 21, 22, 23}, data(e));
    }

    @Test
    void integerDivisionByZeroIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> run("Div", 14, Map.of(), longs(DataType.INT64, S4, 1, 2, 3, 4), longs(DataType.INT64, S4, 1, 1, 0, 1)));
        assertTrue(e.getMessage().contains("Div node n") && e.getMessage().contains("division by zero"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> run("Mod", 13, Map.of(), longs(DataType.INT32, S4, 1, 2, 3, 4), longs(DataType.INT32, new long[] {1}, 0)));
        assertTrue(e.getMessage().contains("Mod node n") && e.getMessage().contains("by zero"), e.getMessage());
        // Float division by zero is IEEE: ±inf, NaN.
        Value f = run("Div", 14, Map.of(), floats(new long[] {3}, 1, -1, 0), floats(new long[] {1}, 0));
        assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}, ((Value.Floats) f).tensor().toArray());
    }

    @Test
    void modSignConventions() {
        Value a = longs(DataType.INT64, new long[] {6}, -4, 7, 5, 4, -7, 8), b = longs(DataType.INT64, new long[] {6}, 3, -3, 2, -3, 3, 4);
        // numpy.mod (fmod=0): the divisor's sign.
        assertArrayEquals(new long[] {2, -2, 1, -2, 2, 0}, data(run("Mod", 13, Map.of(), a, b)));
        // numpy.fmod (fmod=1): the dividend's sign.
        assertArrayEquals(new long[] {-1, 1, 1, 1, -1, 0}, data(run("Mod", 13, Map.of("fmod", 1L), a, b)));
        // uint8 and int8 keep their types.
        Value u = run("Mod", 13, Map.of(), longs(DataType.UINT8, new long[] {3}, 255, 7, 3), longs(DataType.UINT8, new long[] {1}, 4));
        assertEquals(DataType.UINT8, u.type());
        assertArrayEquals(new long[] {3, 3, 3}, data(u));
        assertArrayEquals(new long[] {-2, -2}, data(run("Mod", 13, Map.of(), longs(DataType.INT8, new long[] {2}, -128, 127), longs(DataType.INT8, new long[] {1}, -3))));
        // float fmod: −4.5 fmod 2 = −0.5, 5.25 fmod −2 = 1.25.
        Value f = run("Mod", 13, Map.of("fmod", 1L), floats(new long[] {2}, -4.5f, 5.25f), floats(new long[] {2}, 2, -2));
        assertArrayEquals(new float[] {-0.5f, 1.25f}, ((Value.Floats) f).tensor().toArray());
    }

    @Test
    void comparisonsLogicalAndWhereAreTyped() {
        Value a = longs(DataType.UINT8, S4, 0, 200, 5, 255), b = longs(DataType.UINT8, new long[] {1}, 200);
        Value less = run("Less", 13, Map.of(), a, b);
        assertEquals(DataType.BOOL, less.type());
        assertArrayEquals(new long[] {1, 0, 1, 0}, data(less));
        assertArrayEquals(new long[] {0, 1, 0, 0}, data(run("Equal", 13, Map.of(), a, b)));
        assertArrayEquals(new long[] {0, 1, 0, 1}, data(run("GreaterOrEqual", 16, Map.of(), a, b)));
        // NaN compares false, even with itself; bool Equal.
        Value nan = floats(new long[] {2}, Float.NaN, 1);
        assertArrayEquals(new long[] {0, 1}, data(run("Equal", 13, Map.of(), nan, nan)));
        assertArrayEquals(new long[] {0, 1}, data(run("Greater", 13, Map.of(), nan, floats(new long[] {1}, 0))));
        Value p = longs(DataType.BOOL, S4, 0, 0, 1, 1), q = longs(DataType.BOOL, S4, 0, 1, 0, 1);
        assertArrayEquals(new long[] {1, 0, 0, 1}, data(run("Equal", 13, Map.of(), p, q)));
        assertArrayEquals(new long[] {0, 0, 0, 1}, data(run("And", 7, Map.of(), p, q)));
        assertArrayEquals(new long[] {0, 1, 1, 1}, data(run("Or", 7, Map.of(), p, q)));
        assertArrayEquals(new long[] {0, 1, 1, 0}, data(run("Xor", 7, Map.of(), p, q)));
        assertArrayEquals(new long[] {1, 1, 0, 0}, data(run("Not", 7, Map.of(), p)));
        // Where: [2,1] bool, [] int8, [3] int8 → [2,3] int8.
        Value w = run("Where", 16, Map.of(), longs(DataType.BOOL, new long[] {2, 1}, 1, 0), longs(DataType.INT8, new long[0], -5),
                longs(DataType.INT8, new long[] {3}, 1, 2, 3));
        assertEquals(DataType.INT8, w.type());
        assertArrayEquals(new long[] {-5, -5, -5, 1, 2, 3}, data(w));
        Value wf = run("Where", 9, Map.of(), longs(DataType.BOOL, new long[] {1, 2}, 1, 0), floats(new long[] {2, 1}, 1, 2), floats(new long[0], Float.NEGATIVE_INFINITY));
        assertArrayEquals(new float[] {1, Float.NEGATIVE_INFINITY, 2, Float.NEGATIVE_INFINITY}, ((Value.Floats) wf).tensor().toArray());
        // Integer Max/Min, three inputs broadcast.
        Value mx = run("Max", 13, Map.of(), longs(DataType.INT32, S4, -1, 5, 3, 0), longs(DataType.INT32, new long[] {1}, 2), longs(DataType.INT32, S4, 0, 0, 9, 0));
        assertArrayEquals(new long[] {2, 5, 9, 2}, data(mx));
    }

    // ---- errors -------------------------------------------------------------------------------------

    static String error(String op, int opset, Map<String, Object> attrs, Value... in) {
        return assertThrows(IllegalArgumentException.class, () -> prepare(op, opset, attrs, in)).getMessage();
    }

    @Test
    void clearErrors() {
        String m = error("Add", 14, Map.of(), floats(new long[] {2, 3}, new float[6]), floats(new long[] {4}, new float[4]));
        assertTrue(m.startsWith("Add node n") && m.contains("[2, 3], [4] cannot be broadcast"), m);
        m = error("Sum", 13, Map.of(), floats(new long[] {3}, new float[3]), floats(new long[] {3, 1}, new float[3]), floats(new long[] {2}, new float[2]));
        assertTrue(m.contains("[3], [3, 1], [2] cannot be broadcast"), m);
        m = error("Max", 7, Map.of(), floats(new long[] {3}, new float[3]), floats(new long[] {1}, 0));
        assertTrue(m.contains("same shape before opset 8"), m);
        m = error("Mul", 14, Map.of(), floats(new long[] {1}, 0), longs(DataType.INT64, new long[] {1}, 0));
        assertTrue(m.contains("same element type") && m.contains("float") && m.contains("int64"), m);
        m = error("Mod", 13, Map.of("fmod", 2L), longs(DataType.INT64, new long[] {1}, 0), longs(DataType.INT64, new long[] {1}, 1));
        assertTrue(m.contains("fmod must be 0 or 1, got 2"), m);
        m = error("Mod", 13, Map.of(), floats(new long[] {1}, 0), floats(new long[] {1}, 1));
        assertTrue(m.contains("fmod must be 1 for float inputs, got 0"), m);
        m = error("Where", 16, Map.of(), floats(new long[] {1}, 0), floats(new long[] {1}, 0), floats(new long[] {1}, 0));
        assertTrue(m.contains("condition must be bool, got float"), m);
        m = error("And", 7, Map.of(), longs(DataType.INT64, new long[] {1}, 0), longs(DataType.BOOL, new long[] {1}, 0));
        assertTrue(m.contains("must be bool, got int64"), m);
        m = error("Less", 13, Map.of(), longs(DataType.BOOL, new long[] {1}, 0), longs(DataType.BOOL, new long[] {1}, 0));
        assertTrue(m.contains("numeric tensors, not bool"), m);
        m = error("Mean", 13, Map.of(), longs(DataType.INT32, new long[] {1}, 0));
        assertTrue(m.contains("takes float tensors") && m.contains("int32"), m);
    }

    /** Non-broadcastable runtime shapes are refused when the session prepares, naming the node. */
    @Test
    void nonBroadcastableModelIsRefusedOnEveryConfiguration(@TempDir Path dir) throws IOException {
        G g = new G().input("a", DataType.FLOAT, 2, 3).input("b", DataType.FLOAT, 2).node("Mul", List.of("a", "b"), "prod").output("prod");
        Path file = g.write(dir, 14);
        try (Model m = Model.load(file); Tensor a = Tensor.of(new float[6], 2, 3); Tensor b = Tensor.of(new float[2], 2)) {
            for (Session.Options o : CONFIGS) {
                try (Session s = m.session(o)) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("a", a, "b", b), List.of("prod")).close());
                    assertTrue(e.getMessage().contains("prod") && e.getMessage().contains("[2, 3], [2] cannot be broadcast"), e.getMessage());
                }
            }
        }
    }
}
