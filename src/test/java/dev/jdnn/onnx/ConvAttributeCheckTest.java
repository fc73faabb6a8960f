package dev.jdnn.onnx;

import static dev.jdnn.onnx.OnnxLoaderTest.input;
import static dev.jdnn.onnx.OnnxLoaderTest.model;
import static dev.jdnn.onnx.OnnxLoaderTest.node;
import static dev.jdnn.onnx.OnnxLoaderTest.write;
import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Conv attributes out of range are refused before any native call, with the node, the attribute and the value. */
class ConvAttributeCheckTest {

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }

    private static AttributeProto attribute(String spec) {
        String[] kv = spec.split("=");
        String[] parts = kv[1].split(" ");
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) values[i] = Long.parseLong(parts[i]);
        if (kv[0].equals("group")) return AttributeProto.newBuilder().setName("group").setType(AttributeProto.AttributeType.INT).setI(values[0]).build();
        return ints(kv[0], values);
    }

    @ParameterizedTest
    @CsvSource({
        "strides=0 1, strides",
        "dilations=1 0, dilations",
        "pads=0 0 0 -1, negative pads",
        "pads=0 0 0, pads has 3 values",
        "group=3, group 3",
        "dilations=9 9, larger than the padded input"})
    void badAttributesAreRefusedWithTheirName(String attr, String message, @TempDir Path dir) throws Exception {
        float[] w = new float[4 * 2 * 3 * 3];
        TensorProto weights = TensorProto.newBuilder().setName("w").setDataType(1).addAllDims(List.of(4L, 2L, 3L, 3L))
                .setRawData(ByteString.copyFrom(OnnxLoaderTest.littleEndian(w))).build();
        GraphProto g = GraphProto.newBuilder().addInput(input("x", 1, 2, 8, 8)).addInitializer(weights)
                .addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addNode(node("Conv", "conv1", List.of("x", "w"), List.of("y"), attribute(attr))).build();
        try (Model m = Model.load(write(dir, model(13, g)));
             Tensor x = Tensor.zeros(1, 2, 8, 8)) {
            for (Backend b : Backend.values()) {
                try (Session s = m.session(Session.Options.defaults().withBackend(b).withOptimizations(b == Backend.JAVA ? Optimizations.none() : Optimizations.all()))) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x), List.of("y")));
                    assertTrue(e.getMessage().contains("conv1") && e.getMessage().contains(message), e.getMessage());
                }
            }
        }
    }
}
