package dev.jdnn.onnx;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.OperatorSetIdProto;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loader's own limits: protobuf nesting depth and initializers whose element count overflows. */
class LoaderLimitsTest {

    @Test
    void refusesMessagesNestedDeeperThanTheLimit(@TempDir Path dir) throws Exception {
        // An unknown field holding groups nested 80 deep: protobuf's default limit (100) would parse it, jdnn's 64 does not.
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(bytes);
        for (int i = 0; i < 80; i++) out.writeTag(99, com.google.protobuf.WireFormat.WIRETYPE_START_GROUP);
        for (int i = 0; i < 80; i++) out.writeTag(99, com.google.protobuf.WireFormat.WIRETYPE_END_GROUP);
        out.flush();
        Path file = Files.write(dir.resolve("deep.onnx"), bytes.toByteArray());
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxLoader.load(file));
        assertTrue(e.getMessage().contains("cannot read") && e.getMessage().contains("deep.onnx"), e.getMessage());
    }

    @Test
    void refusesInitializersWithMoreElementsThanATensorHolds(@TempDir Path dir) throws Exception {
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
                .setGraph(GraphProto.newBuilder().addInitializer(dev.jdnn.onnx.proto.OnnxProto.TensorProto.newBuilder().setName("w").setDataType(1)
                        .addDims(1L << 33).addDims(1L << 33))).build();
        Path file = Files.write(dir.resolve("huge.onnx"), m.toByteArray());
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxLoader.load(file));
        assertTrue(e.getMessage().contains("more elements than one tensor holds"), e.getMessage());
    }
}
