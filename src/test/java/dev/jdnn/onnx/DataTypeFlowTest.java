package dev.jdnn.onnx;

import static dev.jdnn.onnx.OnnxLoaderTest.input;
import static dev.jdnn.onnx.OnnxLoaderTest.model;
import static dev.jdnn.onnx.OnnxLoaderTest.node;
import static dev.jdnn.onnx.OnnxLoaderTest.write;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.TypeProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Values that are not float32 flow at run time: an int64 graph input goes through integer arithmetic
 * (computed per run, not folded) to an int64 output, beside a float path and a folded Shape; on every
 * backend configuration, including a compiled plan that mixes native float ops and Java integer ops.
 * Integer results are exact; a wrongly typed input is refused with its name.
 */
class DataTypeFlowTest {

    static Stream<Arguments> configurations() {
        return Stream.of(Arguments.of(Backend.NATIVE, Optimizations.all()), Arguments.of(Backend.NATIVE, Optimizations.none()),
                Arguments.of(Backend.JAVA, Optimizations.none()));
    }

    private static ValueInfoProto intInput(String name, long n) {
        ValueInfoProto f = input(name, n);
        return f.toBuilder().setType(TypeProto.newBuilder().setTensorType(f.getType().getTensorType().toBuilder().setElemType(7))).build();
    }

    private static Path modelFile(Path dir) throws IOException {
        TensorProto one = TensorProto.newBuilder().setName("one").setDataType(7).addInt64Data(1).build();
        GraphProto g = GraphProto.newBuilder()
                .addInput(input("x", -1, 3)).addInput(intInput("idx", 4)).addInitializer(one)
                .addOutput(ValueInfoProto.newBuilder().setName("y")).addOutput(ValueInfoProto.newBuilder().setName("k"))
                .addOutput(ValueInfoProto.newBuilder().setName("s"))
                .addNode(node("Relu", "r", List.of("x"), List.of("r")))
                .addNode(node("Shape", "shape", List.of("x"), List.of("s")))
                .addNode(node("Reshape", "reshape", List.of("r", "s"), List.of("y")))
                .addNode(node("Mul", "sq", List.of("idx", "idx"), List.of("sq")))
                .addNode(node("Sub", "k", List.of("sq", "one"), List.of("k"))).build();
        return write(dir, model(13, g));
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void int64ValuesFlowAtRunTimeOnEveryBackend(Backend backend, Optimizations optimizations, @TempDir Path dir) throws IOException {
        try (Model m = Model.load(modelFile(dir));
             Session s = m.session(Session.Options.defaults().withBackend(backend).withOptimizations(optimizations));
             Tensor x = Tensor.of(new float[] {-1, 2, -3, 4, -5, 6}, 2, 3)) {
            assertEquals(DataType.INT64, m.inputTypes().get("idx"));
            for (long base : new long[] {3, -7}) {   // two runs: the integer path is computed per run
                try (Tensor idx = Tensor.ofLongs(new long[] {base, 0, 1 << 20, -1}, DataType.INT64, 4);
                     Result r = s.run(Map.of("x", x, "idx", idx), List.of("y", "k", "s"))) {
                    assertArrayEquals(new float[] {0, 2, 0, 4, 0, 6}, r.get("y").toArray(), 0f);
                    assertEquals(DataType.INT64, r.get("k").dtype());
                    assertArrayEquals(new long[] {base * base - 1, -1, (1L << 40) - 1, 0}, r.get("k").toLongArray());
                    assertArrayEquals(new long[] {2, 3}, r.get("s").toLongArray());
                }
            }
            // Into caller tensors (the allocation-free path on compiled plans): int64 outputs too.
            try (Tensor idx = Tensor.ofLongs(new long[] {2, 2, 2, 2}, DataType.INT64, 4);
                 Tensor y = Tensor.zeros(2, 3); Tensor k = Tensor.zeros(DataType.INT64, 4)) {
                Map<String, Tensor> outs = new HashMap<>(Map.of("y", y, "k", k));
                s.run(Map.of("x", x, "idx", idx), outs);
                assertArrayEquals(new long[] {3, 3, 3, 3}, k.toLongArray());
            }
            try (Tensor wrong = Tensor.zeros(4)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x, "idx", wrong), List.of("k")));
                assertTrue(e.getMessage().contains("idx") && e.getMessage().contains("int64"), e.getMessage());
            }
        }
    }
}
