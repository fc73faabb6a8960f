package dev.jdnn.onnx;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.jdnn.onnx.proto.OnnxProto.StringStringEntryProto;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Loading: data encodings, external data, opset and operator checks, on tiny models built here. */
class OnnxLoaderTest {

    static ValueInfoProto input(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("N") : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    static NodeProto node(String op, String name, List<String> in, List<String> out, AttributeProto... attrs) {
        return NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(in).addAllOutput(out).addAllAttribute(List.of(attrs)).build();
    }

    static ModelProto model(int opset, GraphProto graph) {
        return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setGraph(graph).build();
    }

    static Path write(Path dir, ModelProto m) throws IOException {
        Path file = dir.resolve("model.onnx");
        Files.write(file, m.toByteArray());
        return file;
    }

    static byte[] littleEndian(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    /** y = (x + w_raw) · w_typed, with w_raw in raw_data, w_typed in float_data, plus a Reshape by an int32 shape. */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void rawTypedAndExternalInitializers(Backend backend, @TempDir Path dir) throws IOException {
        Files.write(dir.resolve("weights.bin"), concat(new byte[8], littleEndian(10, 20, 30, 40)));
        TensorProto raw = TensorProto.newBuilder().setName("a").setDataType(1).addAllDims(List.of(4L))
                .setRawData(ByteString.copyFrom(littleEndian(1, 2, 3, 4))).build();
        TensorProto typed = TensorProto.newBuilder().setName("b").setDataType(1).addAllDims(List.of(4L)).addAllFloatData(List.of(2f, 2f, 0.5f, -1f)).build();
        TensorProto external = TensorProto.newBuilder().setName("c").setDataType(1).addAllDims(List.of(4L))
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin"))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue("8"))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue("16")).build();
        TensorProto shape = TensorProto.newBuilder().setName("shape").setDataType(6).addAllDims(List.of(2L)).addAllInt32Data(List.of(2, 2)).build();
        GraphProto g = GraphProto.newBuilder().addInput(input("x", 4)).addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addAllInitializer(List.of(raw, typed, external, shape))
                .addNode(node("Add", "add", List.of("x", "a"), List.of("s")))
                .addNode(node("Mul", "mul", List.of("s", "b"), List.of("p")))
                .addNode(node("Sub", "sub", List.of("p", "c"), List.of("q")))
                .addNode(node("Reshape", "reshape", List.of("q", "shape"), List.of("y"))).build();
        try (Model m = Model.load(write(dir, model(13, g)));
             Session s = m.session(Session.Options.defaults().withBackend(backend));
             Tensor x = Tensor.of(new float[] {1, 1, 1, 1}, 4);
             Result r = s.run(Map.of("x", x))) {
            assertArrayEquals(new long[] {2, 2}, r.get("y").shape());
            assertArrayEquals(new float[] {(1 + 1) * 2 - 10, (1 + 2) * 2 - 20, (1 + 3) * 0.5f - 30, (1 + 4) * -1 - 40}, r.get("y").toArray(), 0f);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void unsupportedOperatorsAreAllListedAtLoad(@TempDir Path dir) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(input("x", 4)).addOutput(ValueInfoProto.newBuilder().setName("z"))
                .addNode(node("Relu", "ok", List.of("x"), List.of("a")))
                .addNode(node("Frobnicate", "f1", List.of("a"), List.of("b")))
                .addNode(node("TfIdfVectorizer", "tfidf", List.of("b"), List.of("c")))
                .addNode(node("Frobnicate", "f2", List.of("c"), List.of("z"))).build();
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> Model.load(write(dir, model(13, g))));
        assertTrue(e.getMessage().contains("Frobnicate (nodes f1, f2)"), e.getMessage());
        assertTrue(e.getMessage().contains("TfIdfVectorizer (nodes tfidf)"), e.getMessage());
    }

    @Test
    void opsetMissingFilesAndBrokenGraphsAreClearErrors(@TempDir Path dir) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(input("x", 4)).addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addNode(node("Relu", "r", List.of("x"), List.of("y"))).build();
        String opset = assertThrows(OnnxFormatException.class, () -> Model.load(write(dir, model(30, g)))).getMessage();
        assertTrue(opset.contains("opset 30"), opset);
        String missing = assertThrows(OnnxFormatException.class, () -> Model.load(dir.resolve("absent.onnx"))).getMessage();
        assertTrue(missing.contains("does not exist"), missing);
        Path garbage = Files.writeString(dir.resolve("garbage.onnx"), "this is not protobuf at all \u0000\u0001");
        assertThrows(OnnxFormatException.class, () -> Model.load(garbage));
        GraphProto dangling = GraphProto.newBuilder().addInput(input("x", 4)).addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addNode(node("Relu", "r", List.of("nowhere"), List.of("y"))).build();
        String cycle = assertThrows(OnnxFormatException.class, () -> Model.load(write(dir, model(13, dangling)))).getMessage();
        assertTrue(cycle.contains("nowhere"), cycle);
        TensorProto shortRaw = TensorProto.newBuilder().setName("w").setDataType(1).addAllDims(List.of(4L))
                .setRawData(ByteString.copyFrom(littleEndian(1, 2))).build();
        GraphProto bad = g.toBuilder().addInitializer(shortRaw).build();
        String data = assertThrows(OnnxFormatException.class, () -> Model.load(write(dir, model(13, bad)))).getMessage();
        assertTrue(data.contains("needs 16 bytes of data, has 8"), data);
    }

    @Test
    void unsortedNodesAreOrderedAndOnlyNeededNodesRun(@TempDir Path dir) throws IOException {
        AttributeProto perm = AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS).addAllInts(List.of(1L, 0L)).build();
        GraphProto g = GraphProto.newBuilder().addInput(input("x", -1, 3)).addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addNode(node("Transpose", "t", List.of("a"), List.of("y"), perm))
                .addNode(node("Relu", "r", List.of("x"), List.of("a")))
                .addNode(node("Softmax", "unused", List.of("x"), List.of("never"))).build();
        try (Model m = Model.load(write(dir, model(13, g))); Session s = m.session(Session.Options.defaults());
             Tensor x = Tensor.of(new float[] {-1, 2, -3, 4, -5, 6}, 2, 3); Result r = s.run(Map.of("x", x), List.of("y"))) {
            assertArrayEquals(new long[] {3, 2}, r.get("y").shape());
            assertArrayEquals(new float[] {0, 4, 2, 0, 0, 6}, r.get("y").toArray(), 0f);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x), List.of("nope")));
            assertTrue(e.getMessage().contains("no tensor named 'nope'"));
            assertThrows(IllegalArgumentException.class, () -> s.run(Map.of(), List.of("y")));
            try (Tensor wrong = Tensor.zeros(2, 4)) {
                assertTrue(assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", wrong), List.of("y"))).getMessage().contains("declares"));
            }
        }
    }

    @Test
    void closedModelAndSessionThrow(@TempDir Path dir) throws IOException {
        GraphProto g = GraphProto.newBuilder().addInput(input("x", 2)).addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addNode(node("Relu", "r", List.of("x"), List.of("y"))).build();
        Model m = Model.load(write(dir, model(13, g)));
        Session s = m.session(Session.Options.defaults());
        try (Tensor x = Tensor.of(new float[] {-1, 1}, 2)) {
            s.run(Map.of("x", x)).close();
            s.close();
            s.close();
            assertThrows(IllegalStateException.class, () -> s.run(Map.of("x", x)));
            Session other = m.session(Session.Options.defaults());
            m.close();
            m.close();
            assertThrows(IllegalStateException.class, () -> other.run(Map.of("x", x)));
            assertThrows(IllegalStateException.class, () -> m.session(Session.Options.defaults()));
            other.close();
        }
    }
}
