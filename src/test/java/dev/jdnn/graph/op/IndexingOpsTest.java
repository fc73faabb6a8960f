package dev.jdnn.graph.op;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Value;
import dev.jdnn.onnx.OnnxNodeTests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

/**
 * GatherElements, GatherND, ScatterElements (and Scatter), ScatterND, Gather, DepthToSpace,
 * SpaceToDepth, Einsum, Hardmax, Trilu: ONNX's node tests on the three configurations (counted per op
 * and printed), then hand-computed cases for what those tests do not reach (int32 and runtime indices,
 * the opset-18 reductions, ellipses, the pre-13 Hardmax) and the errors for bad attributes and indices.
 */
class IndexingOpsTest {
    static final Path NODE_TESTS = OnnxNodeTests.NODE_TESTS;
    static final Pattern OPS = Pattern.compile(
            "test_(gather|scatter|depthtospace|spacetodepth|einsum|logsoftmax|softmax|hardmax|matmul|gemm|tril|triu).*");
    private static final Map<String, int[]> COUNTS = new TreeMap<>(); // op -> {passed, skipped, failed}

    // ---- ONNX conformance, through the shared node-test runner (OnnxNodeTests) --------------------------------

    @TestFactory
    Stream<DynamicTest> onnxNodeTests() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(NODE_TESTS), NODE_TESTS + " is absent: install Debian's libonnx-testdata");
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(NODE_TESTS).sorted()) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                String name = dir.getFileName().toString();
                if (!OPS.matcher(name).matches() || name.endsWith("_expanded") || name.startsWith("test_matmulinteger")) continue;
                String op = name.replaceFirst("^test_", "").replaceFirst("^(gather_elements|scatter_elements|gathernd|scatternd|tril|triu|[a-z]+).*", "$1");
                record Config(String label, Backend backend, Optimizations optimizations) {}
                for (Config c : List.of(new Config("NATIVE compiled", Backend.NATIVE, Optimizations.all()),
                        new Config("NATIVE node by node", Backend.NATIVE, Optimizations.none()),
                        new Config("JAVA", Backend.JAVA, Optimizations.none()))) {
                    tests.add(DynamicTest.dynamicTest(name + " on " + c.label(), () -> {
                        int[] n = COUNTS.computeIfAbsent(op, k -> new int[3]);
                        try {
                            OnnxNodeTests.runCase(dir, c.backend(), c.optimizations());
                            n[0]++;
                        } catch (TestAbortedException e) {
                            n[1]++;
                            throw e;
                        } catch (IOException | RuntimeException | AssertionError e) {
                            n[2]++;
                            throw e;
                        }
                    }));
                }
            }
        }
        return tests.stream();
    }

    @AfterAll
    static void printCounts() {
        if (COUNTS.isEmpty()) return;
        StringBuilder s = new StringBuilder("ONNX node tests per op (passed/skipped/failed, over three configurations):\n");
        COUNTS.forEach((op, n) -> s.append(String.format("  %-16s %3d / %3d / %3d%n", op, n[0], n[1], n[2])));
        System.out.print(s);
    }

    // ---- helpers shared with SoftmaxMatMulTest ------------------------------------------------------

    static Node node(String op, int inputs, Object... attributes) {
        Map<String, Object> a = new HashMap<>();
        for (int i = 0; i < attributes.length; i += 2) {
            Object v = attributes[i + 1];
            a.put((String) attributes[i], v instanceof Integer n ? (Object) (long) n : v instanceof Double d ? (Object) (float) (double) d : v);
        }
        List<String> in = new ArrayList<>();
        for (int i = 0; i < inputs; i++) in.add("in" + i);
        return new Node("n", op, in, List.of("out"), new Attributes(a));
    }

    /**
     * Prepares {@code node} at {@code opset} on {@code backend} with the inputs known only at run time
     * ({@code constant[i]}: input i is known at prepare instead), runs it, and returns the output.
     */
    static Value run(Node node, int opset, Backend backend, boolean[] constant, Value... inputs) {
        Op op = Registry.get(node.opType(), opset);
        assertNotNull(op, node.opType() + " at opset " + opset);
        List<long[]> shapes = new ArrayList<>();
        List<DataType> types = new ArrayList<>();
        List<Value> constants = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++) {
            shapes.add(inputs[i] == null ? null : inputs[i].shape());
            types.add(inputs[i] == null ? null : inputs[i].type());
            constants.add(constant != null && constant[i] ? inputs[i] : null);
        }
        try (Op.Step step = op.prepare(node, new Inputs(shapes, types, constants), new Op.Context(backend, opset))) {
            Value v = step.run(Arrays.asList(inputs)).get(0);
            assertArrayEquals(step.outputShapes().get(0), v.shape(), "inferred shape");
            assertEquals(step.outputTypes().get(0), v.type(), "inferred type");
            return v;
        }
    }

    static Value run(Node node, int opset, Value... inputs) {
        return run(node, opset, Backend.JAVA, null, inputs);
    }

    static Value f(float[] data, long... shape) {
        return new Value.Floats(Tensor.of(data, shape));
    }

    static Value l(DataType type, long[] data, long... shape) {
        return new Value.Longs(type, shape, data);
    }

    static Value i64(long[] data, long... shape) {
        return l(DataType.INT64, data, shape);
    }

    static Value i32(long[] data, long... shape) {
        return l(DataType.INT32, data, shape);
    }

    static float[] floats(Value v) {
        return ((Value.Floats) v).tensor().toArray();
    }

    static long[] longs(Value v) {
        return ((Value.Longs) v).view();
    }

    static float[] iota(int n, float scale, float offset) {
        float[] r = new float[n];
        for (int i = 0; i < n; i++) r[i] = i * scale + offset;
        return r;
    }

    static void assertError(String fragment, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should contain '" + fragment + "'");
    }

    // ---- GatherElements, Gather, GatherND ----------------------------------------------------------

    @Test
    void gatherElementsWithRuntimeInt32IndicesAndNegatives() {
        Value data = f(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Value idx = i32(new long[] {-1, 0, 1, 1, 2, 0}, 2, 3);
        // axis 1: out[i][j] = data[i][idx[i][j]]
        assertArrayEquals(new float[] {3, 1, 2, 5, 6, 4}, floats(run(node("GatherElements", 2, "axis", 1), 13, data, idx)));
        // axis 0 with fewer rows than data: out[i][j] = data[idx[i][j]][j]
        Value idx0 = i64(new long[] {1, -2, 1}, 1, 3);
        assertArrayEquals(new float[] {4, 2, 6}, floats(run(node("GatherElements", 2, "axis", 0), 13, Backend.JAVA, new boolean[] {false, true}, data, idx0)));
        // int64 data keeps its type
        Value ints = i64(new long[] {10, 20, 30, 40}, 2, 2);
        Value r = run(node("GatherElements", 2, "axis", -1), 11, ints, i64(new long[] {1, 1, 0, 1}, 2, 2));
        assertEquals(DataType.INT64, r.type());
        assertArrayEquals(new long[] {20, 20, 30, 40}, longs(r));
        assertError("index 3 is out of range for axis 1 of size 3",
                () -> run(node("GatherElements", 2, "axis", 1), 13, data, i64(new long[] {0, 3, 0, 0, 0, 0}, 2, 3)));
        assertError("axis 2 is out of range", () -> run(node("GatherElements", 2, "axis", 2), 13, data, idx));
        assertError("indices must be int32 or int64", () -> run(node("GatherElements", 2), 13, data, data));
    }

    @Test
    void gatherWithRuntimeIndicesOnAnyAxisAndType() {
        Value data = f(iota(24, 1, 0), 2, 3, 4);
        Value idx = i32(new long[] {3, -4, 1}, 3);
        float[] want = new float[2 * 3 * 3];
        for (int a = 0; a < 2; a++) for (int b = 0; b < 3; b++) for (int j = 0; j < 3; j++) want[(a * 3 + b) * 3 + j] = a * 12 + b * 4 + new int[] {3, 0, 1}[j];
        assertArrayEquals(want, floats(run(node("Gather", 2, "axis", 2), 13, data, idx)));
        assertArrayEquals(want, floats(run(node("Gather", 2, "axis", 2), 13, Backend.JAVA, new boolean[] {false, true}, data, idx)));
        Value bytes = l(DataType.UINT8, new long[] {1, 2, 3, 200}, 4);
        Value r = run(node("Gather", 2), 13, bytes, i64(new long[] {3, 0, 3, 3}, 2, 2));
        assertEquals(DataType.UINT8, r.type());
        assertArrayEquals(new long[] {200, 1, 200, 200}, longs(r));
        assertArrayEquals(new long[] {2, 2}, r.shape());
        assertError("index -5 is out of range for axis 0 of size 4", () -> run(node("Gather", 2), 13, bytes, i64(new long[] {-5}, 1)));
    }

    @Test
    void gatherNDWithBatchDims() {
        // data 2×2×2, batch_dims 1, indices 2×1×1 (k = 1): out[b][0] = data[b][idx[b][0][0]]
        Value data = f(iota(8, 1, 0), 2, 2, 2);
        Value r = run(node("GatherND", 2, "batch_dims", 1), 13, data, i32(new long[] {1, -2}, 2, 1, 1));
        assertArrayEquals(new long[] {2, 1, 2}, r.shape());
        assertArrayEquals(new float[] {2, 3, 4, 5}, floats(r));
        // k = rank: scalars picked out
        Value s = run(node("GatherND", 2), 11, data, i64(new long[] {1, 1, 1, 0, 0, 1}, 2, 3));
        assertArrayEquals(new float[] {7, 1}, floats(s));
        assertError("batch_dims is not valid before opset 12", () -> run(node("GatherND", 2, "batch_dims", 1), 11, data, i64(new long[] {0, 0}, 2, 1)));
        assertError("indices' last dimension 4 must be 1..3", () -> run(node("GatherND", 2), 13, data, i64(new long[] {0, 0, 0, 0}, 1, 4)));
    }

    // ---- ScatterElements, ScatterND ----------------------------------------------------------------

    @Test
    void scatterElementsReductionsPerOpset() {
        Value data = f(new float[] {1, 2, 3, 4, 5}, 1, 5);
        Value idx = i64(new long[] {1, 3, -4}, 1, 3);   // -4 → 1: a duplicate
        Value upd = f(new float[] {10, 20, 30}, 1, 3);
        assertArrayEquals(new float[] {1, 30, 3, 20, 5}, floats(run(node("ScatterElements", 3, "axis", 1), 11, data, idx, upd)), "none: last wins");
        assertArrayEquals(new float[] {1, 42, 3, 24, 5}, floats(run(node("ScatterElements", 3, "axis", 1, "reduction", "add"), 16, data, idx, upd)));
        assertArrayEquals(new float[] {1, 600, 3, 80, 5}, floats(run(node("ScatterElements", 3, "axis", 1, "reduction", "mul"), 16, data, idx, upd)));
        assertArrayEquals(new float[] {1, 30, 3, 20, 5}, floats(run(node("ScatterElements", 3, "axis", 1, "reduction", "max"), 18, data, idx, upd)));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5}, floats(run(node("ScatterElements", 3, "axis", 1, "reduction", "min"), 18, data, idx, upd)));
        assertArrayEquals(new float[] {1, 30, 3, 20, 5}, floats(run(node("Scatter", 3, "axis", 1), 10, data, idx, upd)), "deprecated Scatter");
        // int32 data and runtime int32 indices
        Value ints = i32(new long[] {1, 2, 3, 4}, 2, 2);
        Value r = run(node("ScatterElements", 3, "reduction", "add"), 16, Backend.JAVA, new boolean[] {true, false, true},
                ints, i32(new long[] {1, 0}, 1, 2), i32(new long[] {100, 200}, 1, 2));
        assertArrayEquals(new long[] {1, 202, 103, 4}, longs(r));
        assertEquals(DataType.INT32, r.type());
        assertError("reduction='max' is not valid at opset 16", () -> run(node("ScatterElements", 3, "reduction", "max"), 16, data, idx, upd));
        assertError("reduction='add' is not valid at opset 13", () -> run(node("ScatterElements", 3, "reduction", "add"), 13, data, idx, upd));
        assertError("index 5 is out of range for axis 1 of size 5", () -> run(node("ScatterElements", 3, "axis", 1), 13, data, i64(new long[] {0, 5, 0}, 1, 3), upd));
        assertError("updates must have the data's type", () -> run(node("ScatterElements", 3, "axis", 1), 13, data, idx, i64(new long[] {1, 2, 3}, 1, 3)));
    }

    @Test
    void scatterNDSlicesAndReductions() {
        Value data = f(iota(8, 1, 0), 4, 2);
        Value idx = i64(new long[] {3, -4, 3}, 3, 1);  // rows 3, 0, 3
        Value upd = f(new float[] {10, 11, 20, 21, 30, 31}, 3, 2);
        assertArrayEquals(new float[] {20, 21, 2, 3, 4, 5, 30, 31}, floats(run(node("ScatterND", 3), 13, data, idx, upd)));
        assertArrayEquals(new float[] {20, 22, 2, 3, 4, 5, 46, 49}, floats(run(node("ScatterND", 3, "reduction", "add"), 16, data, idx, upd)));
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 6, 7}, floats(run(node("ScatterND", 3, "reduction", "min"), 18, data, idx, upd)));
        assertError("updates [2, 2] must have shape [3, 2]", () -> run(node("ScatterND", 3), 13, data, idx, f(new float[4], 2, 2)));
    }

    // ---- DepthToSpace, SpaceToDepth ----------------------------------------------------------------

    @Test
    void depthToSpaceModesAndSpaceToDepthRoundTrip() {
        // 1×8×1×1, blocksize 2 → 1×2×2×2. DCR: out[c][i][j] = in[(i·2+j)·2 + c]; CRD: in[c·4 + i·2 + j].
        Value x = f(iota(8, 1, 0), 1, 8, 1, 1);
        assertArrayEquals(new float[] {0, 2, 4, 6, 1, 3, 5, 7}, floats(run(node("DepthToSpace", 1, "blocksize", 2), 13, x)));
        assertArrayEquals(iota(8, 1, 0), floats(run(node("DepthToSpace", 1, "blocksize", 2, "mode", "CRD"), 13, x)));
        Value y = f(iota(2 * 12 * 2 * 3, 0.5f, -3), 2, 12, 2, 3);
        Value space = run(node("DepthToSpace", 1, "blocksize", 2), 11, y);
        assertArrayEquals(new long[] {2, 3, 4, 6}, space.shape());
        assertArrayEquals(floats(y), floats(run(node("SpaceToDepth", 1, "blocksize", 2), 13, space)), "SpaceToDepth inverts DCR DepthToSpace");
        Value ints = run(node("DepthToSpace", 1, "blocksize", 2, "mode", "CRD"), 13, i64(new long[] {1, 2, 3, 4}, 1, 4, 1, 1));
        assertArrayEquals(new long[] {1, 2, 3, 4}, longs(ints));
        assertError("channels 12 are not divisible by blocksize² = 16", () -> run(node("DepthToSpace", 1, "blocksize", 4), 13, y));
        assertError("mode='XYZ' must be DCR or CRD", () -> run(node("DepthToSpace", 1, "blocksize", 2, "mode", "XYZ"), 13, y));
        assertError("blocksize is required", () -> run(node("SpaceToDepth", 1), 13, y));
        assertError("spatial size 2×3 is not divisible by blocksize 2", () -> run(node("SpaceToDepth", 1, "blocksize", 2), 13, y));
    }

    // ---- Einsum ------------------------------------------------------------------------------------

    @Test
    void einsumCasesAgainstHandLoops() {
        Value a = f(iota(2 * 3 * 4, 0.25f, -1), 2, 3, 4);
        Value b = f(iota(2 * 4 * 5, -0.5f, 2), 2, 4, 5);
        float[] want = new float[2 * 3 * 5];
        float[] x = floats(a), y = floats(b);
        for (int bb = 0; bb < 2; bb++) for (int i = 0; i < 3; i++) for (int k = 0; k < 5; k++) {
            double s = 0;
            for (int j = 0; j < 4; j++) s += x[(bb * 3 + i) * 4 + j] * y[(bb * 4 + j) * 5 + k];
            want[(bb * 3 + i) * 5 + k] = (float) s;
        }
        assertArrayEquals(want, floats(run(node("Einsum", 2, "equation", "bij,bjk->bik"), 12, a, b)), 1e-5f);
        assertArrayEquals(want, floats(run(node("Einsum", 2, "equation", "...ij,...jk->...ik"), 12, a, b)), 1e-5f, "ellipsis");
        Value a0 = f(Arrays.copyOf(x, 12), 3, 4), b0 = f(Arrays.copyOf(y, 20), 4, 5);
        assertArrayEquals(Arrays.copyOf(want, 15), floats(run(node("Einsum", 2, "equation", "ij, jk"), 12, a0, b0)), 1e-5f, "implicit output, spaces");
        // transpose, diagonal, trace, sum
        Value m = f(iota(9, 1, 0), 3, 3);
        assertArrayEquals(new float[] {0, 3, 6, 1, 4, 7, 2, 5, 8}, floats(run(node("Einsum", 1, "equation", "ij->ji"), 12, m)));
        assertArrayEquals(new float[] {0, 4, 8}, floats(run(node("Einsum", 1, "equation", "ii->i"), 12, m)));
        assertArrayEquals(new float[] {12}, floats(run(node("Einsum", 1, "equation", "ii"), 12, m)));
        assertArrayEquals(new float[] {9, 12, 15}, floats(run(node("Einsum", 1, "equation", "ij->j"), 12, m)));
        // ellipsis broadcasting a size-1 batch, and int64
        Value p = i64(new long[] {1, 2, 3, 4}, 1, 2, 2);
        Value q = i64(new long[] {1, 0, 0, 1, 2, 0, 0, 2}, 2, 2, 2);
        Value r = run(node("Einsum", 2, "equation", "...ij,...jk->...ik"), 12, p, q);
        assertArrayEquals(new long[] {2, 2, 2}, r.shape());
        assertArrayEquals(new long[] {1, 2, 3, 4, 2, 4, 6, 8}, longs(r));
        assertError("has sizes 4 and 5", () -> run(node("Einsum", 2, "equation", "ij,ij->i"), 12, f(new float[8], 2, 4), f(new float[10], 2, 5)));
        assertError("does not match its shape", () -> run(node("Einsum", 1, "equation", "ij->i"), 12, a));
        assertError("labels are letters", () -> run(node("Einsum", 1, "equation", "i1->i"), 12, m));
        assertError("equation is required", () -> run(node("Einsum", 1), 12, m));
    }

    /** A float64 TensorProto (raw or double_data) read as float32. */
    static Value doubleAsFloat(Path pb) throws java.io.IOException {
        try (java.io.InputStream in = Files.newInputStream(pb)) {
            dev.jdnn.onnx.proto.OnnxProto.TensorProto t = dev.jdnn.onnx.proto.OnnxProto.TensorProto.parseFrom(in);
            assertEquals(11, t.getDataType(), pb + " is float64");
            long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
            float[] v = new float[(int) Tensor.elementCount(dims)];
            java.nio.ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < v.length; i++) v[i] = (float) (t.getRawData().isEmpty() ? t.getDoubleData(i) : raw.getDouble(i * 8));
            return f(v, dims);
        }
    }

    /**
     * ONNX's Einsum node tests are float64, which jdnn does not hold (the conformance run skips them):
     * their data, rounded to float32, must give their expected outputs to float32 precision, on Java and
     * node by node on NATIVE.
     */
    @TestFactory
    Stream<DynamicTest> einsumNodeTestsInFloat32() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(NODE_TESTS), NODE_TESTS + " is absent");
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(NODE_TESTS).sorted()) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                if (!dir.getFileName().toString().startsWith("test_einsum_")) continue;
                for (Backend backend : Backend.values()) {
                    tests.add(DynamicTest.dynamicTest(dir.getFileName() + " in float32 on " + backend, () -> {
                        dev.jdnn.onnx.proto.OnnxProto.NodeProto n;
                        try (java.io.InputStream in = Files.newInputStream(dir.resolve("model.onnx"))) {
                            n = dev.jdnn.onnx.proto.OnnxProto.ModelProto.parseFrom(in).getGraph().getNode(0);
                        }
                        String equation = n.getAttributeList().stream().filter(a -> a.getName().equals("equation")).findFirst().orElseThrow().getS().toStringUtf8();
                        Value[] inputs = new Value[n.getInputCount()];
                        for (int i = 0; i < inputs.length; i++) inputs[i] = doubleAsFloat(dir.resolve("test_data_set_0/input_" + i + ".pb"));
                        Value want = doubleAsFloat(dir.resolve("test_data_set_0/output_0.pb"));
                        Value got = run(node("Einsum", inputs.length, "equation", equation), 12, backend, null, inputs);
                        assertArrayEquals(want.shape(), got.shape(), equation);
                        float[] w = floats(want), g = floats(got);
                        for (int i = 0; i < w.length; i++) assertEquals(w[i], g[i], 1e-5 + 1e-4 * Math.abs(w[i]), equation + " [" + i + "]");
                    }));
                }
            }
        }
        return tests.stream();
    }

    // ---- Hardmax, Trilu ----------------------------------------------------------------------------

    @Test
    void hardmaxBeforeAndFromOpset13() {
        Value x = f(new float[] {1, 5, 5, 0, /**/ 2, 1, 0, 3}, 2, 2, 2);
        // opset 11, axis 1: each of the 2 rows of 4 gets one 1 at the first maximum
        assertArrayEquals(new float[] {0, 1, 0, 0, 0, 0, 0, 1}, floats(run(node("Hardmax", 1), 11, x)));
        // opset 13, axis 1: per (batch, last index) column of 2
        assertArrayEquals(new float[] {0, 1, 1, 0, 1, 0, 0, 1}, floats(run(node("Hardmax", 1, "axis", 1), 13, x)));
        assertError("axis 3 is out of range for rank 3", () -> run(node("Hardmax", 1, "axis", 3), 13, x));
    }

    @Test
    void triluWithRuntimeK() {
        Value x = i32(new long[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new long[] {1, 2, 3, 0, 5, 6}, longs(run(node("Trilu", 1), 14, x)));
        assertArrayEquals(new long[] {0, 2, 3, 0, 0, 6}, longs(run(node("Trilu", 2), 14, Backend.JAVA, new boolean[] {false, false}, x, i64(new long[] {1}))));
        assertArrayEquals(new float[] {1, 0, 0, 4, 5, 0}, floats(run(node("Trilu", 2, "upper", 0), 14, f(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), i64(new long[] {0}))));
        assertArrayEquals(new float[] {1, 2, 0, 4, 5, 6}, floats(run(node("Trilu", 2, "upper", 0), 14, f(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), i64(new long[] {1}))));
        assertError("upper=2 must be 0 or 1", () -> run(node("Trilu", 1, "upper", 2), 14, x));
        assertError("must have rank >= 2", () -> run(node("Trilu", 1), 14, i64(new long[] {1}, 1)));
    }
}
