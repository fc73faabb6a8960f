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
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A decoder stage, ConvTranspose → BatchNormalization → Relu, runs in a compiled plan as one oneDNN
 * deconvolution with the batch norm folded into its weights and the ReLU as a post-op, and agrees with
 * the Java reference (which runs the three nodes as exported). A tap on the batch norm's output keeps
 * its unfused value.
 */
class ConvTransposeFusionTest {

    private static TensorProto floats(String name, Random r, float offset, long... dims) {
        int n = 1;
        for (long d : dims) n *= (int) d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = offset + (float) r.nextGaussian() * 0.5f;
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(1).setRawData(ByteString.copyFrom(OnnxLoaderTest.littleEndian(v)));
        for (long d : dims) b.addDims(d);
        return b.build();
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }

    @Test
    void convTransposeBatchNormReluIsOneDeconvolution(@TempDir Path dir) throws Exception {
        Random r = new Random(7);
        GraphProto g = GraphProto.newBuilder().addInput(input("x", -1, 4, 5, 6))
                .addInitializer(floats("w", r, 0, 4, 3, 3, 3)).addInitializer(floats("b", r, 0, 3))
                .addInitializer(floats("gamma", r, 1, 3)).addInitializer(floats("beta", r, 0, 3))
                .addInitializer(floats("mean", r, 0, 3)).addInitializer(floats("var", r, 1.5f, 3))
                .addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addNode(node("ConvTranspose", "up", List.of("x", "w", "b"), List.of("t"),
                        ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), ints("output_padding", 1, 1)))
                .addNode(node("BatchNormalization", "bn", List.of("t", "gamma", "beta", "mean", "var"), List.of("n")))
                .addNode(node("Relu", "relu", List.of("n"), List.of("y"))).build();
        float[] xs = new float[2 * 4 * 5 * 6];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
        try (Model m = Model.load(write(dir, model(13, g)));
             Session fused = m.session(Session.Options.defaults());
             Session java = m.session(Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()));
             Tensor x = Tensor.of(xs, 2, 4, 5, 6);
             Result got = fused.run(Map.of("x", x), List.of("y"));
             Result tapped = fused.run(Map.of("x", x), List.of("y", "n"));
             Result want = java.run(Map.of("x", x), List.of("y", "n"))) {
            List<String> plan = fused.explain(Map.of("x", x.shape()), List.of("y"));
            List<String> natives = plan.stream().filter(l -> l.startsWith("native")).toList();
            assertEquals(1, natives.size(), String.join("\n", plan));
            assertTrue(natives.get(0).contains("(folded)") && natives.get(0).contains("(eltwise post-op)"), natives.get(0));
            assertArrayEquals(new long[] {2, 3, 10, 12}, got.get("y").shape());
            assertArrayEquals(want.get("y").toArray(), got.get("y").toArray(), 1e-5f);
            assertArrayEquals(want.get("y").toArray(), tapped.get("y").toArray(), 1e-5f);
            assertArrayEquals(want.get("n").toArray(), tapped.get("n").toArray(), 1e-5f, "the tapped batch norm output is not fused away");
        }
    }
}
