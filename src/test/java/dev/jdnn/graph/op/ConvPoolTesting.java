package dev.jdnn.graph.op;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.onnx.OnnxLoader;
import dev.jdnn.onnx.proto.OnnxProto;
import dev.jdnn.ops.reorder.NativeReorder;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.opentest4j.TestAbortedException;

/**
 * Shared by ConvTransposeOpsTest and PoolOpsTest: building nodes, running an {@link Op} on the Java
 * reference, node by node on oneDNN, and lowered (as a compiled plan would: input reordered into the
 * primitive's layout, output reordered back), and ONNX node-test directories read at op level.
 */
final class ConvPoolTesting {
    private ConvPoolTesting() {}

    static final Path NODE_TESTS = dev.jdnn.onnx.OnnxNodeTests.NODE_TESTS;

    static Node node(String op, int inputs, int outputs, Map<String, Object> attributes) {
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        for (int i = 0; i < inputs; i++) in.add("in" + i);
        for (int i = 0; i < outputs; i++) out.add("out" + i);
        return new Node("t_" + op, op, in, out, new Attributes(attributes));
    }

    static Map<String, Object> attrs(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** Inputs whose values are known for those marked constant, only shapes and types for the others. */
    static Inputs inputs(List<Value> values, boolean... constant) {
        List<long[]> shapes = new ArrayList<>();
        List<DataType> types = new ArrayList<>();
        List<Value> constants = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            Value v = values.get(i);
            shapes.add(v == null ? null : v.shape());
            types.add(v == null ? null : v.type());
            constants.add(v != null && i < constant.length && constant[i] ? v : null);
        }
        return new Inputs(shapes, types, constants);
    }

    static Value floats(float[] data, long... shape) {
        return new Value.Floats(Tensor.of(data, shape));
    }

    static float[] random(Random r, long[] shape) {
        float[] a = new float[(int) Ops.count(shape)];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** prepare + run on one backend; returns the outputs (caller closes). */
    static List<Value> run(Op op, Node node, Inputs in, List<Value> values, Backend backend, int opset) {
        try (Op.Step step = op.prepare(node, in, new Op.Context(backend, opset))) {
            List<Value> out = step.run(values);
            assertEquals(step.outputShapes().size(), out.size(), "outputs of " + node.label());
            for (int i = 0; i < out.size(); i++) {
                assertArrayEquals(step.outputShapes().get(i), out.get(i).shape(), "inferred shape of output " + i);
                assertEquals(step.outputTypes().get(i), out.get(i).type(), "inferred type of output " + i);
            }
            return out;
        }
    }

    static float[] runFloats(Op op, Node node, Inputs in, List<Value> values, Backend backend, int opset) {
        List<Value> out = run(op, node, in, values, backend, opset);
        float[] a = ((Value.Floats) out.get(0)).tensor().toArray();
        close(out);
        return a;
    }

    /**
     * The lowered form run as a compiled plan runs it: the single runtime input (input 0) reordered from
     * plain into {@link NativeOp#inputDesc}, the output reordered back to plain. Null if {@code lower} declined.
     */
    static float[] runLowered(Op op, Node node, Inputs in, Tensor x, long[] outShape, PostOp fused, int opset) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment plainIn = MemoryDescs.plain(a, x.shape());
            MemorySegment plainOut = MemoryDescs.plain(a, outShape);
            NativeOp lowered = op.lower(node, in, new Op.Lowering(List.of(plainIn), List.of(outShape), new Op.Context(Backend.NATIVE, opset), fused));
            if (lowered == null) return null;
            try (lowered) {
                return runNative(lowered, x, outShape);
            }
        }
    }

    /** Runs a lowered op on one plain input: reordered into its layout, the output reordered back to plain. */
    static float[] runNative(NativeOp lowered, Tensor x, long[] outShape) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment plainIn = MemoryDescs.plain(a, x.shape());
            MemorySegment plainOut = MemoryDescs.plain(a, outShape);
            {
                MemorySegment inDesc = lowered.inputDesc(0) == null ? plainIn : lowered.inputDesc(0);
                MemorySegment outDesc = lowered.outputDesc() == null ? plainOut : lowered.outputDesc();
                MemorySegment src = a.allocate(Math.max(64, MemoryDescs.size(inDesc)), 64);
                MemorySegment dst = a.allocate(Math.max(64, MemoryDescs.size(outDesc)), 64);
                MemorySegment scratch = a.allocate(Math.max(64, lowered.scratchpadBytes()), 64);
                try (NativeReorder in1 = new NativeReorder(plainIn, inDesc, "test input")) {
                    in1.run(x.segment(), src);
                }
                try (NativeOp.Bound b = lowered.bind(new MemorySegment[] {src}, dst, scratch)) {
                    b.run();
                }
                try (Tensor y = Tensor.zeros(outShape); NativeReorder back = new NativeReorder(outDesc, plainOut, "test output")) {
                    back.run(dst, y.segment());
                    return y.toArray();
                }
            }
        }
    }

    static void close(List<Value> values) {
        for (Value v : values) if (v instanceof Value.Floats f && !f.tensor().isClosed()) f.tensor().close();
    }

    /** |a − b| ≤ atol + rtol·|b| element-wise (ONNX's test tolerance form). */
    static void assertNear(float[] expected, float[] actual, double rtol, double atol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(expected[i]) && Float.isNaN(actual[i])) continue;
            if (!(Math.abs((double) actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) {
                fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    /** One ONNX node test read at op level: its single node, opset, inputs and expected outputs (caller closes). */
    record NodeCase(String name, Node node, int opset, List<Value> inputs, List<Value> expected) implements AutoCloseable {
        @Override public void close() {
            ConvPoolTesting.close(inputs);
            ConvPoolTesting.close(expected);
        }
    }

    static List<String> nodeTests(String regex) throws IOException {
        if (!Files.isDirectory(NODE_TESTS)) throw new TestAbortedException(NODE_TESTS + " is absent: install Debian's libonnx-testdata");
        try (Stream<Path> dirs = Files.list(NODE_TESTS)) {
            return dirs.map(p -> p.getFileName().toString()).filter(n -> n.matches(regex)).sorted().toList();
        }
    }

    static NodeCase nodeCase(String name) throws IOException {
        Path dir = NODE_TESTS.resolve(name);
        OnnxProto.ModelProto model;
        try (InputStream in = Files.newInputStream(dir.resolve("model.onnx"))) {
            model = OnnxProto.ModelProto.parseFrom(in);
        }
        int opset = 1;
        for (OnnxProto.OperatorSetIdProto id : model.getOpsetImportList()) if (id.getDomain().isEmpty() || id.getDomain().equals("ai.onnx")) opset = (int) id.getVersion();
        OnnxProto.NodeProto n = model.getGraph().getNode(0);
        Map<String, Object> a = new HashMap<>();
        for (OnnxProto.AttributeProto p : n.getAttributeList()) {
            switch (p.getType()) {
                case INT -> a.put(p.getName(), p.getI());
                case INTS -> a.put(p.getName(), p.getIntsList().stream().mapToLong(Long::longValue).toArray());
                case FLOAT -> a.put(p.getName(), p.getF());
                case STRING -> a.put(p.getName(), p.getS().toStringUtf8());
                default -> throw new TestAbortedException("attribute type " + p.getType());
            }
        }
        Node node = new Node(n.getName(), n.getOpType(), n.getInputList(), n.getOutputList(), new Attributes(a));
        List<Value> inputs = new ArrayList<>(), expected = new ArrayList<>();
        Path data = dir.resolve("test_data_set_0");
        for (int i = 0; Files.exists(data.resolve("input_" + i + ".pb")); i++) inputs.add(read(data.resolve("input_" + i + ".pb")));
        for (int i = 0; Files.exists(data.resolve("output_" + i + ".pb")); i++) expected.add(read(data.resolve("output_" + i + ".pb")));
        return new NodeCase(name, node, opset, inputs, expected);
    }

    private static Value read(Path pb) throws IOException {
        try (InputStream in = Files.newInputStream(pb)) {
            return OnnxLoader.tensor(OnnxProto.TensorProto.parseFrom(in), pb.getParent(), pb.toString());
        } catch (RuntimeException e) {
            throw new TestAbortedException("unsupported data in " + pb + ": " + e.getMessage());
        }
    }

    static String shapes(List<Value> values) {
        return values.stream().map(v -> v == null ? "-" : Arrays.toString(v.shape())).toList().toString();
    }
}
