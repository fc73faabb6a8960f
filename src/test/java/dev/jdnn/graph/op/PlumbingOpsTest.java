package dev.jdnn.graph.op;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Value;
import dev.jdnn.onnx.OnnxFormatException;
import dev.jdnn.onnx.OnnxLoader;
import dev.jdnn.onnx.OnnxNodeTests;
import dev.jdnn.onnx.proto.OnnxProto;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

/**
 * Slice, Split, Cast, CastLike, Expand, Tile, ConstantOfShape, Range, Size, NonZero and Shape:
 * <ul>
 *   <li>ONNX's node tests for these ops (Debian's libonnx-testdata; starts, repeats, shapes... fed as graph
 *       inputs, which the session specialises plans on) and jdnn's own numpy-oracle cases
 *       ({@code src/test/python/gen_plumbing_cases.py}: every element type jdnn holds, negative steps,
 *       opset variants, a ShuffleNet unit), each on the native compiled plan, native node by node and
 *       the Java reference; tests needing a type jdnn does not hold are aborted with the reason;</li>
 *   <li>small hand-computed cases through the op API (negative and stepped Slice, Split variants, Cast
 *       rounding) and the attribute errors;</li>
 *   <li>the native strided copy against the Java reference on random slices, expands and tiles.</li>
 * </ul>
 * A summary of pass/skip/fail per op is printed after the class.
 */
class PlumbingOpsTest {
    static final Path ONNX_NODE_TESTS = OnnxNodeTests.NODE_TESTS;
    static final Path OWN_CASES = Path.of("src/test/resources/fixtures/plumbing");
    static final Pattern ONNX_FILTER = Pattern.compile("test_(slice|split|cast|castlike|expand|tile|constantofshape|range|size|nonzero|shape).*");
    static final Pattern OP = Pattern.compile("(?:test_)?(castlike|cast|constantofshape|expand|nonzero|range|shape|size|slice|split|tile)_?.*");
    static final Map<String, int[]> SUMMARY = new ConcurrentHashMap<>();   // "source op" -> pass, skip, fail
    static final Map<String, String> SKIPS = new ConcurrentHashMap<>();

    // ---------------------------------------------------------------- conformance (ONNX and own cases)

    @TestFactory
    Stream<DynamicTest> nodeTests() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        if (Files.isDirectory(ONNX_NODE_TESTS)) collect(ONNX_NODE_TESTS, "onnx", ONNX_FILTER, tests);
        collect(OWN_CASES, "jdnn", Pattern.compile(".*"), tests);
        assertFalse(tests.isEmpty(), "no node tests found under " + OWN_CASES.toAbsolutePath());
        return tests.stream();
    }

    private static void collect(Path root, String source, Pattern filter, List<DynamicTest> tests) throws IOException {
        try (Stream<Path> dirs = Files.list(root).sorted()) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                String name = dir.getFileName().toString();
                if (!filter.matcher(name).matches() || !Files.isRegularFile(dir.resolve("model.onnx"))) continue;
                OnnxProto.ModelProto proto;
                try (InputStream in = Files.newInputStream(dir.resolve("model.onnx"))) {
                    proto = OnnxProto.ModelProto.parseFrom(in);
                }
                int opset = OnnxNodeTests.opset(proto);
                Matcher m = OP.matcher(name);
                String key = source + " " + (m.matches() ? m.group(1) : name);
                List<String> missing = proto.getGraph().getNodeList().stream().map(OnnxProto.NodeProto::getOpType)
                        .filter(t -> Registry.get(t, opset) == null).distinct().toList();
                if (!missing.isEmpty()) {
                    // e.g. the *_expanded Range tests, which need Loop: not an op of this family.
                    SUMMARY.computeIfAbsent(key, k -> new int[4])[3] += 1;
                    SKIPS.putIfAbsent(key + " (not collected)", name + ": needs " + missing);
                    continue;
                }
                tests.add(DynamicTest.dynamicTest(name + " on NATIVE compiled", () -> record(key, () -> OnnxNodeTests.runCase(dir, Backend.NATIVE, Optimizations.all()))));
                tests.add(DynamicTest.dynamicTest(name + " on NATIVE node by node", () -> record(key, () -> OnnxNodeTests.runCase(dir, Backend.NATIVE, Optimizations.none()))));
                tests.add(DynamicTest.dynamicTest(name + " on JAVA", () -> record(key, () -> OnnxNodeTests.runCase(dir, Backend.JAVA, Optimizations.none()))));
            }
        }
    }

    interface Case {
        void run() throws IOException;
    }

    private static void record(String key, Case c) throws IOException {
        int[] counts = SUMMARY.computeIfAbsent(key, k -> new int[4]);
        try {
            c.run();
            synchronized (counts) { counts[0]++; }
        } catch (TestAbortedException e) {
            synchronized (counts) { counts[1]++; }
            SKIPS.putIfAbsent(key, e.getMessage());
            throw e;
        } catch (RuntimeException | AssertionError | IOException e) {
            synchronized (counts) { counts[2]++; }
            throw e;
        }
    }

    @AfterAll
    static void summary() {
        System.out.println("PlumbingOpsTest node tests (runs over 3 configurations): source op: pass / skip / fail / not collected (dirs)");
        new TreeMap<>(SUMMARY).forEach((k, v) -> System.out.printf("  %-24s %4d / %4d / %4d / %d%n", k, v[0], v[1], v[2], v[3]));
        new TreeMap<>(SKIPS).forEach((k, v) -> System.out.println("  skip example " + k + ": " + v));
    }

    /** Slice and Split stay native in a compiled plan (strided copies between oneDNN primitives). */
    @Test
    void sliceAndSplitLowerToNativeCopies() {
        for (String name : List.of("slice_between_relus_f32", "split_shufflenet_unit_f32")) {
            try (Model model = Model.load(OWN_CASES.resolve(name).resolve("model.onnx"));
                 Session s = model.session(Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.all()))) {
                List<String> plan = s.explain(model.inputs(), model.outputs());
                long copies = plan.stream().filter(l -> l.startsWith("native") && l.contains("strided copy")).count();
                assertEquals(name.startsWith("split") ? 2 : 1, copies, name + " plan:\n" + String.join("\n", plan));
                assertTrue(plan.stream().noneMatch(l -> l.startsWith("java") && (l.contains("Slice") || l.contains("Split"))), String.join("\n", plan));
            }
        }
    }

    // ---------------------------------------------------------------- op API helpers

    static final Op.Context JAVA13 = new Op.Context(Backend.JAVA, 13);

    static Node node(String op, int inputs, int outputs, Map<String, Object> attributes) {
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        for (int i = 0; i < inputs; i++) in.add("i" + i);
        for (int i = 0; i < outputs; i++) out.add("o" + i);
        return new Node("n", op, in, out, new Attributes(attributes));
    }

    static List<Value> run(String op, int opset, Map<String, Object> attributes, int outputs, Value... inputs) {
        Node n = node(op, inputs.length, outputs, attributes);
        List<Value> in = Arrays.asList(inputs);
        Op.Step step = Registry.get(op, opset).prepare(n, Inputs.ofValues(in), new Op.Context(Backend.JAVA, opset));
        List<Value> out = step.run(in);
        for (int i = 0; i < out.size(); i++) {
            assertArrayEquals(step.outputShapes().get(i), out.get(i).shape(), "declared shape of output " + i);
            assertEquals(step.outputTypes().get(i), out.get(i).type(), "declared type of output " + i);
        }
        return out;
    }

    static Value.Floats floats(long[] shape, float... v) {
        return Ops.result(v, shape);
    }

    static Value.Floats iota(long... shape) {
        float[] v = new float[(int) Ops.count(shape)];
        for (int i = 0; i < v.length; i++) v[i] = i;
        return Ops.result(v, shape);
    }

    static Value.Longs longs(DataType t, long[] shape, long... v) {
        return new Value.Longs(t, shape, v);
    }

    static Value.Longs vec(long... v) {
        return Value.Longs.vector(v);
    }

    static float[] f(Value v) {
        return ((Value.Floats) v).tensor().toArray();
    }

    static long[] l(Value v) {
        return ((Value.Longs) v).view();
    }

    static IllegalArgumentException error(String op, int opset, Map<String, Object> attributes, int outputs, Value... inputs) {
        return assertThrows(IllegalArgumentException.class, () -> run(op, opset, attributes, outputs, inputs));
    }

    // ---------------------------------------------------------------- Slice

    @Test
    void sliceNegativeAndSteppedByHand() {
        Value x = iota(3, 4);   // [[0 1 2 3] [4 5 6 7] [8 9 10 11]]
        // x[::-1, ::-2] = [[11 9] [7 5] [3 1]]
        Value y = run("Slice", 13, Map.of(), 1, x, vec(-1, -1), vec(Long.MIN_VALUE, Long.MIN_VALUE), vec(0, 1), vec(-1, -2)).get(0);
        assertArrayEquals(new long[] {3, 2}, y.shape());
        assertArrayEquals(new float[] {11, 9, 7, 5, 3, 1}, f(y));
        // x[1:, -3:-1] with INT64_MAX end and negative axes: [[5 6] [9 10]]
        y = run("Slice", 13, Map.of(), 1, x, vec(1, -3), vec(Long.MAX_VALUE, -1), vec(-2, -1)).get(0);
        assertArrayEquals(new float[] {5, 6, 9, 10}, f(y));
        // step larger than the axis, start beyond the end (clamped to n−1 for a negative step): x[:, 10::-5] = [[3] [7] [11]]
        y = run("Slice", 13, Map.of(), 1, x, vec(10), vec(-100), vec(1), vec(-5)).get(0);
        assertArrayEquals(new float[] {3, 7, 11}, f(y));
        // huge steps: one element each, no overflow
        y = run("Slice", 13, Map.of(), 1, x, vec(0, 3), vec(3, -5), vec(0, 1), vec(Long.MAX_VALUE, Long.MIN_VALUE)).get(0);
        assertArrayEquals(new float[] {3}, f(y));
        // empty: x[2:1] along axis 0 → 0×4
        y = run("Slice", 13, Map.of(), 1, x, vec(2), vec(1), vec(0)).get(0);
        assertArrayEquals(new long[] {0, 4}, y.shape());
        // an empty axis stays empty with a negative step
        assertArrayEquals(new long[] {0, 4}, run("Slice", 13, Map.of(), 1, iota(0, 4), vec(-1), vec(Long.MIN_VALUE), vec(0), vec(-1)).get(0).shape());
        // opset 9 attributes; int8 data keeps its type and values
        Value b = longs(DataType.INT8, new long[] {5}, -128, -1, 0, 1, 127);
        y = run("Slice", 9, Map.of("starts", new long[] {-4}, "ends", new long[] {-1}), 1, b).get(0);
        assertEquals(DataType.INT8, y.type());
        assertArrayEquals(new long[] {-1, 0, 1}, l(y));
    }

    @Test
    void sliceErrors() {
        Value x = iota(3, 4);
        assertTrue(error("Slice", 13, Map.of(), 1, x, vec(0), vec(1), vec(0), vec(0)).getMessage().contains("steps [0] has a 0"));
        assertTrue(error("Slice", 13, Map.of(), 1, x, vec(0, 0), vec(1, 1), vec(1, -1)).getMessage().contains("twice"));
        assertTrue(error("Slice", 13, Map.of(), 1, x, vec(0), vec(1), vec(2)).getMessage().contains("axis 2 is out of range"));
        assertTrue(error("Slice", 13, Map.of(), 1, x, vec(0, 1), vec(1)).getMessage().contains("differ in length"));
        assertTrue(error("Slice", 9, Map.of("ends", new long[] {1}), 1, x).getMessage().contains("starts and ends are required"));
        // starts computed at run time: the session must specialise the plan on its value
        Node n = node("Slice", 3, 1, Map.of());
        Inputs in = new Inputs(List.of(new long[] {3, 4}, new long[] {1}, new long[] {1}), List.of(DataType.FLOAT, DataType.INT64, DataType.INT64),
                Arrays.asList(null, null, vec(2)));
        String m = assertThrows(DataDependentException.class, () -> new Slice().prepare(n, in, JAVA13)).getMessage();
        assertTrue(m.startsWith("Slice node n: starts must be known when the plan is prepared"), m);
    }

    // ---------------------------------------------------------------- Split

    @Test
    void splitVariantsByHand() {
        Value x = iota(2, 5);   // [[0..4] [5..9]]
        // opset 13 split input [1, 0, 4] along axis 1 (a zero-size part)
        List<Value> y = run("Split", 13, Map.of("axis", 1L), 3, x, vec(1, 0, 4));
        assertArrayEquals(new float[] {0, 5}, f(y.get(0)));
        assertArrayEquals(new long[] {2, 0}, y.get(1).shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 6, 7, 8, 9}, f(y.get(2)));
        // opset 11 attribute, negative axis
        y = run("Split", 11, Map.of("axis", -1L, "split", new long[] {3, 2}), 2, x);
        assertArrayEquals(new float[] {0, 1, 2, 5, 6, 7}, f(y.get(0)));
        assertArrayEquals(new float[] {3, 4, 8, 9}, f(y.get(1)));
        // opset 18 num_outputs: ⌈5/3⌉ = 2 → [2, 2, 1]
        y = run("Split", 18, Map.of("axis", 1L, "num_outputs", 3L), 3, x);
        assertArrayEquals(new long[] {2, 2}, y.get(0).shape());
        assertArrayEquals(new long[] {2, 1}, y.get(2).shape());
        assertArrayEquals(new float[] {4, 9}, f(y.get(2)));
        // opset 18 without split or num_outputs: the number of outputs, same rule; 7 into 4 → [2, 2, 2, 1]
        y = run("Split", 18, Map.of(), 4, iota(7));
        assertArrayEquals(new float[] {6}, f(y.get(3)));
        // equal split on the default axis, bool data keeps its type
        Value b = longs(DataType.BOOL, new long[] {4, 1}, 1, 0, 0, 1);
        y = run("Split", 13, Map.of(), 2, b);
        assertEquals(DataType.BOOL, y.get(1).type());
        assertArrayEquals(new long[] {0, 1}, l(y.get(1)));
    }

    @Test
    void splitErrors() {
        Value x = iota(2, 5);
        assertTrue(error("Split", 13, Map.of("axis", 1L), 2, x, vec(1, 3)).getMessage().contains("sums to 4"));
        assertTrue(error("Split", 13, Map.of("axis", 1L), 2, x, vec(6, -1)).getMessage().contains("negative size"));
        assertTrue(error("Split", 13, Map.of("axis", 1L), 3, x, vec(1, 4)).getMessage().contains("2 sizes for 3 outputs"));
        assertTrue(error("Split", 13, Map.of("axis", 1L), 2, x).getMessage().contains("does not split into 2 equal parts"));
        assertTrue(error("Split", 18, Map.of("axis", 1L, "num_outputs", 3L), 2, x).getMessage().contains("num_outputs 3 differs"));
        assertTrue(error("Split", 13, Map.of("axis", 1L, "num_outputs", 2L), 2, x).getMessage().contains("from opset 18"));
        assertTrue(error("Split", 18, Map.of("axis", 1L, "num_outputs", 2L), 2, x, vec(2, 3)).getMessage().contains("not both"));
        // 5 into 4 parts of ⌈5/4⌉ = 2 would leave −1 for the last
        assertTrue(error("Split", 18, Map.of("num_outputs", 4L), 4, iota(5)).getMessage().contains("cannot be cut into 4 parts"));
        assertTrue(error("Split", 13, Map.of("axis", 2L), 2, x).getMessage().contains("axis 2 is out of range"));
    }

    @Test
    void splitPartsRewriteKeepsOutputsAndNamesTheSplit() {
        Node split = new Node("sp", "Split", List.of("x"), List.of("a", "", "c"), new Attributes(Map.of("axis", 0L)));
        var g = new dev.jdnn.graph.rewrite.SplitParts().apply(new dev.jdnn.graph.Graph(Map.of("x", new long[] {6}), List.of("a", "c"),
                List.of(split), Map.of()), java.util.Set.of("a", "c"));
        assertEquals(2, g.nodes().size());
        assertEquals(List.of("a"), g.nodes().get(0).outputs());
        assertEquals(List.of("c"), g.nodes().get(1).outputs());
        Node c = g.nodes().get(1);
        assertEquals("jdnn.SplitPart", c.opType());
        Value x = iota(6);
        Op.Step step = Registry.get("jdnn.SplitPart", 13).prepare(c, Inputs.ofValues(List.of(x)), JAVA13);
        assertArrayEquals(new float[] {4, 5}, f(step.run(List.of(x)).get(0)));
        // an error names the Split node
        String m = assertThrows(IllegalArgumentException.class,
                () -> Registry.get("jdnn.SplitPart", 13).prepare(c, Inputs.ofValues(List.of(iota(7))), JAVA13)).getMessage();
        assertTrue(m.startsWith("jdnn.SplitPart node sp#2: Split node sp: "), m);
    }

    // ---------------------------------------------------------------- Cast

    @Test
    void castRoundingByHand() {
        Value x = floats(new long[] {10}, 2.7f, -2.7f, 0.5f, -0.5f, Float.NaN, Float.POSITIVE_INFINITY, 3e9f, 300.7f, -1e-30f, 255.5f);
        Value toI64 = run("Cast", 13, Map.of("to", 7L), 1, x).get(0);
        assertEquals(DataType.INT64, toI64.type());
        assertArrayEquals(new long[] {2, -2, 0, 0, Long.MIN_VALUE, Long.MIN_VALUE, 3_000_000_000L, 300, 0, 255}, l(toI64));
        Value toI32 = run("Cast", 13, Map.of("to", 6L), 1, x).get(0);
        assertArrayEquals(new long[] {2, -2, 0, 0, Integer.MIN_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE, 300, 0, 255}, l(toI32));
        Value toU8 = run("Cast", 13, Map.of("to", 2L), 1, x).get(0);
        assertArrayEquals(new long[] {2, 254, 0, 0, 0, 0, 0, 44, 0, 255}, l(toU8));
        Value toI8 = run("Cast", 13, Map.of("to", 3L), 1, x).get(0);
        assertArrayEquals(new long[] {2, -2, 0, 0, 0, 0, 0, 44, 0, -1}, l(toI8));
        Value toBool = run("Cast", 13, Map.of("to", 9L), 1, x).get(0);
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, l(toBool));
        assertArrayEquals(new long[] {0, 1}, l(run("Cast", 13, Map.of("to", 9L), 1, floats(new long[] {2}, -0f, 1e-45f)).get(0)));
        // int64 → float rounds to nearest, ties to even; → int32/uint8 wrap; → bool is x ≠ 0
        Value i = longs(DataType.INT64, new long[] {5}, 16_777_217L, 16_777_219L, (1L << 40) + 1, -129, 256);
        assertArrayEquals(new float[] {16_777_216f, 16_777_220f, 0x1p40f, -129f, 256f}, f(run("Cast", 13, Map.of("to", 1L), 1, i).get(0)));
        assertArrayEquals(new long[] {1, 3, 1, 127, 0}, l(run("Cast", 13, Map.of("to", 2L), 1, i).get(0)));
        assertArrayEquals(new long[] {16_777_217, 16_777_219, 1, -129, 256}, l(run("Cast", 13, Map.of("to", 6L), 1, i).get(0)));
        assertArrayEquals(new long[] {1, 1, 1, 1, 1}, l(run("Cast", 13, Map.of("to", 9L), 1, i).get(0)));
        // CastLike takes input 1's type
        Value like = run("CastLike", 15, Map.of(), 1, x, longs(DataType.INT32, new long[] {1}, 0)).get(0);
        assertEquals(DataType.INT32, like.type());
        assertArrayEquals(l(toI32), l(like));
    }

    @Test
    void castToTypesJdnnDoesNotHoldIsNotSupported() {
        Value x = iota(2);
        // (to = 10, float16, is held since float16 models run: see Float16ModelTest.)
        for (long code : new long[] {11, 16, 8, 4, 5, 12, 13, 17}) {
            String m = error("Cast", 13, Map.of("to", code), 1, x).getMessage();
            assertTrue(m.contains("not supported") && m.startsWith("Cast node n: to = " + code), m);
        }
        assertTrue(error("Cast", 13, Map.of(), 1, x).getMessage().contains("attribute to is required"));
        assertTrue(error("Cast", 19, Map.of("to", 1L, "saturate", 2L), 1, x).getMessage().contains("saturate must be 0 or 1"));
    }

    // ---------------------------------------------------------------- Expand, Tile, generators

    @Test
    void expandTileAndGeneratorsByHand() {
        Value x = floats(new long[] {3, 1}, 1, 2, 3);
        Value y = run("Expand", 13, Map.of(), 1, x, vec(2, 1, 2)).get(0);
        assertArrayEquals(new long[] {2, 3, 2}, y.shape());
        assertArrayEquals(new float[] {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}, f(y));
        assertTrue(error("Expand", 13, Map.of(), 1, x, vec(2, 4)).getMessage().contains("cannot be broadcast"));
        assertTrue(error("Expand", 13, Map.of(), 1, x, vec(-1, 1)).getMessage().contains("negative"));

        Value t = run("Tile", 13, Map.of(), 1, longs(DataType.INT32, new long[] {1, 2}, 7, 8), vec(2, 2)).get(0);
        assertEquals(DataType.INT32, t.type());
        assertArrayEquals(new long[] {2, 4}, t.shape());
        assertArrayEquals(new long[] {7, 8, 7, 8, 7, 8, 7, 8}, l(t));
        assertTrue(error("Tile", 13, Map.of(), 1, x, vec(2)).getMessage().contains("rank 2"));
        assertTrue(error("Tile", 13, Map.of(), 1, x, vec(1, -1)).getMessage().contains("negative"));

        Value c = run("ConstantOfShape", 13, Map.of("value", longs(DataType.UINT8, new long[] {1}, 200)), 1, vec(2, 2)).get(0);
        assertEquals(DataType.UINT8, c.type());
        assertArrayEquals(new long[] {200, 200, 200, 200}, l(c));
        Value c0 = run("ConstantOfShape", 13, Map.of(), 1, vec(3)).get(0);
        assertEquals(DataType.FLOAT, c0.type());
        assertArrayEquals(new float[3], f(c0));
        assertTrue(error("ConstantOfShape", 13, Map.of("value", vec(1, 2)), 1, vec(3)).getMessage().contains("exactly one element"));

        assertArrayEquals(new long[] {10, 7, 4, 1}, l(run("Range", 11, Map.of(), 1, Value.Longs.scalar(10), Value.Longs.scalar(0), Value.Longs.scalar(-3)).get(0)));
        Value r = run("Range", 11, Map.of(), 1, floats(new long[0], 0f), floats(new long[0], 1f), floats(new long[0], 0.25f)).get(0);
        assertArrayEquals(new float[] {0, 0.25f, 0.5f, 0.75f}, f(r));
        assertTrue(error("Range", 11, Map.of(), 1, Value.Longs.scalar(0), Value.Longs.scalar(3), Value.Longs.scalar(0)).getMessage().contains("delta must be non-zero"));

        assertArrayEquals(new long[] {6}, l(run("Size", 13, Map.of(), 1, iota(2, 3)).get(0)));
        Value nz = run("NonZero", 13, Map.of(), 1, floats(new long[] {2, 2}, 0, 3, Float.NaN, 0)).get(0);
        assertArrayEquals(new long[] {2, 2}, nz.shape());
        assertArrayEquals(new long[] {0, 1, 1, 0}, l(nz));
        Node n = node("NonZero", 1, 1, Map.of());
        Inputs runtime = new Inputs(List.of(new long[] {4}), List.of(DataType.FLOAT), Arrays.asList((Value) null));
        assertThrows(DataDependentException.class, () -> new NonZero().prepare(n, runtime, JAVA13));
        Node rn = node("Range", 3, 1, Map.of());
        Inputs start = new Inputs(List.of(new long[0], new long[0], new long[0]), List.of(DataType.INT64, DataType.INT64, DataType.INT64),
                Arrays.asList(null, Value.Longs.scalar(3), Value.Longs.scalar(1)));
        assertThrows(DataDependentException.class, () -> new Range().prepare(rn, start, JAVA13));
    }

    // ---------------------------------------------------------------- native strided copy vs Java

    @Test
    void nativeStridedCopyMatchesJava() {
        Random rnd = new Random(7);
        Op.Context ctx = new Op.Context(Backend.NATIVE, 13);
        for (int trial = 0; trial < 200; trial++) {
            int rank = 1 + rnd.nextInt(4);
            long[] shape = new long[rank];
            for (int d = 0; d < rank; d++) shape[d] = 1 + rnd.nextInt(6);
            Value x = iota(shape);
            String op;
            List<Value> in = new ArrayList<>(List.of(x));
            int kind = trial % 3;
            if (kind == 0) {
                op = "Slice";
                long[] starts = new long[rank], ends = new long[rank], axes = new long[rank], steps = new long[rank];
                for (int d = 0; d < rank; d++) {
                    axes[d] = d;
                    starts[d] = rnd.nextInt(9) - 4;
                    ends[d] = rnd.nextInt(5) == 0 ? (rnd.nextBoolean() ? Long.MAX_VALUE : Long.MIN_VALUE) : rnd.nextInt(9) - 4;
                    steps[d] = (rnd.nextBoolean() ? 1 : -1) * (rnd.nextInt(3) == 0 ? 2 : 1);
                    if (rnd.nextInt(3) == 0) { starts[d] = 0; ends[d] = Long.MAX_VALUE; steps[d] = 1; }
                }
                in.addAll(List.of(vec(starts), vec(ends), vec(axes), vec(steps)));
            } else if (kind == 1) {
                op = "Expand";
                long[] target = new long[rank + rnd.nextInt(2)];
                for (int d = 0; d < target.length; d++) {
                    int xi = d - (target.length - rank);
                    target[d] = xi >= 0 && shape[xi] != 1 ? (rnd.nextBoolean() ? shape[xi] : 1) : 1 + rnd.nextInt(3);
                }
                in.add(vec(target));
                // make some input axes 1 so they broadcast
                for (int d = 0; d < rank; d++) if (rnd.nextInt(3) == 0) shape[d] = 1;
                in.set(0, iota(shape));
            } else {
                op = "Tile";
                long[] reps = new long[rank];
                for (int d = 0; d < rank; d++) reps[d] = 1 + rnd.nextInt(3);
                in.add(vec(reps));
            }
            Node n = node(op, in.size(), 1, Map.of());
            Op o = Registry.get(op, 13);
            Value want = o.prepare(n, Inputs.ofValues(in), JAVA13).run(in).get(0);
            // the data is a runtime input for lowering
            List<Value> consts = new ArrayList<>(in);
            consts.set(0, null);
            List<long[]> shapes = new ArrayList<>();
            List<DataType> types = new ArrayList<>();
            for (Value v : in) { shapes.add(v.shape()); types.add(v.type()); }
            Inputs lowerIn = new Inputs(shapes, types, consts);
            if (!Primitives.nativeShape(want.shape())) continue;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment desc = MemoryDescs.plain(arena, in.get(0).shape());
                NativeOp nat = o.lower(n, lowerIn, new Op.Lowering(List.of(desc), List.of(want.shape()), ctx, null));
                assertNotNull(nat, op + " " + Arrays.toString(in.get(0).shape()));
                try (nat) {
                    Tensor src = ((Value.Floats) in.get(0)).tensor();
                    MemorySegment out = arena.allocate(Ops.count(want.shape()) * Float.BYTES, 64);
                    try (NativeOp.Bound b = nat.bind(new MemorySegment[] {src.segment()}, out, MemorySegment.NULL)) {
                        b.run();
                        b.run(); // runs again from the start
                    }
                    assertArrayEquals(f(want), out.toArray(ValueLayout.JAVA_FLOAT), op + " trial " + trial + ": " + nat.description());
                }
            }
        }
    }
}
