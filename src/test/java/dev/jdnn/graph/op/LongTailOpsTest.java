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
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The long-tail ops (trigonometric/hyperbolic functions, Shrink, IsNaN/IsInf, OneHot, Compress, EyeLike,
 * ReverseSequence, Unique, Det) first against PyTorch (src/test/python/gen_misc_fixtures.py: a sinusoidal
 * positional encoding, a diffusion timestep embedding, F.one_hot, torch.unique, torch.linalg.det, ... exported
 * with torch.onnx.export, PyTorch's outputs as .npy) in the three configurations, then what ONNX's node tests
 * (OnnxNodeConformanceTest) leave out: negative axes and indices, empty tensors, NaN and ∞, integer types,
 * data-dependent shapes computed at run time, and bad attributes or inputs, each refused naming the node.
 */
class LongTailOpsTest {
    static final Path FIXTURES = Fixtures.ROOT.resolve("misc");
    static final int BOOL = 9;
    /** Java kernels compute in double and round once; PyTorch's float32 kernels are within an ulp or two. */
    static final double TOL = 2e-6;

    // ------------------------------------------------------------------ PyTorch fixtures

    @TestFactory
    Stream<DynamicTest> pytorchFixtures() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String line : Files.readAllLines(FIXTURES.resolve("cases.txt"))) {
            if (line.isBlank()) continue;
            String[] f = line.trim().split(" ");
            for (Config c : Config.values()) {
                tests.add(DynamicTest.dynamicTest(f[0] + " on " + c, () -> checkFixture(f[0], List.of(f).subList(1, f.length), c)));
            }
        }
        assertTrue(tests.size() >= 11 * 3, "fixture cases missing: " + tests.size());
        return tests.stream();
    }

    private static void checkFixture(String name, List<String> inputNames, Config c) {
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (String in : inputNames) inputs.put(in, Fixtures.tensor(FIXTURES.resolve(name + "_" + in + ".npy")));
        try (Model m = Model.load(FIXTURES.resolve(name + ".onnx")); Session s = m.session(c.options()); Result r = s.run(inputs, m.outputs())) {
            List<String> outputs = m.outputs();
            for (int k = 0; k < outputs.size(); k++) {
                try (Tensor want = Fixtures.tensor(FIXTURES.resolve(name + "_out" + k + ".npy"))) {
                    Tensor got = r.get(outputs.get(k));
                    String what = name + " output " + k + " on " + c;
                    assertArrayEquals(want.shape(), got.shape(), what + ": shape");
                    if (want.dtype().isFloat()) {
                        String diff = compare(want.toArray(), got.toArray(), TOL);
                        assertNull(diff, what + ": " + diff);
                    } else {
                        assertArrayEquals(want.toLongArray(), got.toLongArray(), what);
                    }
                }
            }
        } finally {
            inputs.values().forEach(Tensor::close);
        }
    }

    // ------------------------------------------------------------------ OneHot

    /** indices [4] int64 (graph input), depth 5, values [off, on] = [-1, 7] as initializers. */
    static GraphProto oneHot(long axis) {
        return oneNode("OneHot", List.of(input("i", INT64, 4)),
                List.of(int64s("depth", new long[0], 5), floats("values", new long[] {2}, -1f, 7f)), List.of("y"), intAttr("axis", axis));
    }

    @Test
    void oneHotWrapsNegativeIndicesFromOpset11AndNotBefore(@TempDir Path dir) throws IOException {
        long[] idx = {-1, 4, -5, 5}; // -1 → 4 and -5 → 0 (opset 11); 5 out of range
        float[] rowsOf11 = {-1, -1, -1, -1, 7, /**/ -1, -1, -1, -1, 7, /**/ 7, -1, -1, -1, -1, /**/ -1, -1, -1, -1, -1};
        float[] rowsOf10 = {-1, -1, -1, -1, -1, /**/ -1, -1, -1, -1, 7, /**/ -1, -1, -1, -1, -1, /**/ -1, -1, -1, -1, -1};
        for (int opset : new int[] {10, 11}) {
            Out y = runAll(dir, opset, oneHot(-1), () -> List.of(Tensor.ofLongs(idx, DataType.INT64, 4)), "y").get(0);
            assertArrayEquals(new long[] {4, 5}, y.shape());
            assertArrayEquals(opset == 11 ? rowsOf11 : rowsOf10, y.floats(), "opset " + opset);
        }
    }

    @Test
    void oneHotAxisZeroAndNegativeAxisInsertDepthThere(@TempDir Path dir) throws IOException {
        long[] idx = {0, 2, 4, 1};
        for (long axis : new long[] {0, -2}) {
            Out y = runAll(dir, 11, oneHot(axis), () -> List.of(Tensor.ofLongs(idx, DataType.INT64, 4)), "y").get(0);
            assertArrayEquals(new long[] {5, 4}, y.shape(), "axis " + axis);
            for (int d = 0; d < 5; d++) for (int j = 0; j < 4; j++) assertEquals(idx[j] == d ? 7f : -1f, y.floats()[d * 4 + j], "axis " + axis + " [" + d + "," + j + "]");
        }
    }

    @Test
    void oneHotTakesFloatIndicesAndDepthFromAGraphInput(@TempDir Path dir) throws IOException {
        // Float indices truncate toward zero (2.9 → 2, -0.5 → 0); depth is a graph input: the plan is made for its value.
        GraphProto g = oneNode("OneHot", List.of(input("i", FLOAT, 3), input("depth", FLOAT), input("values", INT32, 2)), List.of(), List.of("y"));
        Out y = runAll(dir, 11, g, () -> List.of(Tensor.of(new float[] {2.9f, -0.5f, Float.NaN}, 3), Tensor.of(new float[] {3f}),
                Tensor.ofLongs(new long[] {0, 1}, DataType.INT32, 2)), "y").get(0);
        assertEquals(DataType.INT32, y.type());
        assertArrayEquals(new long[] {0, 0, 1, 1, 0, 0, 0, 0, 0}, y.longs());
    }

    @Test
    void oneHotRefusesBadDepthValuesAndAxisNamingTheNode(@TempDir Path dir) throws IOException {
        Map<String, long[]> shapes = Map.of("i", new long[] {4});
        assertMentions(failure(dir, 11, oneNode("OneHot", List.of(input("i", INT64, 4)), List.of(int64s("depth", new long[0], 0),
                floats("values", new long[] {2}, 0, 1)), List.of("y")), shapes, "y"), "OneHot node y", "depth must be positive, got 0");
        assertMentions(failure(dir, 11, oneNode("OneHot", List.of(input("i", INT64, 4)), List.of(int64s("depth", new long[0], 3),
                floats("values", new long[] {3}, 0, 1, 2)), List.of("y")), shapes, "y"), "OneHot node y", "values must be a 1-D tensor [off_value, on_value]", "[3]");
        assertMentions(failure(dir, 11, oneHot(2), shapes, "y"), "OneHot node y", "axis 2 is out of range for rank 2");
    }

    // ------------------------------------------------------------------ Compress

    @Test
    void compressAlongAnAxisWithAShortOrLongCondition(@TempDir Path dir) throws IOException {
        long[] x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; // int32 [3, 4]
        // axis -1 (= 1) with condition [1, 0, 1]: column 3 is past the condition's end, not kept.
        GraphProto g = oneNode("Compress", List.of(input("x", INT32, 3, 4)), List.of(bools("c", new long[] {3}, 1, 0, 1)), List.of("y"), intAttr("axis", -1));
        Out y = runAll(dir, 11, g, () -> List.of(Tensor.ofLongs(x, DataType.INT32, 3, 4)), "y").get(0);
        assertArrayEquals(new long[] {3, 2}, y.shape());
        assertArrayEquals(new long[] {0, 2, 4, 6, 8, 10}, y.longs());
        // axis 0 with a condition longer than the axis: entries past it ignored.
        g = oneNode("Compress", List.of(input("x", INT32, 3, 4)), List.of(bools("c", new long[] {5}, 0, 1, 1, 1, 1)), List.of("y"), intAttr("axis", 0));
        y = runAll(dir, 11, g, () -> List.of(Tensor.ofLongs(x, DataType.INT32, 3, 4)), "y").get(0);
        assertArrayEquals(new long[] {2, 4}, y.shape());
        assertArrayEquals(Arrays.copyOfRange(x, 4, 12), y.longs());
    }

    @Test
    void compressSelectingNothingGivesAnEmptyTensor(@TempDir Path dir) throws IOException {
        GraphProto g = oneNode("Compress", List.of(input("x", FLOAT, 2, 3)), List.of(bools("c", new long[] {3}, 0, 0, 0)), List.of("y"), intAttr("axis", 1));
        Out y = runAll(dir, 11, g, () -> List.of(Tensor.of(new float[6], 2, 3)), "y").get(0);
        assertArrayEquals(new long[] {2, 0}, y.shape());
    }

    /** x → Greater(x, 0) → Compress(x, mask) (flattened): the condition is computed from the data, like a score mask. */
    @ParameterizedTest
    @EnumSource(Config.class)
    void compressOfAComputedConditionRunsPerValue(Config config, @TempDir Path dir) throws IOException {
        for (int n : new int[] {6, 5000}) { // 5000 elements: above what a session binds, so the tail runs it
            GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 2, n / 2)).addInitializer(floats("zero", new long[0], 0f))
                    .addNode(node("Greater", List.of("x", "zero"), List.of("mask")))
                    .addNode(node("Reshape", List.of("mask", "flat"), List.of("m1")))
                    .addInitializer(int64s("flat", new long[] {1}, -1))
                    .addNode(node("Compress", List.of("x", "m1"), List.of("y"))).addOutput(output("y")).build();
            for (int seed = 0; seed < 2; seed++) {
                float[] x = new float[n];
                java.util.Random rnd = new java.util.Random(seed);
                for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
                float[] want = new float[n];
                int k = 0;
                for (float v : x) if (v > 0) want[k++] = v;
                Out y = run(dir, 11, g, config, List.of(Tensor.of(x, 2, n / 2)), "y").get(0);
                assertArrayEquals(new long[] {k}, y.shape(), n + " elements, seed " + seed);
                assertArrayEquals(Arrays.copyOf(want, k), y.floats());
            }
        }
    }

    @Test
    void compressRefusesANonBoolConditionAndABadAxis(@TempDir Path dir) throws IOException {
        Map<String, long[]> shapes = Map.of("x", new long[] {2, 3});
        assertMentions(failure(dir, 11, oneNode("Compress", List.of(input("x", FLOAT, 2, 3)), List.of(int64s("c", new long[] {2}, 1, 0)), List.of("y")), shapes, "y"),
                "Compress node y", "condition must be bool, got int64");
        assertMentions(failure(dir, 11, oneNode("Compress", List.of(input("x", FLOAT, 2, 3)), List.of(bools("c", new long[] {2}, 1, 0)), List.of("y"), intAttr("axis", -3)), shapes, "y"),
                "Compress node y", "axis -3 is out of range for rank 2");
    }

    // ------------------------------------------------------------------ Unique

    @Test
    void uniqueTreatsNaNsAsOneValueAfterInfinityAndMinusZeroAsZero(@TempDir Path dir) throws IOException {
        float nan = Float.NaN, inf = Float.POSITIVE_INFINITY;
        float[] x = {nan, 1f, -0f, inf, nan, 0f, -inf, 1f};
        // numpy.unique(x, return_index, return_inverse, return_counts) (numpy ≥ 1.21 collapses NaNs)
        GraphProto g = oneNode("Unique", List.of(input("x", FLOAT, 8)), List.of(), List.of("y", "first", "inverse", "counts"));
        List<Out> r = runAll(dir, 11, g, () -> List.of(Tensor.of(x, 8)), "y", "first", "inverse", "counts");
        assertArrayEquals(new float[] {-inf, -0f, 1f, inf, nan}, r.get(0).floats());
        assertArrayEquals(new long[] {6, 2, 1, 3, 0}, r.get(1).longs());
        assertArrayEquals(new long[] {4, 2, 1, 3, 4, 1, 0, 2}, r.get(2).longs());
        assertArrayEquals(new long[] {1, 2, 2, 1, 2}, r.get(3).longs());
    }

    @Test
    void uniqueUnsortedKeepsFirstOccurrenceOrderOnIntegers(@TempDir Path dir) throws IOException {
        long[] x = {5, -2, 5, 7, -2, 0};
        GraphProto g = oneNode("Unique", List.of(input("x", INT8, 6)), List.of(), List.of("y", "first", "inverse", "counts"), intAttr("sorted", 0));
        List<Out> r = runAll(dir, 11, g, () -> List.of(Tensor.ofLongs(x, DataType.INT8, 6)), "y", "first", "inverse", "counts");
        assertEquals(DataType.INT8, r.get(0).type());
        assertArrayEquals(new long[] {5, -2, 7, 0}, r.get(0).longs());
        assertArrayEquals(new long[] {0, 1, 3, 5}, r.get(1).longs());
        assertArrayEquals(new long[] {0, 1, 0, 2, 1, 3}, r.get(2).longs());
        assertArrayEquals(new long[] {2, 2, 1, 1}, r.get(3).longs());
    }

    @Test
    void uniqueAlongANegativeAxisComparesWholeSlices(@TempDir Path dir) throws IOException {
        // [2, 4] columns: (1,5) (0,9) (1,5) (0,2) → sorted unique columns (0,2) (0,9) (1,5)
        long[] x = {1, 0, 1, 0, 5, 9, 5, 2};
        GraphProto g = oneNode("Unique", List.of(input("x", INT64, 2, 4)), List.of(), List.of("y", "first", "inverse", "counts"), intAttr("axis", -1));
        List<Out> r = runAll(dir, 11, g, () -> List.of(Tensor.ofLongs(x, DataType.INT64, 2, 4)), "y", "first", "inverse", "counts");
        assertArrayEquals(new long[] {2, 3}, r.get(0).shape());
        assertArrayEquals(new long[] {0, 0, 1, 2, 9, 5}, r.get(0).longs());
        assertArrayEquals(new long[] {3, 1, 0}, r.get(1).longs());
        assertArrayEquals(new long[] {2, 1, 2, 0}, r.get(2).longs());
        assertArrayEquals(new long[] {1, 1, 2}, r.get(3).longs());
    }

    @Test
    void uniqueOfAnEmptyTensorIsEmpty(@TempDir Path dir) throws IOException {
        GraphProto g = oneNode("Unique", List.of(input("x", FLOAT, 0, 3)), List.of(), List.of("y", "first", "inverse", "counts"));
        List<Out> r = runAll(dir, 11, g, () -> List.of(Tensor.of(new float[0], 0, 3)), "y", "first", "inverse", "counts");
        assertArrayEquals(new long[] {0}, r.get(0).shape());
        assertArrayEquals(new long[] {0}, r.get(2).shape());
    }

    @Test
    void uniqueRefusesBadAttributes(@TempDir Path dir) throws IOException {
        Map<String, long[]> shapes = Map.of("x", new long[] {4});
        assertMentions(failure(dir, 11, oneNode("Unique", List.of(input("x", FLOAT, 4)), List.of(), List.of("y"), intAttr("sorted", 2)), shapes, "y"),
                "Unique node y", "sorted=2 must be 0 or 1");
        assertMentions(failure(dir, 11, oneNode("Unique", List.of(input("x", FLOAT, 4)), List.of(), List.of("y"), intAttr("axis", 1)), shapes, "y"),
                "Unique node y", "axis 1 is out of range for rank 1");
    }

    // ------------------------------------------------------------------ EyeLike, ReverseSequence, Det

    @Test
    void eyeLikeOffsetsTypesAndDiagonalsPastTheMatrix(@TempDir Path dir) throws IOException {
        for (long k : new long[] {-2, 0, 3, 4, -3, Long.MIN_VALUE}) {
            GraphProto g = oneNode("EyeLike", List.of(input("x", FLOAT, 3, 4)), List.of(), List.of("y"), intAttr("k", k), intAttr("dtype", INT32));
            Out y = runAll(dir, 9, g, () -> List.of(Tensor.of(new float[12], 3, 4)), "y").get(0);
            assertEquals(DataType.INT32, y.type());
            for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) assertEquals(j - i == k ? 1 : 0, y.longs()[i * 4 + j], "k=" + k + " [" + i + "," + j + "]");
        }
        Map<String, long[]> shapes = Map.of("x", new long[] {2, 2, 2});
        assertMentions(failure(dir, 9, oneNode("EyeLike", List.of(input("x", FLOAT, 2, 2, 2)), List.of(), List.of("y")), shapes, "y"),
                "EyeLike node y", "must be 2-D", "[2, 2, 2]");
        assertMentions(failure(dir, 9, oneNode("EyeLike", List.of(input("x", FLOAT, 2, 2)), List.of(), List.of("y"), intAttr("dtype", 10)), Map.of("x", new long[] {2, 2}), "y"),
                "EyeLike node y", "dtype 10 (float16) is not supported");
    }

    @Test
    void reverseSequenceReversesEachBatchEntrysPrefixWithTrailingAxes(@TempDir Path dir) throws IOException {
        // x [batch 2, time 3, 2] (batch_axis 0, time_axis 1), lengths [3, 2] fed at run time
        float[] x = {0, 1, 2, 3, 4, 5, /**/ 10, 11, 12, 13, 14, 15};
        GraphProto g = oneNode("ReverseSequence", List.of(input("x", FLOAT, 2, 3, 2), input("lens", INT64, 2)), List.of(), List.of("y"),
                intAttr("batch_axis", 0), intAttr("time_axis", 1));
        Out y = runAll(dir, 10, g, () -> List.of(Tensor.of(x, 2, 3, 2), Tensor.ofLongs(new long[] {3, 2}, DataType.INT64, 2)), "y").get(0);
        assertArrayEquals(new float[] {4, 5, 2, 3, 0, 1, /**/ 12, 13, 10, 11, 14, 15}, y.floats());
        // A length beyond the time axis fails when it is read, naming it.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> run(dir, 10, g, Config.JAVA, List.of(Tensor.of(x, 2, 3, 2), Tensor.ofLongs(new long[] {4, 0}, DataType.INT64, 2)), "y"));
        assertMentions(e.getMessage(), "ReverseSequence node y", "sequence_lens[0] = 4 is outside [0, 3]");
        assertMentions(failure(dir, 10, oneNode("ReverseSequence", List.of(input("x", FLOAT, 2, 3), input("lens", INT64, 3)), List.of(), List.of("y"),
                intAttr("batch_axis", 1), intAttr("time_axis", 1)), Map.of("x", new long[] {2, 3}, "lens", new long[] {3}), "y"), "batch_axis=1 and time_axis=1");
    }

    @Test
    void detOfSingularTriangularPermutedEmptyAndNaNMatrices(@TempDir Path dir) throws IOException {
        float nan = Float.NaN;
        float[] x = {1, 2, 2, 4, /**/ 2, 7, 0, 3, /**/ 0, 1, 1, 0, /**/ 0, 0, nan, 1};
        GraphProto g = oneNode("Det", List.of(input("x", FLOAT, 4, 2, 2)), List.of(), List.of("y"));
        Out y = runAll(dir, 11, g, () -> List.of(Tensor.of(x, 4, 2, 2)), "y").get(0);
        assertEquals(0f, y.floats()[0]);
        assertEquals(6f, y.floats()[1]);
        assertEquals(-1f, y.floats()[2]);
        assertTrue(Float.isNaN(y.floats()[3]), "NaN propagates: " + y.floats()[3]);
        // 0×0 matrices have determinant 1.
        g = oneNode("Det", List.of(input("x", FLOAT, 2, 0, 0)), List.of(), List.of("y"));
        y = runAll(dir, 11, g, () -> List.of(Tensor.of(new float[0], 2, 0, 0)), "y").get(0);
        assertArrayEquals(new float[] {1, 1}, y.floats());
        assertMentions(failure(dir, 11, oneNode("Det", List.of(input("x", FLOAT, 2, 3)), List.of(), List.of("y")), Map.of("x", new long[] {2, 3}), "y"),
                "Det node y", "square matrices", "[2, 3]");
    }

    // ------------------------------------------------------------------ IsInf, IsNaN, Shrink, trig: checks

    @Test
    void elementwiseOpsRefuseBadAttributesAndTypes(@TempDir Path dir) throws IOException {
        Map<String, long[]> shapes = Map.of("x", new long[] {3});
        assertMentions(failure(dir, 10, oneNode("IsInf", List.of(input("x", FLOAT, 3)), List.of(), List.of("y"), intAttr("detect_negative", 2)), shapes, "y"),
                "IsInf node y", "detect_negative=2 must be 0 or 1");
        assertMentions(failure(dir, 13, oneNode("IsNaN", List.of(input("x", INT32, 3)), List.of(), List.of("y")), shapes, "y"),
                "IsNaN node y", "int32 is not supported");
        assertMentions(failure(dir, 9, oneNode("Shrink", List.of(input("x", FLOAT, 3)), List.of(), List.of("y"), attr("lambd", Float.NaN)), shapes, "y"),
                "Shrink node y", "lambd=NaN");
        assertMentions(failure(dir, 9, oneNode("Acosh", List.of(input("x", INT64, 3)), List.of(), List.of("y")), shapes, "y"),
                "Acosh node y", "int64 is not supported");
        assertMentions(failure(dir, 11, oneNode("Det", List.of(input("x", INT64, 2, 2)), List.of(), List.of("y")), Map.of("x", new long[] {2, 2}), "y"),
                "Det node y", "int64 is not supported");
    }

    // ------------------------------------------------------------------ helpers

    static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static TensorProto bools(String name, long[] dims, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(BOOL);
        for (long d : dims) t.addDims(d);
        for (long x : v) t.addInt32Data((int) x);
        return t.build();
    }

    /** One output read back: its shape, type and elements (floats or longs). */
    record Out(long[] shape, DataType type, float[] floats, long[] longs) {
        static Out of(Tensor t) {
            return new Out(t.shape(), t.dtype(), t.dtype().isFloat() ? t.toArray() : null, t.dtype().isFloat() ? null : t.toLongArray());
        }
    }

    /**
     * Runs {@code g} (graph inputs fed from {@code inputs}, in order) in {@code config} and returns the named
     * outputs; the caller closes nothing (inputs are closed here).
     */
    static List<Out> run(Path dir, int opset, GraphProto g, Config config, List<Tensor> inputs, String... outputs) throws IOException {
        Path file = write(dir, "m" + opset + ".onnx", opset, g);
        Map<String, Tensor> feed = new LinkedHashMap<>();
        for (int i = 0; i < inputs.size(); i++) feed.put(g.getInput(i).getName(), inputs.get(i));
        try (Model m = Model.load(file); Session s = m.session(config.options()); Result r = s.run(feed, List.of(outputs))) {
            List<Out> out = new ArrayList<>();
            for (String o : outputs) out.add(Out.of(r.get(o)));
            return out;
        }
    }

    /** As {@link #run} in every configuration, asserting they agree, and returns the Java reference's outputs. */
    static List<Out> runAll(Path dir, int opset, GraphProto g, java.util.function.Supplier<List<Tensor>> inputs, String... outputs) throws IOException {
        List<Out> reference = null;
        for (Config c : Config.values()) {
            List<Tensor> in = inputs.get();
            List<Out> got;
            try {
                got = run(dir, opset, g, c, in, outputs);
            } finally {
                in.forEach(Tensor::close);
            }
            if (reference == null) {
                reference = got;
                continue;
            }
            for (int k = 0; k < outputs.length; k++) {
                Out a = reference.get(k), b = got.get(k);
                assertArrayEquals(a.shape(), b.shape(), outputs[k] + " shape on " + c);
                assertEquals(a.type(), b.type(), outputs[k] + " type on " + c);
                if (a.floats() != null) assertArrayEquals(a.floats(), b.floats(), outputs[k] + " on " + c);
                else assertArrayEquals(a.longs(), b.longs(), outputs[k] + " on " + c);
            }
        }
        return reference;
    }

    static GraphProto oneNode(String op, List<ValueInfoProto> inputs, List<TensorProto> initializers, List<String> outputs, AttributeProto... attrs) {
        GraphProto.Builder g = GraphProto.newBuilder().addAllInput(inputs).addAllInitializer(initializers);
        List<String> names = new ArrayList<>();
        for (ValueInfoProto v : inputs) names.add(v.getName());
        for (TensorProto t : initializers) names.add(t.getName());
        for (String o : outputs) g.addOutput(output(o));
        return g.addNode(node(op, names, outputs, attrs)).build();
    }

    /** The message of the exception preparing {@code g} throws (shapes from its inputs). */
    static String failure(Path dir, int opset, GraphProto g, Map<String, long[]> shapes, String output) throws IOException {
        try (Model m = Model.load(write(dir, "bad.onnx", opset, g)); Session s = m.session(Config.JAVA.options())) {
            return assertThrows(IllegalArgumentException.class, () -> s.explain(shapes, List.of(output))).getMessage();
        }
    }

    static void assertMentions(String message, String... parts) {
        for (String p : parts) assertTrue(message.contains(p), "'" + p + "' missing from: " + message);
    }
}
