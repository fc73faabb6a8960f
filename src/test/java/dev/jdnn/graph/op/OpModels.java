package dev.jdnn.graph.op;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
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
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test helpers for the reduction and normalisation ops: tiny ONNX models built in code, ONNX node tests
 * whose int64 inputs (axes, K) become initializers and whose double data becomes float32, and runs on
 * the three configurations (Java reference, native node by node, native compiled with every optimisation).
 */
final class OpModels {
    private OpModels() {}

    static final Path NODE_TESTS = dev.jdnn.onnx.OnnxNodeTests.NODE_TESTS;

    /** The three ways a model runs: name and session options. */
    static final Map<String, Session.Options> CONFIGS = configs();

    private static Map<String, Session.Options> configs() {
        Map<String, Session.Options> m = new LinkedHashMap<>();
        m.put("JAVA", Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()));
        m.put("NATIVE node by node", Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.none()));
        m.put("NATIVE compiled", Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.all()));
        return m;
    }

    static ValueInfoProto value(String name, int elemType, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    static AttributeProto attr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static AttributeProto attr(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }

    static NodeProto node(String op, List<String> in, List<String> out, AttributeProto... attrs) {
        return NodeProto.newBuilder().setOpType(op).setName(op + "_" + out.get(0)).addAllInput(in).addAllOutput(out).addAllAttribute(List.of(attrs)).build();
    }

    static TensorProto floats(String name, float[] v, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1).setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    static TensorProto longs(String name, long[] v, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7);
        for (long x : v) t.addInt64Data(x);
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    static Path write(Path dir, String file, int opset, GraphProto graph) throws IOException {
        ModelProto m = ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(graph).build();
        Path p = dir.resolve(file);
        Files.write(p, m.toByteArray());
        return p;
    }

    /** A one-node model {@code op(x, extra initializers...) → y} with x float32 of the given shape. */
    static Path oneNode(Path dir, int opset, String op, long[] xShape, List<TensorProto> initializers, int outputs, AttributeProto... attrs)
            throws IOException {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x", 1, xShape));
        List<String> in = new ArrayList<>(List.of("x"));
        for (TensorProto t : initializers) {
            g.addInitializer(t);
            in.add(t.getName());
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            out.add("y" + i);
            g.addOutput(ValueInfoProto.newBuilder().setName("y" + i));
        }
        g.addNode(node(op, in, out, attrs));
        return write(dir, "model.onnx", opset, g.build());
    }

    /** Runs {@code model} on each configuration; results keyed by configuration name (caller closes). */
    static Map<String, Result> runAll(Path model, Map<String, Tensor> inputs, List<String> outputs) {
        Map<String, Result> results = new LinkedHashMap<>();
        try (Model m = Model.load(model)) {
            for (Map.Entry<String, Session.Options> c : CONFIGS.entrySet()) {
                try (Session s = m.session(c.getValue())) {
                    results.put(c.getKey(), s.run(inputs, outputs));
                }
            }
        }
        return results;
    }

    /** The compiled native plan's explanation (one line per instruction). */
    static String explain(Path model, Map<String, long[]> shapes, List<String> outputs) {
        try (Model m = Model.load(model); Session s = m.session(CONFIGS.get("NATIVE compiled"))) {
            return String.join("\n", s.explain(shapes, outputs));
        }
    }

    /** Runs the one-input model on each configuration and returns output 0 of each (as float arrays, or longs). */
    static Map<String, Tensor> outputs(Path model, Tensor x, String output) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Map<String, Result> results = runAll(model, Map.of("x", x), List.of(output));
        for (Map.Entry<String, Result> r : results.entrySet()) {
            Tensor t = r.getValue().get(output);
            out.put(r.getKey(), t.dtype().isFloat() ? Tensor.copyOf(t) : Tensor.ofLongs(t.toLongArray(), t.dtype(), t.shape()));
            r.getValue().close();
        }
        return out;
    }

    /** ONNX's tolerance: |a − b| ≤ 1e-7 + 1e-3·|b|, NaN matching NaN. */
    static void assertOnnxClose(float[] want, float[] got, String what) {
        dev.jdnn.onnx.OnnxNodeTests.assertOnnxClose(want, got, what);
    }

    // ---- ONNX node tests with their int64 inputs as initializers and double data as float32 ----

    static TensorProto readProto(Path pb) throws IOException {
        try (InputStream in = Files.newInputStream(pb)) {
            return TensorProto.parseFrom(in);
        }
    }

    /** A double TensorProto as float32 (other types unchanged). */
    static TensorProto toFloat(TensorProto t) {
        if (t.getDataType() != 11) return t;
        double[] d;
        if (!t.getRawData().isEmpty()) {
            ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            d = new double[b.remaining() / 8];
            for (int i = 0; i < d.length; i++) d[i] = b.getDouble();
        } else {
            d = t.getDoubleDataList().stream().mapToDouble(Double::doubleValue).toArray();
        }
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return floats(t.getName(), f, t.getDimsList().stream().mapToLong(Long::longValue).toArray());
    }

    static Tensor tensor(TensorProto t) {
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        t = toFloat(t);
        ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if (t.getDataType() == 1) {
            float[] f = new float[(int) Tensor.elementCount(dims)];
            if (!t.getRawData().isEmpty()) for (int i = 0; i < f.length; i++) f[i] = b.getFloat();
            else for (int i = 0; i < f.length; i++) f[i] = t.getFloatData(i);
            return Tensor.of(f, dims);
        }
        if (t.getDataType() == 7) {
            long[] l = new long[(int) Tensor.elementCount(dims)];
            if (!t.getRawData().isEmpty()) for (int i = 0; i < l.length; i++) l[i] = b.getLong();
            else for (int i = 0; i < l.length; i++) l[i] = t.getInt64Data(i);
            return Tensor.ofLongs(l, DataType.INT64, dims);
        }
        throw new IllegalArgumentException("test data type " + t.getDataType());
    }

    /**
     * ONNX node test {@code name} rewritten so jdnn can run it: every int64 graph input becomes an
     * initializer holding its test value (axes, K must be constants for jdnn), double becomes float32,
     * and {@code opset} (if > 0) replaces the model's opset. Runs on every configuration against the
     * expected outputs; returns how many configurations ran.
     */
    static int runNodeTest(Path dir, String name, int opset) throws IOException {
        Path test = NODE_TESTS.resolve(name);
        ModelProto m;
        try (InputStream in = Files.newInputStream(test.resolve("model.onnx"))) {
            m = ModelProto.parseFrom(in);
        }
        GraphProto.Builder g = m.getGraph().toBuilder().clearInput();
        Path data = test.resolve("test_data_set_0");
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        List<ValueInfoProto> declared = m.getGraph().getInputList();
        try {
            for (int i = 0; i < declared.size(); i++) {
                ValueInfoProto v = declared.get(i);
                TensorProto t = readProto(data.resolve("input_" + i + ".pb")).toBuilder().setName(v.getName()).build();
                if (t.getDataType() == 7) {
                    g.addInitializer(t);
                    continue;
                }
                ValueInfoProto.Builder vb = v.toBuilder();
                vb.getTypeBuilder().getTensorTypeBuilder().setElemType(1);
                g.addInput(vb);
                inputs.put(v.getName(), tensor(t));
            }
            g.clearOutput();
            for (ValueInfoProto o : m.getGraph().getOutputList()) {
                ValueInfoProto.Builder ob = o.toBuilder();
                if (ob.getType().getTensorType().getElemType() == 11) ob.getTypeBuilder().getTensorTypeBuilder().setElemType(1);
                g.addOutput(ob);
            }
            List<String> outputs = m.getGraph().getOutputList().stream().map(ValueInfoProto::getName).toList();
            Path model = write(dir, name + ".onnx", opset > 0 ? opset : (int) m.getOpsetImport(0).getVersion(), g.build());
            Map<String, Result> results = runAll(model, inputs, outputs);
            try {
                for (Map.Entry<String, Result> r : results.entrySet()) {
                    for (int i = 0; i < outputs.size(); i++) {
                        try (Tensor want = tensor(readProto(data.resolve("output_" + i + ".pb")))) {
                            Tensor got = r.getValue().get(outputs.get(i));
                            String what = name + " on " + r.getKey() + " output " + outputs.get(i);
                            assertArrayEquals(want.shape(), got.shape(), what + " shape");
                            assertEquals(want.dtype(), got.dtype(), what + " type");
                            if (want.dtype().isFloat()) assertOnnxClose(want.toArray(), got.toArray(), what);
                            else assertArrayEquals(want.toLongArray(), got.toLongArray(), what);
                        }
                    }
                }
            } finally {
                results.values().forEach(Result::close);
            }
            return results.size();
        } finally {
            inputs.values().forEach(Tensor::close);
        }
    }
}
