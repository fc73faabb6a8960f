package dev.jdnn.onnx;

import static dev.jdnn.onnx.OnnxLoaderTest.input;
import static dev.jdnn.onnx.OnnxLoaderTest.littleEndian;
import static dev.jdnn.onnx.OnnxLoaderTest.model;
import static dev.jdnn.onnx.OnnxLoaderTest.node;
import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Value;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights held once: initializers are sliced from the mapped file (checked against protobuf-java's own
 * parse of the same tensors), external data is mapped the same way, and the reordered weights of compiled
 * plans are shared by sessions and batch sizes of one model and freed with the last plan using them.
 */
class WeightFootprintTest {

    /**
     * x N×8×12×12 → Conv 3×3 (bias) → BatchNorm → Relu → r → Conv 3×3 → Add r → Relu → y N×16×12×12. The second
     * conv reads r both as its source and as its residual (sum post-op), so it must not write over r.
     */
    static List<TensorProto> weights() {
        Random r = new Random(17);
        List<TensorProto> t = new ArrayList<>();
        t.add(floats("conv1.weight", r, 1.0f, 0f, 16, 8, 3, 3));
        t.add(floats("conv1.bias", r, 0.5f, 0f, 16));
        t.add(floats("bn.gamma", r, 0.3f, 1f, 16));
        t.add(floats("bn.beta", r, 0.3f, 0f, 16));
        t.add(floats("bn.mean", r, 0.3f, 0f, 16));
        t.add(floats("bn.var", r, 0.2f, 1f, 16));
        t.add(floats("conv2.weight", r, 0.2f, 0f, 16, 16, 3, 3));
        return t;
    }

    static TensorProto floats(String name, Random r, float scale, float offset, long... dims) {
        int n = (int) Tensor.elementCount(dims);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (offset + scale * Math.abs(r.nextGaussian()) * (name.endsWith("var") ? 1 : Math.signum(r.nextGaussian())));
        return TensorProto.newBuilder().setName(name).setDataType(1).addAllDims(Arrays.stream(dims).boxed().toList())
                .setRawData(ByteString.copyFrom(littleEndian(v))).build();
    }

    static GraphProto graph(List<TensorProto> initializers) {
        AttributeProto pads = AttributeProto.newBuilder().setName("pads").setType(AttributeProto.AttributeType.INTS).addAllInts(List.of(1L, 1L, 1L, 1L)).build();
        return GraphProto.newBuilder().addInput(input("x", -1, 8, 12, 12)).addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addAllInitializer(initializers)
                .addNode(node("Conv", "conv1", List.of("x", "conv1.weight", "conv1.bias"), List.of("c1"), pads))
                .addNode(node("BatchNormalization", "bn", List.of("c1", "bn.gamma", "bn.beta", "bn.mean", "bn.var"), List.of("b")))
                .addNode(node("Relu", "relu1", List.of("b"), List.of("r1")))
                .addNode(node("Conv", "conv2", List.of("r1", "conv2.weight"), List.of("c2"), pads))
                .addNode(node("Add", "add", List.of("c2", "r1"), List.of("s")))
                .addNode(node("Relu", "relu2", List.of("s"), List.of("y"))).build();
    }

    static Tensor randomInput(long batch) {
        Tensor x = Tensor.zeros(batch, 8, 12, 12);
        Random r = new Random(5 + batch);
        for (long i = 0; i < x.elementCount(); i++) x.setFlat(i, (float) r.nextGaussian());
        return x;
    }

    static float[] run(Session s, long batch) {
        try (Tensor x = randomInput(batch); Result r = s.run(Map.of("x", x))) {
            return r.get("y").toArray();
        }
    }

    @Test
    void initializersAreSlicedFromTheMappingWithTheValuesProtobufReads(@TempDir Path dir) throws IOException {
        // Names of every length mod 4 shift raw_data through every alignment: some are read in place, some copied.
        List<TensorProto> protos = new ArrayList<>();
        Random r = new Random(3);
        for (int i = 0; i < 8; i++) protos.add(floats("w" + "x".repeat(i), r, 1f, 0f, 5, 3));
        protos.add(TensorProto.newBuilder().setName("shape").setDataType(7).addAllDims(List.of(2L))
                .setRawData(ByteString.copyFrom(new byte[] {3, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0})).build());
        GraphProto g = GraphProto.newBuilder().addInput(input("x", 4)).addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addAllInitializer(protos).addNode(node("Relu", "r", List.of("x"), List.of("y"))).build();
        Path file = OnnxLoaderTest.write(dir, model(13, g));
        OnnxLoader.Loaded loaded = OnnxLoader.load(file);
        try {
            assertEquals(0, loaded.weights().copiedWeightBytes(), "nothing is copied before it is read");
            long floatBytes = 0;
            for (TensorProto p : protos) {
                Value want = OnnxLoader.tensor(p, dir, "oracle");   // protobuf-java's bytes, copied: the old path
                Value got = loaded.graph().constants().get(p.getName());
                if (want instanceof Value.Floats w) {
                    try (Tensor wt = w.tensor()) {
                        assertArrayEquals(wt.toArray(), ((Value.Floats) got).tensor().toArray(), 0f, p.getName());
                        floatBytes += wt.elementCount() * 4;
                    }
                } else {
                    assertArrayEquals(((Value.Longs) want).data(), ((Value.Longs) got).data(), p.getName());
                }
            }
            WeightStore store = loaded.weights();
            assertEquals(floatBytes, store.mappedWeightBytes(), "every float weight lives in the mapped file");
            assertTrue(store.unalignedWeightBytes() > 0 && store.unalignedWeightBytes() < floatBytes, "raw_data of every alignment: " + store.unalignedWeightBytes());
            assertEquals(store.unalignedWeightBytes(), store.copiedWeightBytes(), "reading the values above copied each unaligned weight once");
            Tensor inPlace = loaded.graph().constants().values().stream().filter(v -> v instanceof Value.Floats f && f.tensor().segment().isReadOnly())
                    .map(v -> ((Value.Floats) v).tensor()).findFirst().orElseThrow();
            assertThrows(IllegalArgumentException.class, () -> inPlace.setFlat(0, 1f), "mapped weights are read-only");
        } finally {
            loaded.release();
        }
    }

    @Test
    void sessionsAndBatchSizesShareReorderedWeightsAndTheLastPlanFreesThem(@TempDir Path dir) throws IOException {
        Path file = OnnxLoaderTest.write(dir, model(13, graph(weights())));
        try (Model m = Model.load(file); Session java = m.session(Session.Options.defaults().withBackend(Backend.JAVA))) {
            float[] want1 = run(java, 1), want2 = run(java, 2);
            assertEquals(0, m.weightBytes().reordered(), "nothing compiled yet");
            long afterFirst, held;
            long copiedByJava = m.weightBytes().copied();
            try (Model fresh = Model.load(file); Session a = fresh.session(Session.Options.defaults().withThreads(1))) {
                run(a, 1);
                assertTrue(fresh.weightBytes().copied() <= 5 * 16 * 4, "a compiled plan reads conv weights in place; at most bias and"
                        + " batch-norm vectors get copied: " + fresh.weightBytes().copied() + " of " + copiedByJava + " bytes the Java backend copied");
            }
            try (Session a = m.session(Session.Options.defaults().withThreads(1))) {
                assertArrayEquals(want1, run(a, 1), 1e-4f);
                afterFirst = m.nativeBytes();
                long reordered = m.weightBytes().reordered();
                assertTrue(reordered >= (16 * 8 * 9 + 16 * 16 * 9) * 4, "both convs' weights are reordered: " + reordered);
                try (Session b = m.session(Session.Options.defaults().withThreads(1))) {
                    assertArrayEquals(want1, run(b, 1), 1e-4f);
                    assertEquals(afterFirst, m.nativeBytes(), "a second session's plan reuses the first one's reordered weights");
                    List<String> explain = b.footprint(Map.of("x", new long[] {1, 8, 12, 12}), List.of("y"));
                    assertTrue(explain.stream().anyMatch(l -> l.contains("2 convolutions, 2 found their weights already reordered")), String.join("\n", explain));
                    assertTrue(explain.stream().anyMatch(l -> l.startsWith("memory: model weights")), String.join("\n", explain));
                    assertArrayEquals(want2, run(a, 2), 1e-4f);
                    assertTrue(a.nativeBytes() > 0 && b.nativeBytes() > 0, "each session's activations are its own");
                    held = m.weightBytes().reordered();
                }
                assertEquals(held, m.weightBytes().reordered(), "closing b frees nothing: every weight it used, a uses too");
            }
            assertEquals(0, m.weightBytes().reordered(), "the last plan using the reordered weights freed them");
        }
    }

    @Test
    void externalDataIsMappedAndMatchesEmbeddedWeights(@TempDir Path dir) throws IOException {
        List<TensorProto> embedded = weights();
        // ONNX's layout: each tensor's bytes in weights.bin at its offset; one deliberately at an unaligned offset.
        ByteArrayOutputStream bin = new ByteArrayOutputStream();
        List<TensorProto> external = new ArrayList<>();
        for (TensorProto t : embedded) {
            if (t.getName().equals("conv2.weight")) bin.write(new byte[] {7, 7, 7});   // pushes it off 4-byte alignment
            long offset = bin.size();
            bin.write(t.getRawData().toByteArray());
            external.add(t.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(entry("location", "weights.bin")).addExternalData(entry("offset", Long.toString(offset)))
                    .addExternalData(entry("length", Long.toString(t.getRawData().size()))).build());
        }
        Files.write(dir.resolve("weights.bin"), bin.toByteArray());
        Path ext = dir.resolve("external.onnx");
        Files.write(ext, model(13, graph(external)).toByteArray());
        Path emb = dir.resolve("embedded.onnx");
        Files.write(emb, model(13, graph(embedded)).toByteArray());
        assertTrue(Files.size(ext) < 2000, "the model file holds no weights");
        for (Backend backend : Backend.values()) {
            try (Model a = Model.load(emb); Model b = Model.load(ext);
                 Session sa = a.session(Session.Options.defaults().withBackend(backend));
                 Session sb = b.session(Session.Options.defaults().withBackend(backend))) {
                assertArrayEquals(run(sa, 2), run(sb, 2), 0f, backend + ": external data gives the embedded model's result");
                Model.WeightBytes w = b.weightBytes();
                assertEquals(a.weightBytes().mapped(), w.mapped());
            }
        }
        // A length past the end of the file is refused, naming the tensor.
        List<TensorProto> tooLong = new ArrayList<>(external);
        TensorProto last = tooLong.remove(tooLong.size() - 1);
        tooLong.add(last.toBuilder().setExternalData(2, entry("length", Long.toString(bin.size() + 1))).build());
        Files.write(ext, model(13, graph(tooLong)).toByteArray());
        String message = assertThrows(OnnxFormatException.class, () -> Model.load(ext)).getMessage();
        assertTrue(message.contains("conv2.weight") && message.contains("does not fit"), message);
    }

    @Test
    void truncatedModelIsAClearError(@TempDir Path dir) throws IOException {
        byte[] whole = model(13, graph(weights())).toByteArray();
        for (int cut : new int[] {whole.length / 2, whole.length - 3, 7}) {
            Path file = dir.resolve("cut" + cut + ".onnx");
            Files.write(file, Arrays.copyOf(whole, cut));
            OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> Model.load(file));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }
}
