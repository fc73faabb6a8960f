package dev.jdnn.onnx;

import static dev.jdnn.onnx.OnnxLoaderTest.input;
import static dev.jdnn.onnx.OnnxLoaderTest.model;
import static dev.jdnn.onnx.OnnxLoaderTest.node;
import static dev.jdnn.onnx.OnnxLoaderTest.write;
import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DenseNet's pattern on plain NCHW tensors: each Concat takes every earlier feature map, so
 * {@code c1 = [a0, a1]} is a prefix of {@code c2 = [a0, a1, a2]}. With concat in place, a0..a2 are
 * written into c2's buffer and c1 is a view of its first channels; no Concat copies. The Java backend
 * is the oracle.
 */
class ConcatInPlaceTest {

    private static AttributeProto axis1() {
        return AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(1).build();
    }

    private static TensorProto scalar(String name, float v) {
        return TensorProto.newBuilder().setName(name).setDataType(1).setRawData(ByteString.copyFrom(OnnxLoaderTest.littleEndian(v))).build();
    }

    @Test
    void denseNetConcatChainRunsWithoutCopiesAndMatchesJava(@TempDir Path dir) throws IOException {
        GraphProto g = GraphProto.newBuilder()
                .addInput(input("x", -1, 2, 3, 5))
                .addInitializer(scalar("two", 2f)).addInitializer(scalar("minus", -0.5f))
                .addOutput(ValueInfoProto.newBuilder().setName("y1")).addOutput(ValueInfoProto.newBuilder().setName("y2"))
                .addNode(node("Relu", "a0", List.of("x"), List.of("a0")))
                .addNode(node("Mul", "a1", List.of("a0", "two"), List.of("a1")))
                .addNode(node("Concat", "c1", List.of("a0", "a1"), List.of("c1"), axis1()))
                .addNode(node("Mul", "y1", List.of("c1", "minus"), List.of("y1")))
                .addNode(node("Mul", "a2", List.of("x", "minus"), List.of("a2")))
                .addNode(node("Concat", "c2", List.of("a0", "a1", "a2"), List.of("c2"), axis1()))
                .addNode(node("Relu", "y2", List.of("c2"), List.of("y2"))).build();
        float[] values = new float[2 * 3 * 5];
        for (int i = 0; i < values.length; i++) values[i] = (i % 7) - 3.25f;
        List<String> requested = List.of("y1", "y2", "c1", "a1");
        try (Model m = Model.load(write(dir, model(13, g)));
             Session nativeSession = m.session(Session.Options.defaults());
             Session copying = m.session(Session.Options.defaults().withOptimizations(Optimizations.all().withConcatInPlace(false)));
             Session java = m.session(Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()));
             Tensor x = Tensor.of(values, 1, 2, 3, 5);
             Result r = nativeSession.run(Map.of("x", x), requested);
             Result c = copying.run(Map.of("x", x), requested);
             Result expected = java.run(Map.of("x", x), requested)) {
            List<String> plan = nativeSession.explain(Map.of("x", x.shape()), requested);
            assertEquals(2, plan.stream().filter(l -> l.contains("concat of") && l.contains("(in place")).count(), String.join("\n", plan));
            for (String name : requested) {
                assertArrayEquals(expected.get(name).toArray(), r.get(name).toArray(), 1e-6f, name + " (in place) vs Java");
                assertArrayEquals(expected.get(name).toArray(), c.get(name).toArray(), 1e-6f, name + " (copying) vs Java");
            }
            // A second run on other data: nothing from the first run's buffers leaks through.
            for (int i = 0; i < values.length; i++) values[i] = 1.5f - i * 0.25f;
            try (Tensor x2 = Tensor.of(values, 1, 2, 3, 5);
                 Result r2 = nativeSession.run(Map.of("x", x2), requested);
                 Result e2 = java.run(Map.of("x", x2), requested)) {
                for (String name : requested) assertArrayEquals(e2.get(name).toArray(), r2.get(name).toArray(), 1e-6f, name + " second run");
            }
        }
    }
}
