package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.ConvPoolTesting.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

/**
 * Pooling against independent oracles: ONNX's node tests at op level (Java and lowered to oneDNN),
 * committed fixtures from src/test/python/gen_pool_fixtures.py (numpy loops, cross-checked against
 * PyTorch where it has the op) for what those tests lack (count_include_pad with ceil_mode, dilated
 * average, Indices with storage_order 0/1, LpPool, GlobalLpPool), oneDNN against Java on a sweep, and
 * attribute errors.
 */
class PoolOpsTest {
    static final Path FIXTURES = Fixtures.ROOT.resolve("pool");
    static final Set<String> LIST_ATTRIBUTES = Set.of("kernel_shape", "strides", "pads", "dilations");

    /** The op for an opset (jdnn loads opsets from {@link Registry#MIN_OPSET}; older node tests run at that one). */
    static Op op(String type, int opset) {
        Op op = Registry.get(type, Math.max(opset, Registry.MIN_OPSET));
        assertNotNull(op, type + " at opset " + opset);
        return op;
    }

    record Case(String name, String type, int opset, Map<String, Object> attributes) {
        static Case parse(String line) {
            String[] f = line.trim().split("\\s+");
            Map<String, Object> a = attrs();
            for (int i = 3; i < f.length; i++) {
                String[] kv = f[i].split("=", 2);
                a.put(kv[0], LIST_ATTRIBUTES.contains(kv[0]) ? Arrays.stream(kv[1].split(",")).mapToLong(Long::parseLong).toArray() : (Object) Long.parseLong(kv[1]));
            }
            return new Case(f[0], f[1], Integer.parseInt(f[2]), a);
        }

        Path file(String name) {
            return FIXTURES.resolve(this.name).resolve(name + ".npy");
        }
    }

    static List<Case> cases() throws IOException {
        return Files.readAllLines(FIXTURES.resolve("cases.txt")).stream().filter(l -> !l.startsWith("#") && !l.isBlank()).map(Case::parse).toList();
    }

    /** Fixtures: Java (with Indices for MaxPool) and, where oneDNN can, the lowered form. */
    @TestFactory
    Stream<DynamicTest> fixtures() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases()) {
            tests.add(DynamicTest.dynamicTest(c.name(), () -> {
                boolean max = c.type().equals("MaxPool");
                List<Value> values = List.of(new Value.Floats(Fixtures.tensor(c.file("x"))));
                try (Tensor indicesWant = max ? Fixtures.tensor(c.file("indices")) : null; Tensor y = Fixtures.tensor(c.file("y"))) {
                    Inputs in = inputs(values, false);
                    float[] want = y.toArray();
                    List<Value> got = run(op(c.type(), c.opset()), node(c.type(), 1, max ? 2 : 1, c.attributes()), in, values, Backend.JAVA, c.opset());
                    try {
                        Fixtures.assertClose(want, ((Value.Floats) got.get(0)).tensor().toArray(), 1e-5, c.name() + " JAVA");
                        if (max) {
                            assertEquals(DataType.INT64, got.get(1).type());
                            assertArrayEquals(indicesWant.toLongArray(), ((Value.Longs) got.get(1)).view(), c.name() + " Indices");
                        }
                    } finally {
                        close(got);
                    }
                    Node single = node(c.type(), 1, 1, c.attributes());
                    float[] lowered = runLowered(op(c.type(), c.opset()), single, in, ((Value.Floats) values.get(0)).tensor(), y.shape(), null, c.opset());
                    // No oneDNN form: LpPool, and count_include_pad where ceil_mode's overhang passes the end padding.
                    boolean expectNative = !c.type().contains("Lp") && !Set.of("avg_ceil_include_pad", "avg_3d_ceil_include_pad").contains(c.name());
                    if (expectNative) assertNotNull(lowered, c.name() + " should run on oneDNN");
                    else assertNull(lowered, c.name() + " has no oneDNN form");
                    if (lowered != null) Fixtures.assertClose(want, lowered, 1e-5, c.name() + " lowered");
                } finally {
                    close(values);
                }
            }));
        }
        return tests.stream();
    }

    /** ONNX's pooling node tests at op level: Java (every output) and lowered (float, single output). */
    @TestFactory
    Stream<DynamicTest> onnxNodeTests() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : nodeTests("test_(maxpool|averagepool|lppool|globallppool|globalaveragepool|globalmaxpool).*")) {
            for (String mode : List.of("JAVA", "LOWERED")) {
                tests.add(DynamicTest.dynamicTest(name + " " + mode, () -> {
                    try (NodeCase t = nodeCase(name)) {
                        Op op = op(t.node().opType(), t.opset());
                        Inputs in = inputs(t.inputs(), false);
                        if (mode.equals("JAVA")) {
                            List<Value> got = run(op, t.node(), in, t.inputs(), Backend.JAVA, t.opset());
                            try {
                                for (int i = 0; i < t.expected().size(); i++) {
                                    Value want = t.expected().get(i), have = got.get(i);
                                    assertArrayEquals(want.shape(), have.shape(), "shape of output " + i);
                                    assertEquals(want.type(), have.type(), "type of output " + i);
                                    if (want instanceof Value.Longs wl) assertArrayEquals(wl.view(), ((Value.Longs) have).view(), name + " output " + i);
                                    else assertNear(((Value.Floats) want).tensor().toArray(), ((Value.Floats) have).tensor().toArray(), 1e-3, 1e-7, name);
                                }
                            } finally {
                                close(got);
                            }
                        } else {
                            if (t.expected().size() > 1 || !(t.inputs().get(0) instanceof Value.Floats x)) throw new TestAbortedException("Indices or integer data: Java only");
                            float[] got = runLowered(op, t.node(), in, x.tensor(), t.expected().get(0).shape(), null, t.opset());
                            assertNotNull(got, name + " should lower to oneDNN");
                            assertNear(((Value.Floats) t.expected().get(0)).tensor().toArray(), got, 1e-3, 1e-7, name + " lowered");
                        }
                    }
                }));
            }
        }
        return tests.stream();
    }

    /** oneDNN (lowered, any layout) against the Java reference over pads, strides, dilations, ceil_mode, ranks 3–5. */
    @TestFactory
    Stream<DynamicTest> nativeMatchesJava() {
        record Sweep(String type, long[] x, Map<String, Object> attributes) {}
        List<Sweep> sweeps = List.of(
                new Sweep("MaxPool", new long[] {1, 16, 9, 9}, attrs("kernel_shape", new long[] {3, 3}, "strides", new long[] {2, 2})),
                new Sweep("MaxPool", new long[] {2, 8, 10, 11}, attrs("kernel_shape", new long[] {3, 2}, "strides", new long[] {2, 3}, "pads", new long[] {1, 0, 2, 1},
                        "dilations", new long[] {2, 1}, "ceil_mode", 1L)),
                new Sweep("MaxPool", new long[] {1, 4, 12}, attrs("kernel_shape", new long[] {4}, "strides", new long[] {3}, "dilations", new long[] {2}, "ceil_mode", 1L)),
                new Sweep("MaxPool", new long[] {1, 3, 5, 6, 7}, attrs("kernel_shape", new long[] {2, 2, 3}, "strides", new long[] {2, 2, 2}, "pads", new long[] {0, 1, 1, 1, 0, 1})),
                new Sweep("AveragePool", new long[] {1, 16, 9, 9}, attrs("kernel_shape", new long[] {3, 3}, "strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1},
                        "count_include_pad", 1L)),
                new Sweep("AveragePool", new long[] {2, 8, 10, 11}, attrs("kernel_shape", new long[] {3, 2}, "strides", new long[] {2, 3}, "pads", new long[] {1, 0, 2, 1},
                        "dilations", new long[] {2, 2}, "ceil_mode", 1L)),
                new Sweep("AveragePool", new long[] {2, 8, 10, 11}, attrs("kernel_shape", new long[] {3, 3}, "pads", new long[] {1, 2, 1, 0},
                        "dilations", new long[] {2, 3}, "count_include_pad", 1L)),
                new Sweep("AveragePool", new long[] {1, 8, 9, 9}, attrs("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2}, "auto_pad", "SAME_UPPER",
                        "count_include_pad", 1L)),
                new Sweep("AveragePool", new long[] {1, 4, 13}, attrs("kernel_shape", new long[] {3}, "strides", new long[] {2}, "auto_pad", "SAME_LOWER")),
                new Sweep("AveragePool", new long[] {1, 2, 6, 7, 5}, attrs("kernel_shape", new long[] {3, 2, 2}, "strides", new long[] {2, 2, 2}, "ceil_mode", 1L)),
                new Sweep("GlobalAveragePool", new long[] {2, 16, 7, 5}, attrs()),
                new Sweep("GlobalMaxPool", new long[] {2, 16, 7, 5}, attrs()),
                new Sweep("GlobalAveragePool", new long[] {2, 5, 9}, attrs()),
                new Sweep("GlobalMaxPool", new long[] {1, 3, 4, 3, 5}, attrs()));
        Random r = new Random(11);
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < sweeps.size(); i++) {
            Sweep s = sweeps.get(i);
            tests.add(DynamicTest.dynamicTest(i + " " + s.type() + " " + Arrays.toString(s.x()) + " " + s.attributes().keySet(), () -> {
                List<Value> values = List.of(floats(random(r, s.x()), s.x()));
                try {
                    Node node = node(s.type(), 1, 1, s.attributes());
                    Op op = op(s.type(), 19);
                    Inputs in = inputs(values, false);
                    List<Value> java = run(op, node, in, values, Backend.JAVA, 19);
                    float[] want = ((Value.Floats) java.get(0)).tensor().toArray();
                    float[] got = runLowered(op, node, in, ((Value.Floats) values.get(0)).tensor(), java.get(0).shape(), null, 19);
                    close(java);
                    assertNotNull(got, "lowered");
                    Fixtures.assertClose(want, got, 1e-5, "oneDNN vs Java");
                } finally {
                    close(values);
                }
            }));
        }
        return tests.stream();
    }

    /** MaxPool on uint8/int8 (opset 12): same type out, hand-checked. */
    @Test
    void integerMaxPool() {
        for (DataType t : List.of(DataType.UINT8, DataType.INT8)) {
            long[] data = t == DataType.UINT8 ? new long[] {1, 200, 3, 4, 5, 6, 255, 8, 9} : new long[] {-1, -128, 3, -4, 5, -6, 127, 8, -9};
            List<Value> values = List.of(new Value.Longs(t, new long[] {1, 1, 3, 3}, data));
            List<Value> got = run(op("MaxPool", 12), node("MaxPool", 1, 2, attrs("kernel_shape", new long[] {2, 2})), inputs(values, false), values, Backend.JAVA, 12);
            assertEquals(t, got.get(0).type());
            long[] want = t == DataType.UINT8 ? new long[] {200, 200, 255, 9} : new long[] {5, 5, 127, 8};
            assertArrayEquals(want, ((Value.Longs) got.get(0)).view(), t.toString());
            assertArrayEquals(t == DataType.UINT8 ? new long[] {1, 1, 6, 8} : new long[] {4, 4, 6, 7}, ((Value.Longs) got.get(1)).view(), t + " indices");
        }
    }

    /** Bad attributes: the message names the node, the attribute and the value. */
    @Test
    void errors() {
        long[] x = {1, 2, 5, 5};
        record Bad(String type, Map<String, Object> attributes, String... expected) {}
        List<Bad> bad = List.of(
                new Bad("MaxPool", attrs("kernel_shape", new long[] {2, 2}, "strides", new long[] {0, 1}), "strides [0, 1]", ">= 1"),
                new Bad("AveragePool", attrs("kernel_shape", new long[] {2, 2}, "pads", new long[] {0, -1, 0, 0}), "pads", "[0, -1, 0, 0]"),
                new Bad("MaxPool", attrs(), "kernel_shape is required"),
                new Bad("MaxPool", attrs("kernel_shape", new long[] {2}), "kernel_shape [2]", "2 values"),
                new Bad("MaxPool", attrs("kernel_shape", new long[] {0, 2}), "kernel_shape [0, 2]", ">= 1"),
                new Bad("AveragePool", attrs("kernel_shape", new long[] {2, 2}, "dilations", new long[] {1, 0}), "dilations [1, 0]"),
                new Bad("MaxPool", attrs("kernel_shape", new long[] {2, 2}, "ceil_mode", 2L), "ceil_mode 2"),
                new Bad("AveragePool", attrs("kernel_shape", new long[] {2, 2}, "count_include_pad", -1L), "count_include_pad -1"),
                new Bad("MaxPool", attrs("kernel_shape", new long[] {2, 2}, "storage_order", 3L), "storage_order 3"),
                new Bad("MaxPool", attrs("kernel_shape", new long[] {2, 2}, "auto_pad", "FULL"), "auto_pad FULL"),
                new Bad("MaxPool", attrs("kernel_shape", new long[] {4, 4}, "dilations", new long[] {2, 2}), "dilated extent 7", "padded input 5"),
                new Bad("LpPool", attrs("kernel_shape", new long[] {2, 2}, "p", 0L), "p 0"),
                new Bad("GlobalLpPool", attrs("p", -2L), "p -2"));
        for (Bad b : bad) {
            List<Value> values = List.of(floats(new float[50], x));
            try {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> op(b.type(), 19).prepare(node(b.type(), 1, 1, b.attributes()), inputs(values, false), new Op.Context(Backend.JAVA, 19)), b.toString());
                assertTrue(e.getMessage().startsWith(b.type() + " node t_" + b.type() + ": "), e.getMessage());
                for (String part : b.expected()) assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
            } finally {
                close(values);
            }
        }
        List<Value> ints = List.of(new Value.Longs(DataType.INT8, x, new long[50]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> op("AveragePool", 19)
                .prepare(node("AveragePool", 1, 1, attrs("kernel_shape", new long[] {2, 2})), inputs(ints, false), new Op.Context(Backend.JAVA, 19)));
        assertTrue(e.getMessage().contains("int8 is not supported"), e.getMessage());
        List<Value> rank6 = List.of(floats(new float[16], 1, 1, 2, 2, 2, 2));
        try {
            e = assertThrows(IllegalArgumentException.class, () -> op("MaxPool", 19)
                    .prepare(node("MaxPool", 1, 1, attrs("kernel_shape", new long[] {1, 1, 1, 1})), inputs(rank6, false), new Op.Context(Backend.JAVA, 19)));
            assertTrue(e.getMessage().contains("not supported"), e.getMessage());
        } finally {
            close(rank6);
        }
    }
}
