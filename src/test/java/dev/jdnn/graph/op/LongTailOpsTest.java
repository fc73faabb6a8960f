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
