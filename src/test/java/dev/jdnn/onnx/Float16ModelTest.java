package dev.jdnn.onnx;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Npy;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.onnx.proto.OnnxProto;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Float16 ONNX models against PyTorch (src/test/python/gen_float16_fixtures.py, fixtures in
 * src/test/resources/fixtures/float16): a small CNN (conv+BN+ReLU+maxpool, conv+BN+ReLU, global average pool,
 * linear) converted to float16 as onnxconverter-common does, with float16 input and output and with float32 ones
 * around Casts, on the three configurations. Oracles: torch's float32 model (the float16 model approximates it
 * within 1e-2) and torch in float32 with the weights rounded to float16 and the output rounded to float16 (what
 * computing the float16 model in float32 gives, within a float16 rounding step). Also: the compiled plan is native
 * with BN folded, Cast(to=FLOAT16) rounds as numpy does, and .npy float16 round trips.
 */
class Float16ModelTest {
    static final Path FIX = Fixtures.ROOT.resolve("float16");
    /** One float16 rounding step of outputs below 1 is at most 2^-11 · 1 ≈ 4.9e-4. */
    static final double FLOAT16_STEP = 5e-4;

    @TempDir
    Path dir;

    static final Map<String, Session.Options> CONFIGS = Map.of(
            "JAVA", Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()),
            "NATIVE node by node", Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.none()),
            "NATIVE compiled", Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.all()));

    /** Runs {@code model} on {@code x} on every configuration; checks output y's type and compares it with both oracles. */
    static void againstTorch(String model, Tensor x, DataType outputType) {
        float[] y32 = Fixtures.array(FIX.resolve("y32.npy"));
        float[] y16w = Fixtures.array(FIX.resolve("y16w.npy"));
        try (Model m = Model.load(FIX.resolve(model))) {
            for (Map.Entry<String, Session.Options> c : CONFIGS.entrySet()) {
                try (Session s = m.session(c.getValue()); Result r = s.run(Map.of("x", x))) {
                    Tensor y = r.get("y");
                    String what = model + " on " + c.getKey();
                    assertEquals(outputType, y.dtype(), what + ": output type");
                    assertArrayEquals(new long[] {2, 10}, y.shape(), what + ": output shape");
                    Fixtures.assertClose(y16w, y.toArray(), FLOAT16_STEP, what + " vs torch with float16 weights");
                    Fixtures.assertClose(y32, y.toArray(), 1e-2, what + " vs torch float32");
                }
            }
        }
    }

    @Test
    void float16CnnWithFloat16InputAndOutputMatchesTorch() {
        try (Tensor x = Fixtures.tensor(FIX.resolve("x.npy"))) {
            assertEquals(DataType.FLOAT16, x.dtype(), "numpy's float16 .npy reads as float16");
            againstTorch("cnn_fp16.onnx", x, DataType.FLOAT16);
        }
    }

    @Test
    void float16InputAlsoTakesFloat32() {
        try (Tensor x16 = Fixtures.tensor(FIX.resolve("x.npy")); Tensor x32 = x16.toType(DataType.FLOAT)) {
            againstTorch("cnn_fp16.onnx", x32, DataType.FLOAT16);
        }
    }

    @Test
    void float16CnnWithFloat32InputAndOutputAroundCastsMatchesTorch() {
        try (Tensor x16 = Fixtures.tensor(FIX.resolve("x.npy")); Tensor x32 = x16.toType(DataType.FLOAT)) {
            againstTorch("cnn_fp16_io32.onnx", x32, DataType.FLOAT);
        }
    }

    @Test
    void modelReportsDeclaredTypesAndRefusesFloat16ForAFloat32Input() throws IOException {
        try (Model m = Model.load(FIX.resolve("cnn_fp16.onnx"))) {
            assertEquals(DataType.FLOAT16, m.inputTypes().get("x"));
            // Widened once at load, counted as copied weights: conv1 8·3·3·3 + BN 4·8 + conv2 16·8·3·3 + 16 + BN 4·16 + fc 10·16 + 10 floats.
            long floats = 8 * 3 * 9 + 4 * 8 + 16 * 8 * 9 + 16 + 4 * 16 + 10 * 16 + 10;
            assertEquals(floats * Float.BYTES, m.weightBytes().copied());
        }
        try (Model m = Model.load(FIX.resolve("cnn_fp16_io32.onnx")); Session s = m.session(Session.Options.defaults());
             Tensor x16 = Fixtures.tensor(FIX.resolve("x.npy"))) {
            assertEquals(DataType.FLOAT, m.inputTypes().get("x"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x16)).close());
            assertTrue(e.getMessage().contains("float16") && e.getMessage().contains("x"), e.getMessage());
        }
    }

    @Test
    void runIntoCallerTensorsNarrowsFloat16Outputs() {
        float[] y16w = Fixtures.array(FIX.resolve("y16w.npy"));
        try (Model m = Model.load(FIX.resolve("cnn_fp16.onnx")); Session s = m.session(Session.Options.defaults());
             Tensor x = Fixtures.tensor(FIX.resolve("x.npy")); Tensor y = Tensor.zeros(DataType.FLOAT16, 2, 10);
             Tensor wrongType = Tensor.zeros(2, 10)) {
            s.run(Map.of("x", x), Map.of("y", y));
            Fixtures.assertClose(y16w, y.toArray(), FLOAT16_STEP, "run into a float16 tensor");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x), Map.of("y", wrongType)));
            assertTrue(e.getMessage().contains("float16"), e.getMessage());
        }
    }

    @Test
    void compiledPlanOfFloat16CnnIsNativeWithBatchNormFolded() {
        for (String model : List.of("cnn_fp16.onnx", "cnn_fp16_io32.onnx")) {
            try (Model m = Model.load(FIX.resolve(model)); Session s = m.session(CONFIGS.get("NATIVE compiled"))) {
            List<String> lines = s.explain(Map.of("x", new long[] {2, 3, 16, 16}), m.outputs());
            String all = String.join("\n", lines);
            assertTrue(lines.stream().noneMatch(l -> l.startsWith("java")), "a Java step in the float16 CNN's plan:\n" + all);
            assertEquals(2, lines.stream().filter(l -> l.startsWith("native") && l.contains("BatchNormalization (folded)")).count(), all);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("native") && l.contains("inner_product")), all);
            // The keep-io-types model's input Cast(to=FLOAT16) rounds inside the compiled plan.
            if (model.contains("io32")) assertTrue(lines.stream().anyMatch(l -> l.startsWith("native") && l.contains("Cast to float16")), all);
            }
        }
    }

    /** x → Cast(to=FLOAT16) → Cast(to=FLOAT): numpy's rounding (ties to even, past 65504 to ∞, subnormals) exactly. */
    @Test
    void castToFloat16RoundsAsNumpy() {
        float[] want = Fixtures.array(FIX.resolve("cast_y.npy"));
        try (Model m = Model.load(FIX.resolve("cast_roundtrip.onnx")); Tensor x = Fixtures.tensor(FIX.resolve("cast_x.npy"))) {
            for (Map.Entry<String, Session.Options> c : CONFIGS.entrySet()) {
                try (Session s = m.session(c.getValue()); Result r = s.run(Map.of("x", x))) {
                    float[] got = r.get("y").toArray();
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]),
                                "Cast round trip of " + x.getFlat(i) + " on " + c.getKey() + ": expected " + want[i] + ", got " + got[i]);
                    }
                }
            }
        }
    }

    /** A graph x (float16 [4]) + w (a float16 initializer) → y (float16), w in raw bytes or in int32_data (one 16-bit pattern per entry). */
    static OnnxProto.ModelProto addFloat16Weight(boolean raw, short... bits) {
        OnnxProto.TensorProto.Builder w = OnnxProto.TensorProto.newBuilder().setName("w").addDims(bits.length).setDataType(10);
        if (raw) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(2 * bits.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (short v : bits) b.putShort(v);
            w.setRawData(com.google.protobuf.ByteString.copyFrom(b.array()));
        } else {
            for (short v : bits) w.addInt32Data(v & 0xFFFF);
        }
        OnnxProto.GraphProto g = OnnxProto.GraphProto.newBuilder().addInput(typed("x", 10, bits.length)).addOutput(typed("y", 10, bits.length))
                .addInitializer(w).addNode(OnnxLoaderTest.node("Add", "add", List.of("x", "w"), List.of("y"))).build();
        return OnnxLoaderTest.model(13, g);
    }

    static OnnxProto.ValueInfoProto typed(String name, int elemType, long... dims) {
        OnnxProto.ValueInfoProto v = OnnxLoaderTest.input(name, dims);
        return v.toBuilder().setType(v.getType().toBuilder().setTensorType(v.getType().getTensorType().toBuilder().setElemType(elemType))).build();
    }

    @Test
    void float16WeightsInRawBytesAndTypedFieldsAreWidenedExactly() throws IOException {
        // IEEE half bit patterns: 1, -2, 0x3555 = 0.333251953125, 65504 (largest finite), 2^-24 (smallest subnormal).
        short[] bits = {0x3C00, (short) 0xC000, 0x3555, 0x7BFF, 0x0001};
        float[] want = {1f, -2f, 0.333251953125f, 65504f, 0x1p-24f};
        for (boolean raw : new boolean[] {true, false}) {
            Path file = dir.resolve("add_" + raw + ".onnx");
            Files.write(file, addFloat16Weight(raw, bits).toByteArray());
            try (Model m = Model.load(file); Tensor x = Tensor.zeros(DataType.FLOAT16, bits.length)) {
                for (Map.Entry<String, Session.Options> c : CONFIGS.entrySet()) {
                    try (Session s = m.session(c.getValue()); Result r = s.run(Map.of("x", x))) {
                        assertEquals(DataType.FLOAT16, r.get("y").dtype());
                        assertArrayEquals(want, r.get("y").toArray(), (raw ? "raw_data" : "int32_data") + " on " + c.getKey());
                    }
                }
            }
        }
    }

    @Test
    void typesStillNotHeldAreRefusedByName() throws IOException {
        OnnxProto.GraphProto doubleInput = OnnxProto.GraphProto.newBuilder().addInput(typed("x", 11, 4)).addOutput(typed("y", 11, 4))
                .addNode(OnnxLoaderTest.node("Relu", "relu", List.of("x"), List.of("y"))).build();
        Path file = dir.resolve("double.onnx");
        Files.write(file, OnnxLoaderTest.model(13, doubleInput).toByteArray());
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> Model.load(file).close());
        assertTrue(e.getMessage().contains("input x has element type double"), e.getMessage());

        OnnxProto.ModelProto bf16 = addFloat16Weight(true, (short) 0x3F80);
        bf16 = bf16.toBuilder().setGraph(bf16.getGraph().toBuilder().setInitializer(0, bf16.getGraph().getInitializer(0).toBuilder().setDataType(16))).build();
        Files.write(file, bf16.toByteArray());
        e = assertThrows(OnnxFormatException.class, () -> Model.load(file).close());
        assertTrue(e.getMessage().contains("tensor w has element type bfloat16"), e.getMessage());

        OnnxProto.GraphProto castToDouble = OnnxProto.GraphProto.newBuilder().addInput(typed("x", 10, 4)).addOutput(typed("y", 11, 4))
                .addNode(OnnxLoaderTest.node("Cast", "cast", List.of("x"), List.of("y"),
                        OnnxProto.AttributeProto.newBuilder().setName("to").setType(OnnxProto.AttributeProto.AttributeType.INT).setI(11).build())).build();
        Files.write(file, OnnxLoaderTest.model(13, castToDouble).toByteArray());
        try (Model m = Model.load(file); Session s = m.session(Session.Options.defaults()); Tensor x = Tensor.zeros(DataType.FLOAT16, 4)) {
            IllegalArgumentException cast = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x)).close());
            assertTrue(cast.getMessage().contains("to = 11 (double) is not supported"), cast.getMessage());
        }
    }

    @Test
    void npyFloat16RoundTripsBitExactly() throws IOException {
        try (Tensor x = Fixtures.tensor(FIX.resolve("x.npy"))) {
            Path file = dir.resolve("x16.npy");
            Npy.write(file, x);
            try (Tensor back = Npy.read(file)) {
                assertEquals(DataType.FLOAT16, back.dtype());
                assertArrayEquals(x.shape(), back.shape());
                assertArrayEquals(x.segment().toArray(java.lang.foreign.ValueLayout.JAVA_SHORT), back.segment().toArray(java.lang.foreign.ValueLayout.JAVA_SHORT));
            }
            assertTrue(Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1).contains("'descr': '<f2'"));
            byte[] numpy = Files.readAllBytes(FIX.resolve("x.npy"));
            byte[] ours = Files.readAllBytes(file);
            long dataBytes = x.elementCount() * 2;
            assertArrayEquals(java.util.Arrays.copyOfRange(numpy, (int) (numpy.length - dataBytes), numpy.length),
                    java.util.Arrays.copyOfRange(ours, (int) (ours.length - dataBytes), ours.length), "the data bytes numpy wrote");
        }
    }

    @Test
    void float16TensorsRoundOnWriteAndWidenExactly() {
        // 1 + 2^-11 is the tie between 1 and 1 + 2^-10: to even (1); 1 + 3·2^-11 rounds up to 1 + 2^-9; 70000 overflows.
        try (Tensor h = Tensor.of(new float[] {1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 70000f, -0x1p-24f}, DataType.FLOAT16, 4);
             Tensor f = h.toType(DataType.FLOAT); Tensor back = f.toType(DataType.FLOAT16)) {
            assertArrayEquals(new float[] {1f, 1 + 0x1p-9f, Float.POSITIVE_INFINITY, -0x1p-24f}, h.toArray());
            assertArrayEquals(h.toArray(), f.toArray());
            assertEquals(DataType.FLOAT16, back.dtype());
            assertEquals(2 * 4, back.segment().byteSize());
            h.setFlat(0, 0.1f);
            assertEquals(DataType.roundToFloat16(0.1f), h.getFlat(0));
            assertNotEquals(0.1f, h.getFlat(0));
            assertThrows(IllegalStateException.class, h::toLongArray);
            assertThrows(IllegalArgumentException.class, () -> Tensor.ofLongs(new long[] {1}, DataType.FLOAT16, 1));
        }
    }
}
