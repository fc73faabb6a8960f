package dev.jdnn.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jdnn.Model;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Per-layer times of jdnn beside ONNX Runtime's on one model: jdnn's {@code Session.profile} (what
 * {@code ./jdnn explain --profile} prints: each compiled instruction and the graph nodes fused into it) and
 * ONNX Runtime's own profiler ({@code SessionOptions.enableProfiling}: a Chrome-trace JSON with one
 * {@code <node>_kernel_time} event per node and run). Each jdnn instruction is matched with the ORT nodes of
 * the same ONNX node names; ORT nodes that match no instruction (ORT's own fused or inserted nodes, e.g.
 * layout reorders) are listed apart. Both runtimes run {@code rounds} alternating rounds of {@code runs}
 * profiled runs in one process, so a busy machine slows both alike; the per-layer means are over all rounds.
 *
 * <pre>bench/layer-compare.sh models/mobilenet_v3_large.onnx input=1,3,224,224 [threads] [runs] [rounds]</pre>
 *
 * Profiling adds a little per instruction to both (jdnn: a clock read and a stream wait per instruction;
 * ORT: an event per node), so the totals here are not latency figures (ModelBench measures those).
 */
public final class LayerCompare {
    private LayerCompare() {}

    /** One jdnn instruction: its time and the ONNX node names it runs. */
    record Instruction(String text, double millis, List<String> nodes) {}


    // "    0.625 ms   5.5%  native  /classifier/classifier.3/Gemm: inner_product ... + /a/b/HardSigmoid as ..."
    private static final Pattern LINE = Pattern.compile("^\\s*([0-9.]+) ms\\s+[0-9.]+%\\s+(\\w+)\\s+(.*)$");
    private static final Pattern FUSED = Pattern.compile(" \\+ (\\S+) (?:as |\\()");

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: LayerCompare MODEL.onnx NAME=d0,d1,... [threads=1] [runs=100] [rounds=3]");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        String[] nameDims = args[1].split("=", 2);
        long[] shape = java.util.Arrays.stream(nameDims[1].split(",")).mapToLong(Long::parseLong).toArray();
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : 100;
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        float[] data = new float[Math.toIntExact(Tensor.elementCount(shape))];
        Random random = new Random(42);
        for (int i = 0; i < data.length; i++) data[i] = (float) random.nextGaussian();

        Map<String, Instruction> jdnn = new LinkedHashMap<>();
        double jdnnWall = 0, ortWall = 0;
        Map<String, Double> ortNodes = new LinkedHashMap<>();
        Map<String, String> ortOps = new HashMap<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (Model m = Model.load(model);
             Session session = m.session(Session.Options.defaults().withThreads(threads));
             Tensor x = Tensor.of(data, shape);
             OnnxTensor ortX = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape)) {
            Map<String, Tensor> inputs = Map.of(nameDims[0], x);
            // Into caller-owned outputs, as ModelBench times jdnn (a Result's own tensors cost a shared arena each).
            Map<String, Tensor> outputs = new LinkedHashMap<>();
            m.tensorShapes(Map.of(nameDims[0], shape)).entrySet().stream().filter(e -> m.outputs().contains(e.getKey()))
                    .forEach(e -> outputs.put(e.getKey(), Tensor.zeros(e.getValue())));
            session.run(inputs, outputs);   // prepares the plan
            for (int round = 0; round < rounds; round++) {
                long start = System.nanoTime();
                for (int i = 0; i < runs; i++) session.run(inputs, outputs);
                jdnnWall += (System.nanoTime() - start) / 1e6 / runs;
                for (String line : session.profile(inputs, m.outputs(), runs)) {
                    Instruction ins = parse(line);
                    if (ins == null) continue;
                    jdnn.merge(ins.text(), ins, (a, b) -> new Instruction(a.text(), a.millis() + b.millis(), a.nodes()));
                }
                ortWall += profileOrt(env, model, nameDims[0], ortX, threads, runs, ortNodes, ortOps);
            }
            outputs.values().forEach(Tensor::close);
        }
        report(jdnn, ortNodes, ortOps, rounds, model, shape, threads, runs);
        System.out.printf(Locale.ROOT, "unprofiled latency, mean of %d runs × %d rounds: jdnn %.3f ms, ORT %.3f ms (jdnn/ORT %.2f)%n",
                runs, rounds, jdnnWall / rounds, ortWall / rounds, jdnnWall / ortWall);
    }

    static Instruction parse(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) return null;
        String rest = m.group(3);
        int colon = rest.indexOf(": ");
        if (colon < 0) return new Instruction(rest, Double.parseDouble(m.group(1)), List.of());
        List<String> nodes = new ArrayList<>();
        nodes.add(rest.substring(0, colon));
        Matcher fused = FUSED.matcher(rest);
        while (fused.find()) nodes.add(fused.group(1));
        return new Instruction(m.group(2) + "  " + rest, Double.parseDouble(m.group(1)), nodes);
    }

    /**
     * One ORT session with profiling on: a warm-up, then {@code runs} profiled runs; adds each node's mean ms.
     * Returns the mean ms of {@code runs} unprofiled runs timed before (on a session without profiling).
     */
    private static double profileOrt(OrtEnvironment env, Path model, String inputName, OnnxTensor x, int threads, int runs,
                                   Map<String, Double> nodes, Map<String, String> ops) throws OrtException, IOException {
        Path prefix = Files.createTempDirectory("ort-profile").resolve("ort");
        double wallMillis;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession warm = env.createSession(model.toString(), options)) {
                for (int i = 0; i < WARM_UP; i++) warm.run(Map.of(inputName, x)).close();
                long start = System.nanoTime();
                for (int i = 0; i < runs; i++) warm.run(Map.of(inputName, x)).close();
                wallMillis = (System.nanoTime() - start) / 1e6 / runs;
            }
            options.enableProfiling(prefix.toString());
            try (OrtSession ort = env.createSession(model.toString(), options)) {
                // The trace starts with the session: its first WARM_UP runs are in it too, and are skipped when read.
                for (int i = 0; i < WARM_UP + runs; i++) ort.run(Map.of(inputName, x)).close();
                Path trace = Path.of(ort.endProfiling());
                readTrace(Files.readString(trace), runs, nodes, ops);
                Files.deleteIfExists(trace);
            }
        }
        return wallMillis;
    }

    // Each event: {"cat" : "Node", ..., "dur" : 123, ..., "name" : "/a/Conv_kernel_time", "args" : {"op_name" : "FusedConv", ...}}
    // (args may nest further objects, so events are cut at depth-1 braces before the fields are read).
    private static final Pattern CAT = Pattern.compile("\"cat\"\\s*:\\s*\"Node\"");
    private static final Pattern DUR = Pattern.compile("\"dur\"\\s*:\\s*(\\d+)");
    private static final Pattern NAME = Pattern.compile("\"name\"\\s*:\\s*\"([^\"]*)_kernel_time\"");
    private static final Pattern OP = Pattern.compile("\"op_name\"\\s*:\\s*\"([^\"]*)\"");

    /** Runs of each ORT session before the timed or profiled ones. */
    private static final int WARM_UP = 20;

    /** Adds each node's mean ms over the trace's last {@code runs} events of it (the first {@link #WARM_UP} per node are skipped). */
    static void readTrace(String json, int runs, Map<String, Double> nodes, Map<String, String> ops) {
        Map<String, Integer> seen = new HashMap<>();
        int events = 0, depth = 0, start = -1;
        long micros = 0;
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char ch = json.charAt(i);
            if (inString) {
                if (ch == '\\') i++;
                else if (ch == '"') inString = false;
                continue;
            }
            if (ch == '"') inString = true;
            else if (ch == '{' && depth++ == 0) start = i;
            else if (ch == '}' && --depth == 0) {
                String event = json.substring(start, i + 1);
                Matcher name = NAME.matcher(event), dur = DUR.matcher(event), op = OP.matcher(event);
                if (CAT.matcher(event).find() && name.find() && dur.find() && seen.merge(name.group(1), 1, Integer::sum) > WARM_UP) {
                    events++;
                    micros += Long.parseLong(dur.group(1));
                    nodes.merge(name.group(1), Long.parseLong(dur.group(1)) / 1000.0 / runs, Double::sum);
                    ops.put(name.group(1), op.find() ? op.group(1) : "?");
                }
            }
        }
        System.err.printf(Locale.ROOT, "ORT trace: %d node events over %d runs, %.3f ms of kernel time per run%n", events, runs, micros / 1e3 / runs);
    }

    /**
     * The ONNX node an ORT profile event belongs to. ORT's NCHWc layout pass renames the convolutions it
     * rewrites after their output tensor ({@code /a/Conv_output_0_nchwc}, or the output of the activation
     * it fused, {@code /a/Relu_output_0_nchwc}); ONNX exporters name outputs {@code <node>_output_<i>}.
     */
    static List<String> candidates(String ortName) {
        List<String> names = new ArrayList<>(List.of(ortName));
        String n = ortName.endsWith("_nchwc") ? ortName.substring(0, ortName.length() - "_nchwc".length()) : ortName;
        names.add(n);
        names.add(n.replaceFirst("_output_\\d+$", ""));
        return names;
    }

    private static void report(Map<String, Instruction> jdnn, Map<String, Double> ort, Map<String, String> ortOps, int rounds,
                               Path model, long[] shape, int threads, int runs) {
        Map<String, String> instructionOfNode = new HashMap<>();
        for (Instruction ins : jdnn.values()) for (String node : ins.nodes()) instructionOfNode.putIfAbsent(node, ins.text());
        Map<String, Double> ortOfInstruction = new HashMap<>();
        Map<String, List<String>> ortOpsOfInstruction = new HashMap<>();
        Map<String, Double> unmatched = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : ort.entrySet()) {
            String instruction = candidates(e.getKey()).stream().map(instructionOfNode::get).filter(java.util.Objects::nonNull).findFirst().orElse(null);
            if (instruction == null) {
                unmatched.put(e.getKey(), e.getValue() / rounds);
                continue;
            }
            ortOfInstruction.merge(instruction, e.getValue() / rounds, Double::sum);
            ortOpsOfInstruction.computeIfAbsent(instruction, k -> new ArrayList<>()).add(ortOps.get(e.getKey()));
        }
        double jdnnTotal = 0, ortMatched = 0, ortOther = 0;
        List<String[]> rows = new ArrayList<>();
        for (Instruction ins : jdnn.values()) {
            double j = ins.millis() / rounds;
            Double o = ortOfInstruction.get(ins.text());
            jdnnTotal += j;
            if (o != null) ortMatched += o;
            rows.add(new String[] {fmt(j), o == null ? "—" : fmt(o), o == null ? "" : fmt(j - o),
                    String.join("+", ortOpsOfInstruction.getOrDefault(ins.text(), List.of())), ins.text()});
        }
        rows.sort((a, b) -> Double.compare(parseOr(b[2]), parseOr(a[2])));
        System.out.printf(Locale.ROOT, "%s %s, %d thread(s), %d profiled runs × %d rounds per runtime (means per run)%n",
                model.getFileName(), java.util.Arrays.toString(shape), threads, runs, rounds);
        System.out.printf(Locale.ROOT, "%9s %9s %9s  %-22s %s%n", "jdnn ms", "ORT ms", "diff", "ORT op(s)", "jdnn instruction");
        for (String[] r : rows) {
            String text = r[4].length() > 150 ? r[4].substring(0, 150) + "…" : r[4];
            System.out.printf(Locale.ROOT, "%9s %9s %9s  %-22s %s%n", r[0], r[1], r[2], r[3], text);
        }
        System.out.println("ORT nodes that match no jdnn instruction (ORT's own inserted nodes, or nodes jdnn fused under another name):");
        for (Map.Entry<String, Double> e : unmatched.entrySet()) {
            ortOther += e.getValue();
            System.out.printf(Locale.ROOT, "%9s %9s %9s  %-22s %s%n", "", fmt(e.getValue()), "", ortOps.get(e.getKey()), e.getKey());
        }
        System.out.printf(Locale.ROOT, "totals: jdnn %.3f ms; ORT %.3f ms (%.3f matched + %.3f unmatched)%n",
                jdnnTotal, ortMatched + ortOther, ortMatched, ortOther);
    }

    private static String fmt(double ms) {
        return String.format(Locale.ROOT, "%.3f", ms);
    }

    private static double parseOr(String s) {
        return s.isEmpty() ? Double.NEGATIVE_INFINITY : Double.parseDouble(s);
    }
}
