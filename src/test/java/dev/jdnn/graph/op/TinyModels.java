package dev.jdnn.graph.op;

import com.google.protobuf.ByteString;
import dev.jdnn.Backend;
import dev.jdnn.Session;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** One- and few-node ONNX models built in Java for op tests, and the three ways a session runs them. */
public final class TinyModels {
    private TinyModels() {}

    /** ONNX element type codes. */
    public static final int FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7;

    /** The three configurations every op runs in: compiled native plan, native node by node, Java reference. */
    public enum Config {
        COMPILED(Backend.NATIVE, Optimizations.all()),
        NODE_BY_NODE(Backend.NATIVE, Optimizations.none()),
        JAVA(Backend.JAVA, Optimizations.none());

        public final Backend backend;
        public final Optimizations optimizations;

        Config(Backend backend, Optimizations optimizations) {
            this.backend = backend;
            this.optimizations = optimizations;
        }

        public Session.Options options() {
            return Session.Options.defaults().withBackend(backend).withOptimizations(optimizations);
        }
    }

    public static ValueInfoProto input(String name, int elemType, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    public static ValueInfoProto output(String name) {
        return ValueInfoProto.newBuilder().setName(name).build();
    }

    public static NodeProto node(String op, List<String> in, List<String> out, AttributeProto... attrs) {
        return NodeProto.newBuilder().setOpType(op).setName(out.get(0)).addAllInput(in).addAllOutput(out).addAllAttribute(List.of(attrs)).build();
    }

    public static AttributeProto attr(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    public static AttributeProto attr(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(v)).build();
    }

    public static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }

    public static TensorProto floats(String name, long[] dims, float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT).setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    public static TensorProto int64s(String name, long[] dims, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(INT64);
        for (long d : dims) t.addDims(d);
        for (long x : v) t.addInt64Data(x);
        return t.build();
    }

    public static Path write(Path dir, String file, int opset, GraphProto graph) throws IOException {
        ModelProto m = ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(graph).build();
        Path p = dir.resolve(file);
        Files.write(p, m.toByteArray());
        return p;
    }

    /** Whether expected and actual agree: NaN with NaN, infinities exactly, else within tol·max(1, |expected|). */
    public static String compare(float[] expected, float[] actual, double tol) {
        if (expected.length != actual.length) return "length " + actual.length + " != " + expected.length;
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            if (Float.isNaN(e) || Float.isInfinite(e)) {
                if (Float.compare(e, a) != 0 && !(Float.isNaN(e) && Float.isNaN(a))) return "element " + i + ": expected " + e + ", got " + a;
                continue;
            }
            if (!(Math.abs((double) a - e) <= tol * Math.max(1, Math.abs(e)))) return "element " + i + ": expected " + e + ", got " + a;
        }
        return null;
    }
}
