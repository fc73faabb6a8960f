package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.OpModels.*;
import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LSTM, GRU and RNN ({@link Recurrent}) against PyTorch (src/test/python/gen_recurrent_fixtures.py): torch 1.13's
 * exports at opsets 13 and 14 with a symbolic sequence length, each run at two lengths; per-batch sequence_lens
 * against torch's packed sequences; a CRNN line recogniser at two widths; on every configuration (Java, native
 * node by node, native compiled), within 1e-4 of max(1, |torch|). ONNX's own node tests for the three ops run
 * in {@link dev.jdnn.onnx.OnnxNodeConformanceTest}. Malformed attributes are refused naming the node.
 */
class RecurrentOpsTest {
    static final Path FIX = Fixtures.ROOT.resolve("recurrent");
    static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    /** Runs {@code model} on every configuration with the fixtures {@code prefix_<input>} and compares each output with {@code prefix_<output>}. */
    private static void againstTorch(Path model, String prefix, List<String> inputs, List<String> outputs) {
        Map<String, Tensor> given = new LinkedHashMap<>();
        for (String name : inputs) given.put(name, Fixtures.tensor(FIX.resolve(prefix + "_" + name + ".npy")));
        try {
            Map<String, Result> results = runAll(model, given, outputs);
            for (Map.Entry<String, Result> e : results.entrySet()) {
                try (Result r = e.getValue()) {
                    for (String out : outputs) {
                        try (Tensor want = Fixtures.tensor(FIX.resolve(prefix + "_" + out + ".npy"))) {
                            Tensor got = r.get(out);
                            String what = prefix + " " + out + " on " + e.getKey();
                            assertArrayEquals(want.shape(), got.shape(), what + " shape");
                            Fixtures.assertClose(want.toArray(), got.toArray(), TOLERANCE, what);
                        }
                    }
                }
            }
        } finally {
            given.values().forEach(Tensor::close);
        }
    }

    /** nn.LSTM(8, 12, num_layers=2, bidirectional=True, batch_first=True) with (h0, c0), at two sequence lengths. */
    @ParameterizedTest
    @CsvSource({"13, 5", "13, 9", "14, 5", "14, 9"})
    void torchTwoLayerBidirectionalLstm(int opset, int steps) {
        againstTorch(FIX.resolve("lstm2_bi_opset" + opset + ".onnx"), "lstm2_bi_t" + steps, List.of("x", "h0", "c0"), List.of("y", "h", "c"));
    }

    /** nn.GRU(6, 10, bidirectional=True) with h0 (exported with linear_before_reset=1), at two sequence lengths. */
    @ParameterizedTest
    @CsvSource({"13, 4", "13, 7", "14, 4", "14, 7"})
    void torchBidirectionalGru(int opset, int steps) {
        againstTorch(FIX.resolve("gru_bi_opset" + opset + ".onnx"), "gru_bi_t" + steps, List.of("x", "h0"), List.of("y", "h"));
    }

    /** nn.RNN(5, 7, nonlinearity="relu"): the activations attribute ["Relu"]. */
    @Test
    void torchReluRnn() {
        againstTorch(FIX.resolve("rnn_relu_opset14.onnx"), "rnn_relu_t6", List.of("x"), List.of("y", "h"));
    }

    /** Only the final cell state requested: the LSTMs compute it alone and it matches torch's c_n. */
    @Test
    void anySubsetOfOutputs() {
        againstTorch(FIX.resolve("lstm2_bi_opset14.onnx"), "lstm2_bi_t5", List.of("x", "h0", "c0"), List.of("c"));
        againstTorch(FIX.resolve("lstm2_bi_opset14.onnx"), "lstm2_bi_t9", List.of("x", "h0", "c0"), List.of("h"));
    }

    /**
     * A CRNN line recogniser (conv stages, the feature map as a W/4-step sequence, a bidirectional LSTM, Linear,
     * LogSoftmax) with a symbolic width, at widths 48 and 96; the compiled plan runs the convolutions natively and
     * the LSTM as one oneDNN primitive.
     */
    @ParameterizedTest
    @ValueSource(ints = {48, 96})
    void crnnLineRecogniser(int width) {
        Path model = FIX.resolve("crnn_opset14.onnx");
        againstTorch(model, "crnn_w" + width, List.of("image"), List.of("logprobs"));
        String plan = explain(model, Map.of("image", new long[] {2, 1, 32, width}), List.of("logprobs"));
        assertTrue(plan.lines().anyMatch(l -> l.startsWith("native") && l.contains("LSTM oneDNN lstm bidirectional_concat X " + width / 4 + "x2x128 hidden 32")), plan);
        assertTrue(plan.lines().anyMatch(l -> l.startsWith("native") && l.contains(": conv 1->8")), plan);
    }

    /**
     * sequence_lens [5, 2, 3] against torch's pack_padded_sequence on the same weights (rearranged into ONNX's gate
     * order by the script): Y is zero past each length, the reverse direction runs each sequence's valid steps
     * backwards, and Y_h (Y_c) hold the state after the last valid step.
     */
    @ParameterizedTest
    @ValueSource(strings = {"lstm", "gru"})
    void perBatchSequenceLengthsMatchPackedSequences(String kind) throws IOException {
        String p = "packed_" + kind + "_";
        List<TensorProto> inits = new ArrayList<>();
        for (String name : List.of("w", "r", "b")) inits.add(fixture(p + name));
        int[] lengths;
        try (Tensor t = Fixtures.tensor(FIX.resolve(p + "lengths.npy"))) {
            long[] l = t.toLongArray();
            lengths = new int[l.length];
            for (int i = 0; i < l.length; i++) lengths[i] = (int) l[i];
        }
        inits.add(int32("lengths", lengths));
        inits.add(fixture(p + "h0"));
        if (kind.equals("lstm")) inits.add(fixture(p + "c0"));
        List<AttributeProto> attrs = new ArrayList<>(List.of(attr("hidden_size", 6L), string("direction", "bidirectional")));
        if (kind.equals("gru")) attrs.add(attr("linear_before_reset", 1L));
        int outputs = kind.equals("lstm") ? 3 : 2;
        Path model = oneNode(dir, 14, kind.toUpperCase(), new long[] {5, 3, 4}, inits, outputs, attrs.toArray(AttributeProto[]::new));
        List<String> names = kind.equals("lstm") ? List.of("y", "h", "c") : List.of("y", "h");
        try (Tensor x = Fixtures.tensor(FIX.resolve(p + "x.npy"))) {
            for (Map.Entry<String, Result> e : runAll(model, Map.of("x", x), List.of("y0", "y1", "y2").subList(0, outputs)).entrySet()) {
                try (Result r = e.getValue()) {
                    for (int i = 0; i < outputs; i++) {
                        float[] want = Fixtures.array(FIX.resolve(p + names.get(i) + ".npy"));
                        Fixtures.assertClose(want, r.get("y" + i).toArray(), TOLERANCE, kind + " " + names.get(i) + " on " + e.getKey());
                    }
                }
            }
        }
    }

    /**
     * sequence_lens [3, 0] with initial_h 0.5 (zero_length_*.onnx from the script) against ONNX Runtime 1.29 Java's
     * outputs for X = 1..6, quoted here (torch refuses a length-0 packed sequence): the length-3 entry's Y and Y_h
     * in both directions, and zeros for the length-0 entry in Y and in Y_h, whatever the initial state.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "lstm | -0.09371627,0.1974817,0,0,-0.15456203,0.28257704,0,0,-0.48817572,0.017401312,0,0,-0.20295528,0.606754,0,0,"
                    + "-0.7801387,7.7101425E-4,0,0,-0.20398876,0.6715145,0,0 | -0.7801387,7.7101425E-4,0,0,-0.15456203,0.28257704,0,0",
            "gru | 0.61078465,0.5594567,0,0,0.6626997,0.7079377,0,0,0.7548293,0.58940023,0,0,0.66851175,0.6227307,0,0,"
                    + "0.8171082,0.59603715,0,0,0.70093143,0.53415847,0,0 | 0.8171082,0.59603715,0,0,0.6626997,0.7079377,0,0",
    })
    void zeroLengthSequenceMatchesOnnxRuntime(String kind, String y, String yh) {
        try (Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2, 1)) {
            for (Map.Entry<String, Result> e : runAll(FIX.resolve("zero_length_" + kind + ".onnx"), Map.of("X", x), List.of("Y", "Y_h")).entrySet()) {
                try (Result r = e.getValue()) {
                    Fixtures.assertClose(parse(y), r.get("Y").toArray(), 1e-5, kind + " Y on " + e.getKey());
                    Fixtures.assertClose(parse(yh), r.get("Y_h").toArray(), 1e-5, kind + " Y_h on " + e.getKey());
                }
            }
        }
    }

    private static float[] parse(String csv) {
        String[] parts = csv.split(",");
        float[] v = new float[parts.length];
        for (int i = 0; i < v.length; i++) v[i] = Float.parseFloat(parts[i].trim());
        return v;
    }

    /**
     * What exporters do not write, against a numpy implementation of ONNX's equations (float64, the script's
     * np_recurrent): per-direction activations with alphas and betas, clip, peepholes with initial states and
     * batch-first layout (LSTM); input_forget in reverse (LSTM); linear_before_reset 0 with other activations and
     * clip (GRU); one shared Affine list, and Softplus / ThresholdedRelu batch-first (RNN).
     */
    @ParameterizedTest
    @ValueSource(strings = {"lstm_activations", "lstm_input_forget", "gru_activations", "rnn_affine", "rnn_softplus"})
    void spellsOutOnnxEquations(String name) {
        List<String> outputs = name.startsWith("lstm") ? List.of("Y", "Y_h", "Y_c") : List.of("Y", "Y_h");
        try (Tensor x = Fixtures.tensor(FIX.resolve("spec_" + name + "_x.npy"))) {
            for (Map.Entry<String, Result> e : runAll(FIX.resolve("spec_" + name + ".onnx"), Map.of("X", x), outputs).entrySet()) {
                try (Result r = e.getValue()) {
                    for (String out : outputs) {
                        try (Tensor want = Fixtures.tensor(FIX.resolve("spec_" + name + "_" + out.toLowerCase() + ".npy"))) {
                            assertArrayEquals(want.shape(), r.get(out).shape(), name + " " + out + " shape on " + e.getKey());
                            Fixtures.assertClose(want.toArray(), r.get(out).toArray(), 1e-5, name + " " + out + " on " + e.getKey());
                        }
                    }
                }
            }
        }
    }

    /** A torch fixture as an initializer named after it. */
    private static TensorProto fixture(String file) {
        try (Tensor t = Fixtures.tensor(FIX.resolve(file + ".npy"))) {
            return floats(file, t.toArray(), t.shape());
        }
    }

    private static TensorProto int32(String name, int[] v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(6).addDims(v.length);
        for (int x : v) t.addInt32Data(x);
        return t.build();
    }

    static AttributeProto string(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(v)).build();
    }

    static AttributeProto strings(String name, String... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRINGS);
        for (String s : v) b.addStrings(ByteString.copyFromUtf8(s));
        return b.build();
    }

    static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) Math.sin(i * 0.37) * 0.5f;
        return v;
    }

    /**
     * A malformed attribute is refused on every backend with the node, the op and the offending value named:
     * an LSTM node with X 4×2×3, hidden size 5, W/R for {@code directions}.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "LSTM | 1 | direction=sideways | direction 'sideways' must be forward, reverse or bidirectional",
            "LSTM | 1 | hidden_size=4 | W [1, 20, 3] must be [1, 16, 3]",
            "LSTM | 1 | hidden_size=0 | hidden_size 0 must be >= 1",
            "LSTM | 1 | activations=Sigmoid,Tanh,Swish | activation 'Swish' is not one of",
            "LSTM | 1 | activations=Sigmoid,Tanh | activations [Sigmoid, Tanh] has 2 functions; LSTM forward takes 3",
            "LSTM | 2 | direction=forward | W [2, 20, 3] must be [1, 20, 3]",
            "LSTM | 1 | input_forget=2 | input_forget 2 must be 0 or 1",
            "LSTM | 1 | clip=-1 | clip -1.0 must be > 0",
            "LSTM | 1 | layout=3 | layout 3 must be 0 or 1",
            "GRU | 1 | linear_before_reset=5 | linear_before_reset 5 must be 0 or 1",
            "RNN | 1 | activations=tanh,tanh | activations [tanh, tanh] has 2 functions; RNN forward takes 1",
            "RNN | 1 | activation_alpha=0.5 | activation_alpha [0.5] / activation_beta [] has more values than the activations [Tanh] use",
    })
    void malformedAttributesNameTheNode(String op, int directions, String attribute, String message) throws IOException {
        int gates = switch (op) {
            case "LSTM" -> 4;
            case "GRU" -> 3;
            default -> 1;
        };
        int hidden = 5, input = 3;
        String[] kv = attribute.split("=");
        AttributeProto a = switch (kv[0]) {
            case "direction" -> string(kv[0], kv[1]);
            case "activations" -> strings(kv[0], kv[1].split(","));
            case "clip" -> attr(kv[0], Float.parseFloat(kv[1]));
            case "activation_alpha" -> AttributeProto.newBuilder().setName(kv[0]).setType(AttributeProto.AttributeType.FLOATS).addFloats(Float.parseFloat(kv[1])).build();
            default -> attr(kv[0], Long.parseLong(kv[1]));
        };
        List<AttributeProto> attrs = new ArrayList<>(List.of(a));
        if (!kv[0].equals("hidden_size")) attrs.add(attr("hidden_size", (long) hidden));
        if (directions == 2 && !kv[0].equals("direction")) attrs.add(string("direction", "bidirectional"));
        List<TensorProto> inits = List.of(
                floats("W", ramp(directions * gates * hidden * input), directions, gates * hidden, input),
                floats("R", ramp(directions * gates * hidden * hidden), directions, gates * hidden, hidden));
        Path model = oneNode(dir, 14, op, new long[] {4, 2, input}, inits, 2, attrs.toArray(AttributeProto[]::new));
        for (Map.Entry<String, Session.Options> c : CONFIGS.entrySet()) {
            try (Model m = Model.load(model); Session s = m.session(c.getValue()); Tensor x = Tensor.of(ramp(24), 4, 2, 3)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x), List.of("y1")).close(), c.getKey());
                assertTrue(e.getMessage().contains(op + " node " + op + "_y0: "), e.getMessage());
                assertTrue(e.getMessage().contains(message), e.getMessage());
            }
        }
    }

    /** layout is an opset-14 attribute: an opset-13 model carrying it is refused. */
    @Test
    void layoutBeforeOpset14IsRefused() throws IOException {
        Path model = oneNode(dir, 13, "RNN", new long[] {4, 2, 3},
                List.of(floats("W", ramp(15), 1, 5, 3), floats("R", ramp(25), 1, 5, 5)), 2, attr("hidden_size", 5L), attr("layout", 0L));
        try (Model m = Model.load(model); Session s = m.session(CONFIGS.get("JAVA")); Tensor x = Tensor.of(ramp(24), 4, 2, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x), List.of("y1")).close());
            assertTrue(e.getMessage().contains("RNN node RNN_y0: layout is an attribute from opset 14"), e.getMessage());
        }
    }

    /** A sequence_lens value outside [0, seq_length] is refused at run time, naming the node and the entry. */
    @Test
    void sequenceLengthOutOfRangeIsRefused() throws IOException {
        Path model = oneNode(dir, 14, "GRU", new long[] {4, 2, 3},
                List.of(floats("W", ramp(45), 1, 15, 3), floats("R", ramp(75), 1, 15, 5), floats("B", ramp(30), 1, 30), int32("lengths", new int[] {4, 7})),
                2, attr("hidden_size", 5L));
        for (Map.Entry<String, Session.Options> c : CONFIGS.entrySet()) {
            try (Model m = Model.load(model); Session s = m.session(c.getValue()); Tensor x = Tensor.of(ramp(24), 4, 2, 3)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x), List.of("y1")).close(), c.getKey());
                assertTrue(e.getMessage().contains("GRU node GRU_y0: sequence_lens[1] = 7 is outside [0, 4]"), e.getMessage());
            }
        }
    }
}
