package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.OpModels.*;
import static dev.jdnn.graph.op.RecurrentOpsTest.string;
import static dev.jdnn.graph.op.RecurrentOpsTest.strings;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Result;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LSTM, GRU and RNN on oneDNN ({@link Recurrent}'s lowering) against the Java reference and ONNX's node tests,
 * with the plan's {@code explain} showing which path ran: a compiled plan runs an exact node whose weights are
 * constants and whose Y alone is read as one native primitive ({@code native ... oneDNN lstm ...}); when Y_h or
 * Y_c is read, as a step that still calls oneDNN ({@code java ... (... oneDNN ...)}); what oneDNN cannot express
 * exactly (layout 1, clip, other activations, input_forget, shorter sequence_lens) runs the Java reference and
 * {@code explain} says why.
 *
 * <p>Tolerance against the Java reference (double accumulation per step): 2e-5·max(1, |java|). oneDNN
 * accumulates in float32 with its own exp/tanh; over 7 steps of random weights in [−0.5, 0.5] the largest
 * difference seen was ~1e-6.
 */
class RecurrentOneDnnTest {
    static final double TOLERANCE = 2e-5;

    @TempDir
    Path dir;

    /**
     * ONNX's node tests with every input but X made an initializer (how exported models carry weights): pass on
     * every configuration within ONNX's tolerance, and the compiled plan runs oneDNN for all of them.
     */
    @ParameterizedTest
    @ValueSource(strings = {"test_lstm_defaults", "test_lstm_with_initial_bias", "test_lstm_with_peepholes", "test_lstm_batchwise",
            "test_gru_defaults", "test_gru_with_initial_bias", "test_gru_seq_length", "test_gru_batchwise",
            "test_simple_rnn_defaults", "test_simple_rnn_with_initial_bias", "test_simple_rnn_batchwise", "test_rnn_seq_length"})
    void onnxNodeTestsWithConstantWeights(String name) throws IOException {
        Path test = NODE_TESTS.resolve(name);
        Assumptions.assumeTrue(Files.isDirectory(test), test + " is absent: install Debian's libonnx-testdata (.ci/run does)");
        ModelProto m;
        try (InputStream in = Files.newInputStream(test.resolve("model.onnx"))) {
            m = ModelProto.parseFrom(in);
        }
        GraphProto.Builder g = m.getGraph().toBuilder().clearInput();
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        List<ValueInfoProto> declared = m.getGraph().getInputList();
        List<String> outputs = m.getGraph().getOutputList().stream().map(ValueInfoProto::getName).toList();
        Map<String, Result> results;
        try {
            for (int i = 0; i < declared.size(); i++) {
                TensorProto t = readProto(test.resolve("test_data_set_0/input_" + i + ".pb")).toBuilder().setName(declared.get(i).getName()).build();
                if (i == 0) {
                    g.addInput(declared.get(0));
                    Tensor x = tensor(t);
                    inputs.put(declared.get(0).getName(), x);
                    shapes.put(declared.get(0).getName(), x.shape());
                } else {
                    g.addInitializer(t);
                }
            }
            Path model = write(dir, name + ".onnx", (int) m.getOpsetImport(0).getVersion(), g.build());
            results = runAll(model, inputs, outputs);
            try {
                for (Map.Entry<String, Result> r : results.entrySet()) {
                    for (int i = 0; i < outputs.size(); i++) {
                        try (Tensor want = tensor(readProto(test.resolve("test_data_set_0/output_" + i + ".pb")))) {
                            assertOnnxClose(want.toArray(), r.getValue().get(outputs.get(i)).toArray(), name + " " + outputs.get(i) + " on " + r.getKey());
                        }
                    }
                }
            } finally {
                results.values().forEach(Result::close);
            }
            String plan = explain(model, shapes, outputs);
            // All exact: the batchwise tests are layout 1 (ntc), the seq_length tests' sequence_lens are all S.
            String op = plan.lines().filter(l -> l.contains("LSTM") || l.contains("GRU") || l.contains("RNN")).findFirst().orElseThrow();
            assertTrue(op.contains("oneDNN"), op);
        } finally {
            inputs.values().forEach(Tensor::close);
        }
    }

    /**
     * Random weights, biases, peepholes and initial states: oneDNN (native node by node and compiled) against the
     * Java reference, forward, reverse and bidirectional, batch 1 and 3, hidden sizes not a multiple of 8, every
     * output; initial_h / initial_c either initializers or runtime inputs; layout 0 and (last column) 1.
     */
    @ParameterizedTest
    @CsvSource({
            "LSTM, forward, 1, 5, true, false, 0", "LSTM, reverse, 3, 13, true, true, 0", "LSTM, bidirectional, 3, 7, true, true, 0",
            "LSTM, bidirectional, 1, 5, false, false, 0", "LSTMP, bidirectional, 3, 6, true, false, 0", "LSTMP, forward, 2, 3, false, true, 0",
            "GRU, forward, 3, 5, true, false, 0", "GRU, bidirectional, 3, 11, true, true, 0", "GRU, reverse, 1, 9, false, false, 0",
            "GRULBR, forward, 1, 5, true, true, 0", "GRULBR, bidirectional, 3, 13, true, false, 0", "GRULBR, reverse, 3, 3, false, false, 0",
            "RNN, forward, 3, 5, true, false, 0", "RNN, bidirectional, 3, 9, true, true, 0", "RNNRELU, reverse, 1, 6, true, false, 0",
            "RNNRELU, bidirectional, 3, 5, false, false, 0",
            "LSTM, bidirectional, 3, 7, true, true, 1", "LSTMP, reverse, 2, 5, true, false, 1", "GRULBR, bidirectional, 3, 9, true, true, 1",
            "GRU, forward, 1, 6, false, false, 1", "RNN, bidirectional, 2, 5, true, false, 1"})
    void oneDnnMatchesJavaReference(String kind, String direction, int batch, int hidden, boolean initialStates, boolean runtimeStates,
                                    int layout) throws IOException {
        boolean batchFirst = layout == 1;
        String op = kind.startsWith("LSTM") ? "LSTM" : kind.startsWith("GRU") ? "GRU" : "RNN";
        int gates = op.equals("LSTM") ? 4 : op.equals("GRU") ? 3 : 1, dirs = direction.equals("bidirectional") ? 2 : 1;
        int steps = 7, input = 10;
        Random random = new Random(kind.hashCode() * 31L + hidden);
        long[] xShape = batchFirst ? new long[] {batch, steps, input} : new long[] {steps, batch, input};
        long[] stateShape = batchFirst ? new long[] {batch, dirs, hidden} : new long[] {dirs, batch, hidden};
        GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x", 1, xShape));
        List<String> in = new ArrayList<>(List.of("x", "W", "R", "B", ""));
        g.addInitializer(floats("W", random(random, dirs * gates * hidden * input), dirs, (long) gates * hidden, input));
        g.addInitializer(floats("R", random(random, dirs * gates * hidden * hidden), dirs, (long) gates * hidden, hidden));
        g.addInitializer(floats("B", random(random, dirs * 2 * gates * hidden), dirs, 2L * gates * hidden));
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>(Map.of("x", xShape));
        inputs.put("x", Tensor.of(random(random, steps * batch * input), xShape));
        List<String> states = op.equals("LSTM") ? List.of("h0", "c0") : List.of("h0");
        for (String s : states) {
            if (!initialStates) {
                in.add("");
                continue;
            }
            in.add(s);
            float[] v = random(random, dirs * batch * hidden);
            if (runtimeStates) {
                g.addInput(value(s, 1, stateShape));
                inputs.put(s, Tensor.of(v, stateShape));
                shapes.put(s, stateShape);
            } else {
                g.addInitializer(floats(s, v, stateShape));
            }
        }
        if (kind.equals("LSTMP")) {
            in.add("P");
            g.addInitializer(floats("P", random(random, dirs * 3 * hidden), dirs, 3L * hidden));
        }
        List<String> outs = op.equals("LSTM") ? List.of("y", "yh", "yc") : List.of("y", "yh");
        List<AttributeProto> attrs = new ArrayList<>(List.of(attr("hidden_size", (long) hidden), string("direction", direction)));
        if (batchFirst) attrs.add(attr("layout", 1L));
        if (kind.equals("GRULBR")) attrs.add(attr("linear_before_reset", 1L));
        if (kind.equals("RNNRELU")) attrs.add(strings("activations", dirs == 2 ? new String[] {"Relu", "Relu"} : new String[] {"Relu"}));
        g.addNode(node(op, in, outs, attrs.toArray(AttributeProto[]::new)));
        for (String o : outs) g.addOutput(ValueInfoProto.newBuilder().setName(o));
        Path model = write(dir, "model.onnx", 14, g.build());
        try {
            for (List<String> read : List.of(outs, List.of("y"))) {
                Map<String, Result> results = runAll(model, inputs, read);
                try (Result java = results.get("JAVA")) {
                    for (String config : List.of("NATIVE node by node", "NATIVE compiled")) {
                        try (Result r = results.get(config)) {
                            for (String o : read) {
                                float[] want = java.get(o).toArray(), got = r.get(o).toArray();
                                double worst = 0;
                                for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]) / Math.max(1, Math.abs(want[i])));
                                assertTrue(worst <= TOLERANCE, kind + " " + direction + " " + o + " on " + config + ": worst relative difference " + worst);
                            }
                        }
                    }
                }
                String plan = explain(model, shapes, read);
                String line = plan.lines().filter(l -> l.contains(op + " oneDNN") || l.contains(": " + op)).findFirst().orElseThrow();
                // Y alone: one native primitive in the compiled plan; Y_h / Y_c read: a step calling oneDNN.
                assertTrue(line.startsWith(read.size() == 1 ? "native" : "java") && line.contains("oneDNN"), plan);
            }
        } finally {
            inputs.values().forEach(Tensor::close);
        }
    }

    /**
     * sequence_lens as a runtime input: a run whose lengths are all S goes through oneDNN, one with shorter lengths
     * through the Java reference (checked per run); both match the Java backend, and explain says so.
     */
    @ParameterizedTest
    @ValueSource(strings = {"7,7,7", "7,3,0"})
    void runtimeSequenceLengthsAreCheckedPerRun(String lengths) throws IOException {
        int steps = 7, batch = 3, input = 4, hidden = 5, gates = 3;
        Random random = new Random(3);
        GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x", 1, steps, batch, input)).addInput(value("lens", 6, batch))
                .addInitializer(floats("W", random(random, 2 * gates * hidden * input), 2, (long) gates * hidden, input))
                .addInitializer(floats("R", random(random, 2 * gates * hidden * hidden), 2, (long) gates * hidden, hidden))
                .addInitializer(floats("B", random(random, 2 * 2 * gates * hidden), 2, 2L * gates * hidden))
                .addNode(node("GRU", List.of("x", "W", "R", "B", "lens"), List.of("y", "yh"),
                        attr("hidden_size", (long) hidden), string("direction", "bidirectional"), attr("linear_before_reset", 1L)))
                .addOutput(ValueInfoProto.newBuilder().setName("y")).addOutput(ValueInfoProto.newBuilder().setName("yh"));
        Path model = write(dir, "model.onnx", 14, g.build());
        long[] lens = java.util.Arrays.stream(lengths.split(",")).mapToLong(Long::parseLong).toArray();
        try (Tensor x = Tensor.of(random(random, steps * batch * input), steps, batch, input);
             Tensor l = Tensor.ofLongs(lens, dev.jdnn.DataType.INT32, batch)) {
            Map<String, Result> results = runAll(model, Map.of("x", x, "lens", l), List.of("y", "yh"));
            try (Result java = results.get("JAVA"); Result node = results.get("NATIVE node by node"); Result compiled = results.get("NATIVE compiled")) {
                for (String o : List.of("y", "yh")) {
                    dev.jdnn.testing.Fixtures.assertClose(java.get(o).toArray(), node.get(o).toArray(), TOLERANCE, o + " node by node");
                    dev.jdnn.testing.Fixtures.assertClose(java.get(o).toArray(), compiled.get(o).toArray(), TOLERANCE, o + " compiled");
                }
            }
        }
        String plan = explain(model, Map.of("x", new long[] {steps, batch, input}, "lens", new long[] {batch}), List.of("y", "yh"));
        assertTrue(plan.contains("oneDNN lbr_gru bidirectional_concat") && plan.contains("the Java reference for a run whose sequence_lens are not all 7"), plan);
    }

    /** What oneDNN cannot compute exactly runs the Java reference, and explain says why. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "LSTM | clip=2.5 | Java reference: clip",
            "LSTM | input_forget=1 | Java reference: input_forget",
            "LSTM | activations=Sigmoid,Tanh,Relu | Java reference: activations [Sigmoid, Tanh, Relu]",
            "GRU | activations=HardSigmoid,Tanh | Java reference: activations [HardSigmoid, Tanh]",
            "RNN | activations=Softsign | Java reference: activations [Softsign]",
            "GRU | clip=1 | Java reference: clip",
    })
    void inexactNodesRunTheJavaReference(String op, String attribute, String reason) throws IOException {
        int gates = op.equals("LSTM") ? 4 : op.equals("GRU") ? 3 : 1, hidden = 5, input = 3;
        String[] kv = attribute.split("=");
        AttributeProto a = switch (kv[0]) {
            case "activations" -> strings(kv[0], kv[1].split(","));
            case "clip" -> attr(kv[0], Float.parseFloat(kv[1]));
            default -> attr(kv[0], Long.parseLong(kv[1]));
        };
        Random random = new Random(1);
        Path model = oneNode(dir, 14, op, new long[] {4, 2, input},
                List.of(floats("W", random(random, gates * hidden * input), 1, (long) gates * hidden, input),
                        floats("R", random(random, gates * hidden * hidden), 1, (long) gates * hidden, hidden)),
                1, a, attr("hidden_size", (long) hidden));
        String plan = explain(model, Map.of("x", new long[] {4, 2, input}), List.of("y0"));
        assertTrue(plan.lines().anyMatch(l -> l.startsWith("java") && l.contains(reason)), plan);
        try (Tensor x = Tensor.of(random(random, 24), 4, 2, input)) {
            Map<String, Result> results = runAll(model, Map.of("x", x), List.of("y0"));
            try (Result java = results.get("JAVA"); Result compiled = results.get("NATIVE compiled"); Result node = results.get("NATIVE node by node")) {
                assertArrayEquals(java.get("y0").toArray(), compiled.get("y0").toArray());
                assertArrayEquals(java.get("y0").toArray(), node.get("y0").toArray());
            }
        }
    }

    /**
     * The CRNN fixture's compiled plan (its LSTM one oneDNN primitive) runs into a caller tensor with 0 bytes
     * allocated per steady-state run on the calling thread (best of 3 windows of 200 runs after 200 to settle, as
     * TorchvisionModelsTest measures it), and its output matches the Java reference.
     */
    @org.junit.jupiter.api.Test
    void compiledCrnnRunAllocatesNothing() {
        Path model = RecurrentOpsTest.FIX.resolve("crnn_opset14.onnx");
        var threadBean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        Random random = new Random(7);
        try (dev.jdnn.Model m = dev.jdnn.Model.load(model);
             dev.jdnn.Session compiled = m.session(CONFIGS.get("NATIVE compiled"));
             dev.jdnn.Session java = m.session(CONFIGS.get("JAVA"));
             Tensor x = Tensor.of(random(random, 32 * 96), 1, 1, 32, 96);
             Tensor out = Tensor.zeros(24, 1, 37)) {
            Map<String, Tensor> inputs = Map.of("image", x);
            Map<String, Tensor> outputs = Map.of("logprobs", out);
            for (int i = 0; i < 200; i++) compiled.run(inputs, outputs);
            long perRun = Long.MAX_VALUE;
            for (int window = 0; window < 3 && perRun > 0; window++) {
                long before = threadBean.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 200; i++) compiled.run(inputs, outputs);
                perRun = Math.min(perRun, (threadBean.getCurrentThreadAllocatedBytes() - before) / 200);
            }
            assertEquals(0, perRun, "bytes allocated per steady-state run");
            try (Result want = java.run(inputs, List.of("logprobs"))) {
                dev.jdnn.testing.Fixtures.assertClose(want.get("logprobs").toArray(), out.toArray(), 1e-4, "CRNN logprobs");
            }
        }
    }

    /**
     * Reading Y_h too makes the GRU a step that calls oneDNN with every output (a native op has one output), and
     * that step allocates per run: a fixed handful of small objects (output tensors and their arena, lists),
     * whatever the sequence length — measured at 4 and 64 steps, equal within 256 B and under 16 KB — while Y
     * and Y_h still match the Java backend.
     */
    @org.junit.jupiter.api.Test
    void readingYhAllocatesABoundedAmountPerRun() throws IOException {
        var threadBean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        int batch = 2, input = 4, hidden = 5, gates = 3;
        long[] perRun = new long[2];
        int[] lengths = {4, 64};
        for (int k = 0; k < lengths.length; k++) {
            int steps = lengths[k];
            Random random = new Random(5);
            GraphProto g = GraphProto.newBuilder().addInput(value("x", 1, steps, batch, input))
                    .addInitializer(floats("W", random(random, gates * hidden * input), 1, (long) gates * hidden, input))
                    .addInitializer(floats("R", random(random, gates * hidden * hidden), 1, (long) gates * hidden, hidden))
                    .addNode(node("GRU", List.of("x", "W", "R"), List.of("y", "yh"), attr("hidden_size", (long) hidden)))
                    .addOutput(ValueInfoProto.newBuilder().setName("y")).addOutput(ValueInfoProto.newBuilder().setName("yh")).build();
            Path model = write(dir, "gru" + steps + ".onnx", 14, g);
            try (dev.jdnn.Model m = dev.jdnn.Model.load(model);
                 dev.jdnn.Session compiled = m.session(CONFIGS.get("NATIVE compiled"));
                 dev.jdnn.Session java = m.session(CONFIGS.get("JAVA"));
                 Tensor x = Tensor.of(random(random, steps * batch * input), steps, batch, input);
                 Tensor y = Tensor.zeros(steps, 1, batch, hidden); Tensor yh = Tensor.zeros(1, batch, hidden)) {
                Map<String, Tensor> inputs = Map.of("x", x), outputs = Map.of("y", y, "yh", yh);
                for (int i = 0; i < 200; i++) compiled.run(inputs, outputs);
                perRun[k] = Long.MAX_VALUE;
                for (int window = 0; window < 3; window++) {
                    long before = threadBean.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 200; i++) compiled.run(inputs, outputs);
                    perRun[k] = Math.min(perRun[k], (threadBean.getCurrentThreadAllocatedBytes() - before) / 200);
                }
                try (Result want = java.run(inputs, List.of("y", "yh"))) {
                    dev.jdnn.testing.Fixtures.assertClose(want.get("y").toArray(), y.toArray(), TOLERANCE, "y, " + steps + " steps");
                    dev.jdnn.testing.Fixtures.assertClose(want.get("yh").toArray(), yh.toArray(), TOLERANCE, "yh, " + steps + " steps");
                }
            }
        }
        System.out.println("GRU reading Y_h, compiled, bytes allocated per run: " + perRun[0] + " (4 steps), " + perRun[1] + " (64 steps)");
        assertTrue(perRun[1] < 16384, "bytes per run at 64 steps: " + perRun[1]);
        assertTrue(Math.abs(perRun[1] - perRun[0]) <= 256, "bytes per run depend on the sequence length: " + perRun[0] + " vs " + perRun[1]);
    }

    /** Uniform in [−0.5, 0.5]. */
    private static float[] random(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = random.nextFloat() - 0.5f;
        return v;
    }
}
