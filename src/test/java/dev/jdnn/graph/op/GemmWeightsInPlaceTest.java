package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.TinyModels.attr;
import static dev.jdnn.graph.op.TinyModels.floats;
import static dev.jdnn.graph.op.TinyModels.input;
import static dev.jdnn.graph.op.TinyModels.node;
import static dev.jdnn.graph.op.TinyModels.output;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A classifier's Gemm (x · Wᵀ + c, W constant) lowers to oneDNN's inner product, whose weights are reordered
 * straight from the mapped model file when the floats are aligned there and alpha is 1, else staged (scaled by
 * alpha) in native memory. Whichever path, the compiled plan must agree with the Java reference; the weights'
 * offset in the file is moved through all four residues mod 4 by the model's producer name (a ModelProto field
 * serialised before the graph).
 */
class GemmWeightsInPlaceTest {
    private static final int M = 3, K = 70, N = 11;

    @ParameterizedTest(name = "producer name of {0} bytes, alpha {1}")
    @CsvSource({"1, 1.0", "2, 1.0", "3, 1.0", "4, 1.0", "1, 0.5", "2, 0.5", "3, 0.5", "4, 0.5"})
    void classifierGemmMatchesTheReferenceWhereverItsWeightsSitInTheFile(int shift, float alpha, @TempDir Path dir) throws IOException {
        float[] w = new float[N * K], c = new float[N], x = new float[M * K];
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(0.37 * i + shift);
        for (int i = 0; i < c.length; i++) c[i] = (float) Math.cos(1.3 * i);
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(0.11 * i) * 2;
        TensorProto weights = floats("w", new long[] {N, K}, w);
        GraphProto g = GraphProto.newBuilder().addInput(input("x", TensorProto.DataType.FLOAT_VALUE, M, K))
                .addInitializer(weights).addInitializer(floats("c", new long[] {N}, c))
                .addNode(node("Gemm", List.of("x", "w", "c"), List.of("y"), AttributeProto.newBuilder().setName("transB")
                        .setType(AttributeProto.AttributeType.INT).setI(1).build(), attr("alpha", alpha)))
                .addOutput(output("y")).build();
        ModelProto proto = ModelProto.newBuilder().setIrVersion(8).setProducerName("p".repeat(shift))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build();
        byte[] bytes = proto.toByteArray();
        Path file = dir.resolve("gemm.onnx");
        Files.write(file, bytes);
        byte[] raw = weights.getRawData().toByteArray();
        assertEquals(shift + 2, indexOf(bytes, raw) - indexOf(proto.toBuilder().clearProducerName().build().toByteArray(), raw),
                "the producer name (tag, length, bytes) moves the weights by 2 + its length: 3, 4, 5, 6 cover every residue mod 4");

        try (Model model = Model.load(file);
             Session compiled = model.session(Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.all()));
             Session java = model.session(Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()));
             Tensor in = Tensor.of(x, M, K)) {
            String plan = String.join("\n", compiled.explain(Map.of("x", new long[] {M, K}), List.of("y")));
            assertTrue(plan.contains("inner_product " + M + "x" + K), plan);
            try (Result r = compiled.run(Map.of("x", in))) {
                // c (read as an array for the bias) is copied when unaligned in the file; W never is.
                assertTrue(model.weightBytes().copied() <= N * Float.BYTES, "the compiled plan read W without a native copy: " + model.weightBytes());
                try (Result e = java.run(Map.of("x", in))) {
                    assertNull(TinyModels.compare(e.get("y").toArray(), r.get("y").toArray(), 1e-5));
                }
            }
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("weights not found in the serialised model");
    }
}
