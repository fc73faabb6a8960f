package dev.jdnn.onnx;

import static dev.jdnn.onnx.OnnxLoaderTest.input;
import static dev.jdnn.onnx.OnnxLoaderTest.model;
import static dev.jdnn.onnx.OnnxLoaderTest.node;
import static dev.jdnn.onnx.OnnxLoaderTest.write;
import static org.junit.jupiter.api.Assertions.*;

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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A segmenter's last step, bilinear half_pixel upsampling by a fractional ratio given as sizes
 * (DeepLabV3-MobileNetV3 at 520×520: 33 → 520), runs on oneDNN's resampling and agrees with the Java
 * reference to 1e-5 of the input's range (the two map source coordinates in float and double).
 */
class ResizeFractionalNativeTest {

    private static AttributeProto text(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(com.google.protobuf.ByteString.copyFromUtf8(v)).build();
    }

    @ParameterizedTest
    @CsvSource({"33, 520, half_pixel", "33, 520, pytorch_half_pixel", "17, 64, half_pixel", "64, 17, half_pixel"})
    void fractionalLinearResizeRunsNativeAndMatchesJava(int in, int out, String mode, @TempDir Path dir) throws Exception {
        TensorProto sizes = TensorProto.newBuilder().setName("sizes").setDataType(7).addDims(4)
                .addInt64Data(1).addInt64Data(3).addInt64Data(out).addInt64Data(out).build();
        GraphProto g = GraphProto.newBuilder().addInput(input("x", 1, 3, in, in)).addInitializer(sizes)
                .addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addNode(node("Resize", "upsample", List.of("x", "", "", "sizes"), List.of("y"),
                        text("mode", "linear"), text("coordinate_transformation_mode", mode))).build();
        float[] xs = new float[3 * in * in];
        Random r = new Random(in * 31L + out);
        for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian() * 4;
        try (Model m = Model.load(write(dir, model(13, g)));
             Session nat = m.session(Session.Options.defaults());
             Session java = m.session(Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()));
             Tensor x = Tensor.of(xs, 1, 3, in, in);
             Result got = nat.run(Map.of("x", x), List.of("y"));
             Result want = java.run(Map.of("x", x), List.of("y"))) {
            List<String> plan = nat.explain(Map.of("x", x.shape()), List.of("y"));
            assertTrue(plan.stream().anyMatch(l -> l.startsWith("native") && l.contains("resampling linear")), String.join("\n", plan));
            float[] a = got.get("y").toArray(), b = want.get("y").toArray();
            double range = 0;
            for (float v : xs) range = Math.max(range, Math.abs(v));
            for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-5 * range, "element " + i);
        }
    }
}
