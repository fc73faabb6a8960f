package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.dnnl.Primitive;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.reorder.NativeReorder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The ONNX recurrent layers LSTM, GRU and RNN (opsets 7 and 14; 14 added {@code layout}), one family
 * sharing the attribute checks, the shapes and the time loop; only the cell differs. With S steps, batch
 * B, input size I, hidden size H, D directions (2 when bidirectional) and G gates (LSTM 4, GRU 3, RNN 1):
 * <pre>
 *   X            S×B×I   (layout 1: B×S×I)
 *   W            D×(G·H)×I     gates stacked in ONNX order: LSTM i,o,f,c; GRU z,r,h; RNN one
 *   R            D×(G·H)×H
 *   B            D×(2·G·H)     optional: Wb then Rb (zeros)
 *   sequence_lens B            optional: int32/int64, each in [0, S] (S)
 *   initial_h    D×B×H   (layout 1: B×D×H), optional (zeros); LSTM also initial_c, and P D×(3·H) peepholes i,o,f
 *   → Y          S×D×B×H (layout 1: B×S×D×H), Y_h D×B×H (layout 1: B×D×H), LSTM also Y_c; any subset requested
 * </pre>
 * Batch entry b runs its first {@code sequence_lens[b]} steps (the reverse direction runs them from the last
 * valid step back to step 0); Y is zero past a sequence's length and Y_h / Y_c hold the state after its last
 * valid step (zeros when the length is 0, whatever the initial state, as ONNX Runtime 1.29 does). Gate
 * pre-activations are clipped to ±{@code clip} when it is given. Activations are named case-insensitively
 * (PyTorch exports "tanh", tf2onnx "Tanh"), one list per direction, or one list (with its alphas and betas)
 * shared by both directions; alphas and betas are taken in order by the functions that use them.
 *
 * <p>The Java reference ({@link #run}) is plain loops with double accumulation per time step. On the native
 * backend a node whose result oneDNN's cells compute exactly ({@link #whyJava}) runs oneDNN's RNN primitive
 * ({@link OneDnn}): in a compiled plan as one native op ({@link #lower}), otherwise as a step calling it.
 */
public final class Recurrent implements Op {

    /** The three cells: gate count, activations per direction and their ONNX defaults. */
    enum Cell {
        LSTM(4, List.of("Sigmoid", "Tanh", "Tanh")),
        GRU(3, List.of("Sigmoid", "Tanh")),
        RNN(1, List.of("Tanh"));

        final int gates;
        final List<String> defaultActivations;

        Cell(int gates, List<String> defaultActivations) {
            this.gates = gates;
            this.defaultActivations = defaultActivations;
        }

        /** Outputs the op has: Y, Y_h, and for LSTM Y_c (input and output counts are checked by {@link Arity}). */
        int outputs() {
            return this == LSTM ? 3 : 2;
        }
    }

    private final Cell cell;

    private Recurrent(Cell cell) {
        this.cell = cell;
    }

    static void register(Registry.Table t) {
        for (Cell c : Cell.values()) {
            Recurrent op = new Recurrent(c);
            t.add(c.name(), 7, 13, op);
            t.add(c.name(), 14, op);
        }
    }

    /** One activation function of the ONNX list, with its alpha and beta (ONNX's defaults when not given). */
    record GateFunction(String name, double alpha, double beta) {
        static final List<String> NAMES = List.of("Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu",
                "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus");

        double apply(double x) {
            return switch (name) {
                case "Relu" -> Math.max(0, x);
                case "Tanh" -> Math.tanh(x);
                case "Sigmoid" -> 1 / (1 + Math.exp(-x));
                case "Affine" -> alpha * x + beta;
                case "LeakyRelu" -> x >= 0 ? x : alpha * x;
                case "ThresholdedRelu" -> x >= alpha ? x : 0;
                case "ScaledTanh" -> alpha * Math.tanh(beta * x);
                case "HardSigmoid" -> Math.min(Math.max(alpha * x + beta, 0), 1);
                case "Elu" -> x >= 0 ? x : alpha * (Math.exp(x) - 1);
                case "Softsign" -> x / (1 + Math.abs(x));
                case "Softplus" -> Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
                default -> throw new IllegalStateException(name);
            };
        }

        static boolean usesAlpha(String name) {
            return List.of("Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu").contains(name);
        }

        static boolean usesBeta(String name) {
            return List.of("Affine", "ScaledTanh", "HardSigmoid").contains(name);
        }

        /** ONNX's default alpha and beta of each function (those of the ONNX op of the same name). */
        static double defaultAlpha(String name) {
            return switch (name) {
                case "LeakyRelu" -> 0.01;
                case "HardSigmoid" -> 0.2;
                default -> 1.0;
            };
        }

        static double defaultBeta(String name) {
            return switch (name) {
                case "Affine" -> 0.0;
                case "HardSigmoid" -> 0.5;
                default -> 1.0;
            };
        }
    }

    /** The checked attributes and sizes of one node. */
    record Config(int steps, int batch, int inputSize, int hidden, int directions, boolean[] reverse, boolean batchFirst,
                  GateFunction[][] functions, double clip, boolean inputForget, boolean linearBeforeReset) {}

    Config config(Node node, Inputs in, int opset) {
        var a = node.attributes();
        String direction = a.getString("direction", "forward");
        int directions = switch (direction) {
            case "forward", "reverse" -> 1;
            case "bidirectional" -> 2;
            default -> throw error(node, "direction '" + direction + "' must be forward, reverse or bidirectional");
        };
        boolean[] reverse = directions == 2 ? new boolean[] {false, true} : new boolean[] {direction.equals("reverse")};
        if (opset < 14 && a.has("layout")) throw error(node, "layout is an attribute from opset 14 (the model is opset " + opset + ")");
        boolean batchFirst = Checks.flag(node, "layout", a.getInt("layout", 0));
        boolean inputForget = cell == Cell.LSTM && Checks.flag(node, "input_forget", a.getInt("input_forget", 0));
        boolean linearBeforeReset = cell == Cell.GRU && Checks.flag(node, "linear_before_reset", a.getInt("linear_before_reset", 0));
        double clip = Double.POSITIVE_INFINITY;
        if (a.has("clip")) {
            float c = a.getFloat("clip", 0);
            if (!(c > 0)) throw error(node, "clip " + c + " must be > 0");
            clip = c;
        }

        for (int i = 0; i < Math.min(in.count(), 8); i++) {
            if (i != 4) in.requireFloat(i, node, inputName(i));
        }
        long[] x = in.require(0, node, "X"), w = in.require(1, node, "W"), r = in.require(2, node, "R");
        if (x.length != 3) throw error(node, "X " + format(x) + " must have rank 3 (" + (batchFirst ? "batch×seq×input" : "seq×batch×input") + ")");
        if (w.length != 3) throw error(node, "W " + format(w) + " must have rank 3 (directions×" + cell.gates + "·hidden×input)");
        if (r.length != 3) throw error(node, "R " + format(r) + " must have rank 3 (directions×" + cell.gates + "·hidden×hidden)");
        long hidden = a.has("hidden_size") ? a.getInt("hidden_size", 0) : r[2];
        Checks.positive(node, "hidden_size", hidden);
        int h = (int) hidden, g = cell.gates;
        int steps = toInt(batchFirst ? x[1] : x[0], node, "sequence length"), batch = toInt(batchFirst ? x[0] : x[1], node, "batch");
        int inputSize = toInt(x[2], node, "input size");
        expect(node, "W", w, new long[] {directions, (long) g * h, inputSize});
        expect(node, "R", r, new long[] {directions, (long) g * h, h});
        if (in.has(3)) expect(node, "B", in.shape(3), new long[] {directions, 2L * g * h});
        if (in.has(4)) {
            if (in.type(4) != DataType.INT32 && in.type(4) != DataType.INT64) throw error(node, "sequence_lens must be int32 (or int64), got " + in.type(4).onnxName());
            expect(node, "sequence_lens", in.shape(4), new long[] {batch});
        }
        long[] state = batchFirst ? new long[] {batch, directions, h} : new long[] {directions, batch, h};
        if (in.has(5)) expect(node, "initial_h", in.shape(5), state);
        if (in.has(6)) expect(node, "initial_c", in.shape(6), state);
        if (in.has(7)) expect(node, "P", in.shape(7), new long[] {directions, 3L * h});
        arraySize(outputShapes(steps, batch, directions, h, batchFirst).get(0), node);
        arraySize(w, node);
        arraySize(r, node);
        arraySize(x, node);

        String[] names = a.getStrings("activations", null);
        int perDirection = cell.defaultActivations.size();
        if (names == null) {
            names = new String[perDirection * directions];
            for (int d = 0; d < directions; d++) for (int k = 0; k < perDirection; k++) names[d * perDirection + k] = cell.defaultActivations.get(k);
        } else if (names.length != perDirection * directions && !(names.length == perDirection && directions == 2)) {
            throw error(node, "activations " + Arrays.toString(names) + " has " + names.length + " functions; " + cell + " " + direction + " takes "
                    + perDirection * directions + " (" + perDirection + " per direction)");
        }
        float[] alphas = a.getFloats("activation_alpha", new float[0]), betas = a.getFloats("activation_beta", new float[0]);
        int nextAlpha = 0, nextBeta = 0;
        GateFunction[][] functions = new GateFunction[names.length / perDirection][perDirection];
        for (int i = 0; i < names.length; i++) {
            String name = canonical(node, names[i]);
            double alpha = GateFunction.defaultAlpha(name), beta = GateFunction.defaultBeta(name);
            if (GateFunction.usesAlpha(name) && nextAlpha < alphas.length) alpha = alphas[nextAlpha++];
            if (GateFunction.usesBeta(name) && nextBeta < betas.length) beta = betas[nextBeta++];
            functions[i / perDirection][i % perDirection] = new GateFunction(name, alpha, beta);
        }
        if (nextAlpha < alphas.length || nextBeta < betas.length) {
            throw error(node, "activation_alpha " + Arrays.toString(alphas) + " / activation_beta " + Arrays.toString(betas)
                    + " has more values than the activations " + Arrays.toString(names) + " use");
        }
        // One list for a bidirectional node: both directions use the same functions, alphas and betas.
        if (functions.length < directions) functions = new GateFunction[][] {functions[0], functions[0]};
        return new Config(steps, batch, inputSize, h, directions, reverse, batchFirst, functions, clip, inputForget, linearBeforeReset);
    }

    private String inputName(int i) {
        return List.of("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P").get(i);
    }

    private static void expect(Node node, String what, long[] got, long[] want) {
        if (!Arrays.equals(got, want)) throw error(node, what + " " + format(got) + " must be " + format(want) + " (from X, hidden_size and direction)");
    }

    private static String canonical(Node node, String name) {
        for (String known : GateFunction.NAMES) if (known.toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) return known;
        throw error(node, "activation '" + name + "' is not one of " + GateFunction.NAMES);
    }

    /** Y, Y_h and Y_c shapes for the layout. */
    static List<long[]> outputShapes(int steps, int batch, int directions, int hidden, boolean batchFirst) {
        long[] y = batchFirst ? new long[] {batch, steps, directions, hidden} : new long[] {steps, directions, batch, hidden};
        long[] state = batchFirst ? new long[] {batch, directions, hidden} : new long[] {directions, batch, hidden};
        return List.of(y, state, state.clone());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        Config c = config(node, in, ctx.opset());
        List<long[]> shapes = outputShapes(c.steps(), c.batch(), c.directions(), c.hidden(), c.batchFirst())
                .subList(0, Math.max(1, Math.min(cell.outputs(), node.outputs().size())));
        List<DataType> types = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) types.add(DataType.FLOAT);
        Step java = step(shapes, types, inputs -> run(node, c, inputs, shapes));
        if (ctx.backend() != Backend.NATIVE) return java;
        String why = whyJava(node, c, in);
        if (why != null) return described(java, "Java reference: " + why);
        OneDnn rnn;
        try {
            rnn = new OneDnn(node, cell, c, in.has(7), in.has(5) || in.has(6), true);
        } catch (RuntimeException e) {
            return described(java, "Java reference: oneDNN refused it (" + e.getMessage() + ")");
        }
        return new OneDnnStep(node, c, rnn, in, shapes, java);
    }

    /** {@code step} with the {@code explain} note saying how it runs. */
    private static Step described(Step step, String note) {
        return new Step() {
            @Override public List<long[]> outputShapes() { return step.outputShapes(); }
            @Override public List<DataType> outputTypes() { return step.outputTypes(); }
            @Override public List<Value> run(List<Value> inputs) { return step.run(inputs); }
            @Override public String description() { return note; }
            @Override public void close() { step.close(); }
        };
    }

    /**
     * Why oneDNN's primitive would not compute exactly ONNX's result for this node, or null when it does.
     * oneDNN's cells have fixed functions (LSTM and GRU: sigmoid gates, tanh candidate and output; RNN one
     * eltwise function for both directions), no clip, no coupled input/forget gate, every sequence running all
     * S steps, and no zero-sized dimension. (layout 1 is oneDNN's ntc data with strided states.)
     */
    String whyJava(Node node, Config c, Inputs in) {
        if (c.clip() != Double.POSITIVE_INFINITY) return "clip";
        if (c.inputForget()) return "input_forget";
        if (c.steps() == 0 || c.batch() == 0) return "an empty sequence or batch";
        for (GateFunction[] perDirection : c.functions()) {
            for (int k = 0; k < perDirection.length; k++) {
                String name = perDirection[k].name();
                boolean exact = switch (cell) {
                    case LSTM, GRU -> name.equals(cell.defaultActivations.get(k));
                    case RNN -> rnnActivation(name) != 0 && name.equals(c.functions()[0][0].name());
                };
                if (!exact) return "activations " + activationNames(c) + " (oneDNN runs " + (cell == Cell.RNN ? "one of Tanh, Relu, Sigmoid for both directions" : cell.defaultActivations) + ")";
            }
        }
        if (in.has(4)) {
            if (!in.isConstant(4)) return null;   // checked per run by the node-by-node step; the compiled lowering needs a constant
            for (long len : in.constantLongs(4, node, "sequence_lens")) if (len != c.steps()) return "sequence_lens " + Arrays.toString(in.constantLongs(4, node, "sequence_lens")) + " shorter than the " + c.steps() + " steps";
        }
        return null;
    }

    private static List<String> activationNames(Config c) {
        List<String> names = new ArrayList<>();
        for (GateFunction[] perDirection : c.functions()) for (GateFunction f : perDirection) names.add(f.name());
        return names;
    }

    /** oneDNN's eltwise algorithm for a vanilla RNN activation, 0 for one it has not (alpha and beta unused by these three). */
    static int rnnActivation(String name) {
        return switch (name) {
            case "Tanh" -> dnnl_eltwise_tanh();
            case "Relu" -> dnnl_eltwise_relu();
            case "Sigmoid" -> dnnl_eltwise_logistic();
            default -> 0;
        };
    }

    /**
     * A compiled plan runs the node as one oneDNN primitive when it computes ONNX's result ({@link #whyJava}),
     * its weights (W, R, B, P) and sequence_lens are constants, and only Y is read: X, initial_h and initial_c
     * are its runtime inputs, plain. Otherwise the plan runs {@link #prepare}'s step (oneDNN node by node
     * when exact, else the Java reference), and {@code explain} says which and why.
     */
    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (lowering.context().backend() != Backend.NATIVE || node.outputs().get(0).isEmpty()) return null;
        Config c = config(node, in, lowering.context().opset());
        if (whyJava(node, c, in) != null) return null;
        for (int k : new int[] {1, 2, 3, 4, 7}) if (in.has(k) && !in.isConstant(k)) return null;
        List<Integer> runtime = new ArrayList<>();
        for (int k : new int[] {0, 5, 6}) if (in.has(k) && !in.isConstant(k)) runtime.add(k);
        if (runtime.isEmpty() || runtime.get(0) != 0) return null;   // a constant X: nothing to compute per run
        OneDnn rnn;
        try {
            rnn = new OneDnn(node, cell, c, in.has(7), in.has(5) || in.has(6), false);
        } catch (RuntimeException e) {
            return null;   // prepare's step says why
        }
        try {
            rnn.packConstants(in);
            return new OneDnnOp(rnn, runtime.stream().mapToInt(Integer::intValue).toArray(), in);
        } catch (RuntimeException e) {
            rnn.close();
            throw e;
        }
    }

    /** The recurrence over every direction and batch entry (plain loops, double accumulation). */
    private List<Value> run(Node node, Config c, List<Value> inputs, List<long[]> shapes) {
        int steps = c.steps(), batch = c.batch(), inputSize = c.inputSize(), h = c.hidden(), dirs = c.directions(), g = cell.gates;
        boolean bf = c.batchFirst();
        float[] x = floats(inputs, 0, node).toArray(), w = floats(inputs, 1, node).toArray(), r = floats(inputs, 2, node).toArray();
        float[] bias = optional(inputs, 3, node), h0 = optional(inputs, 5, node), c0 = optional(inputs, 6, node), peep = optional(inputs, 7, node);
        int[] lengths = lengths(node, inputs, batch, steps);
        float[] y = new float[steps * dirs * batch * h], yh = new float[dirs * batch * h], yc = new float[dirs * batch * h];
        double[] pre = new double[g * h], hPrev = new double[h], cPrev = new double[h], hNext = new double[h], cNext = new double[h];
        for (int d = 0; d < dirs; d++) {
            GateFunction[] f = c.functions()[d];
            int wBase = d * g * h * inputSize, rBase = d * g * h * h, bBase = d * 2 * g * h;
            for (int b = 0; b < batch; b++) {
                int state = bf ? (b * dirs + d) * h : (d * batch + b) * h;
                for (int j = 0; j < h; j++) {
                    hPrev[j] = h0 == null ? 0 : h0[state + j];
                    cPrev[j] = c0 == null ? 0 : c0[state + j];
                }
                int len = lengths[b];
                for (int s = 0; s < len; s++) {
                    int t = c.reverse()[d] ? len - 1 - s : s;
                    int xAt = bf ? (b * steps + t) * inputSize : (t * batch + b) * inputSize;
                    // pre[row] = W[row]·x + Wb[row] + R[row]·H + Rb[row]; GRU's candidate rows only W[row]·x + Wb[row]
                    // (their recurrent part needs the reset gate first: gru() adds it).
                    for (int row = 0; row < g * h; row++) {
                        double acc = bias == null ? 0 : bias[bBase + row];
                        for (int k = 0; k < inputSize; k++) acc += (double) w[wBase + row * inputSize + k] * x[xAt + k];
                        if (cell != Cell.GRU || row < 2 * h) {
                            if (bias != null) acc += bias[bBase + g * h + row];
                            for (int k = 0; k < h; k++) acc += (double) r[rBase + row * h + k] * hPrev[k];
                        }
                        pre[row] = acc;
                    }
                    switch (cell) {
                        case LSTM -> lstm(c, f, pre, peep, d, hPrev, cPrev, hNext, cNext);
                        case GRU -> gru(c, f, pre, r, rBase, bias, bBase + g * h + 2 * h, hPrev, hNext);
                        case RNN -> {
                            for (int j = 0; j < h; j++) hNext[j] = f[0].apply(clip(pre[j], c.clip()));
                        }
                    }
                    System.arraycopy(hNext, 0, hPrev, 0, h);
                    System.arraycopy(cNext, 0, cPrev, 0, h);
                    int yAt = bf ? ((b * steps + t) * dirs + d) * h : ((t * dirs + d) * batch + b) * h;
                    for (int j = 0; j < h; j++) y[yAt + j] = (float) hPrev[j];
                }
                if (len == 0) continue; // no step ran: Y_h and Y_c stay zero, as ONNX Runtime leaves them
                for (int j = 0; j < h; j++) {
                    yh[state + j] = (float) hPrev[j];
                    yc[state + j] = (float) cPrev[j];
                }
            }
        }
        List<Value> out = new ArrayList<>();
        float[][] data = {y, yh, yc};
        for (int i = 0; i < shapes.size(); i++) out.add(result(data[i], shapes.get(i)));
        return out;
    }

    /**
     * One LSTM step, gates in ONNX order i,o,f,c (rows of {@code pre}), peepholes P in order i,o,f:
     * {@code i = f(pre_i + Pi⊙C), f = f(pre_f + Pf⊙C) (1 − i with input_forget), c̃ = g(pre_c),
     * C' = f⊙C + i⊙c̃, o = f(pre_o + Po⊙C'), H' = o⊙h(C')}.
     */
    private static void lstm(Config c, GateFunction[] f, double[] pre, float[] peep, int d, double[] hPrev, double[] cPrev, double[] hNext, double[] cNext) {
        int h = c.hidden(), p = d * 3 * h;
        for (int j = 0; j < h; j++) {
            double pi = peep == null ? 0 : peep[p + j], po = peep == null ? 0 : peep[p + h + j], pf = peep == null ? 0 : peep[p + 2 * h + j];
            double in = f[0].apply(clip(pre[j] + pi * cPrev[j], c.clip()));
            double forget = c.inputForget() ? 1 - in : f[0].apply(clip(pre[2 * h + j] + pf * cPrev[j], c.clip()));
            double candidate = f[1].apply(clip(pre[3 * h + j], c.clip()));
            cNext[j] = forget * cPrev[j] + in * candidate;
            double out = f[0].apply(clip(pre[h + j] + po * cNext[j], c.clip()));
            hNext[j] = out * f[2].apply(cNext[j]);
        }
    }

    /**
     * One GRU step, gates in ONNX order z,r,h: {@code z = f(pre_z), r = f(pre_r)}; the candidate is
     * {@code g(Wh·x + Wbh + Rh·(r⊙H) + Rbh)}, or with linear_before_reset {@code g(Wh·x + Wbh + r⊙(Rh·H + Rbh))};
     * {@code H' = (1 − z)⊙candidate + z⊙H}. {@code pre}'s candidate rows hold {@code Wh·x + Wbh}; Rbh is at
     * {@code bias[rbh..]} (absent: zeros).
     */
    private static void gru(Config c, GateFunction[] f, double[] pre, float[] r, int rBase, float[] bias, int rbh, double[] hPrev, double[] hNext) {
        int h = c.hidden();
        double[] z = new double[h], reset = new double[h];
        for (int j = 0; j < h; j++) {
            z[j] = f[0].apply(clip(pre[j], c.clip()));
            reset[j] = f[0].apply(clip(pre[h + j], c.clip()));
        }
        for (int j = 0; j < h; j++) {
            int row = 2 * h + j;
            double recurrent = bias == null ? 0 : bias[rbh + j];
            for (int k = 0; k < h; k++) recurrent += (double) r[rBase + row * h + k] * (c.linearBeforeReset() ? hPrev[k] : reset[k] * hPrev[k]);
            double candidate = pre[row] + (c.linearBeforeReset() ? reset[j] * recurrent : recurrent);
            double hh = f[1].apply(clip(candidate, c.clip()));
            hNext[j] = (1 - z[j]) * hh + z[j] * hPrev[j];
        }
    }

    private static double clip(double v, double limit) {
        return Math.max(-limit, Math.min(limit, v));
    }

    private static float[] optional(List<Value> inputs, int i, Node node) {
        return i < inputs.size() && inputs.get(i) != null ? floats(inputs, i, node).toArray() : null;
    }

    /** sequence_lens, each checked in [0, steps]; all {@code steps} when omitted. */
    private static int[] lengths(Node node, List<Value> inputs, int batch, int steps) {
        int[] lengths = new int[batch];
        Arrays.fill(lengths, steps);
        if (inputs.size() > 4 && inputs.get(4) != null) {
            long[] given = longs(inputs, 4, node);
            for (int b = 0; b < batch; b++) {
                if (given[b] < 0 || given[b] > steps) throw error(node, "sequence_lens[" + b + "] = " + given[b] + " is outside [0, " + steps + "] (the sequence length of X)");
                lengths[b] = (int) given[b];
            }
        }
        return lengths;
    }

    /**
     * One oneDNN RNN primitive for a node ({@code dnnl_lstm_forward}, {@code dnnl_gru_forward} /
     * {@code dnnl_lbr_gru_forward} for linear_before_reset 0 / 1, {@code dnnl_vanilla_rnn_forward}), f32
     * inference, user scratchpad. oneDNN's shapes (L = 1 layer, D directions, G gates):
     * <pre>
     *   src_layer  S×B×I (tnc)          = X (layout 1: ntc, and Y too; states strided B×D×H)
     *   src_iter   1×D×B×H (ldnc)       = initial_h (and src_iter_c = initial_c); zeros when absent
     *   weights    1×D×I×G×H, 1×D×H×G×H (ldigo, packed as the primitive chooses)   from W, R with gates reordered
     *   bias       1×D×G×H (ldgo; LBR GRU G+1)                                     Wb + Rb
     *   peephole   1×D×3×H (ldgo, gates i,f,o)                                     P (ONNX order i,o,f)
     *   dst_layer  S×B×(D·H) (tnc)      = Y [S, D, B, H] when D = 1; bidirectional: S×B×2×H, reordered to S×2×B×H
     *                                    by the step, a strided S×2×B×H for the compiled plan
     *   dst_iter   1×D×B×H (ldnc)       = Y_h (and dst_iter_c = Y_c), only when {@code states}
     * </pre>
     * ONNX's gate rows are LSTM i,o,f,c and GRU z,r,h; oneDNN's LSTM i,f,c̃,o and GRU u,r,o (u = z: both
     * compute H' = z⊙H + (1 − z)⊙candidate). oneDNN's GRU candidate is tanh(W·x + U·(r⊙H) + b) with one bias
     * b = Wbh + Rbh, as ONNX's linear_before_reset 0; LBR GRU's is tanh(W·x + bW + r⊙(U·H + bU)) with
     * the fourth bias row bU = Rbh, as ONNX's linear_before_reset 1.
     */
    static final class OneDnn implements AutoCloseable {
        /** Packed constant arguments (owned by the arena they were packed into). */
        record Weights(MemorySegment layer, MemorySegment iter, MemorySegment bias, MemorySegment peephole) {}

        final Arena arena = Arena.ofShared();
        final Cell cell;
        final Config c;
        final String description;
        final boolean peephole, initialStates, states;
        final int gates, biasGates;
        final long[] layerDims, iterDims, biasDims, peepholeDims, stateDims, yLayerDims;
        final long stateBytes, yBufferBytes, primitiveScratchpad;
        final MemorySegment xDesc, stateDesc, yLayerDesc, layerDesc, iterDesc, biasDesc, peepholeDesc;
        final Primitive primitive;
        final NativeReorder toOnnxY;   // bidirectional with states (the step): S×B×2×H → S×2×B×H; null otherwise
        final MemorySegment zeros;     // an absent initial state
        Weights constants;             // set by packConstants
        MemorySegment constantH0, constantC0;

        OneDnn(Node node, Cell cell, Config c, boolean peephole, boolean initialStates, boolean states) {
            this.cell = cell;
            this.c = c;
            this.peephole = peephole && cell == Cell.LSTM;
            this.initialStates = initialStates;
            this.states = states;
            int d = c.directions(), h = c.hidden();
            long t = c.steps(), n = c.batch(), i = c.inputSize();
            gates = cell.gates;
            biasGates = cell == Cell.GRU && c.linearBeforeReset() ? gates + 1 : gates;
            layerDims = new long[] {1, d, i, gates, h};
            iterDims = new long[] {1, d, h, gates, h};
            biasDims = new long[] {1, d, biasGates, h};
            peepholeDims = new long[] {1, d, 3, h};
            stateDims = new long[] {1, d, n, h};
            yLayerDims = new long[] {t, n, (long) d * h};
            stateBytes = (long) d * n * h * Float.BYTES;
            yBufferBytes = d == 2 && states && !c.batchFirst() ? t * n * d * h * Float.BYTES : 0;
            String kind = switch (cell) {
                case LSTM -> "lstm";
                case GRU -> c.linearBeforeReset() ? "lbr_gru" : "gru";
                case RNN -> "vanilla_rnn " + c.functions()[0][0].name();
            };
            String dir = d == 2 ? "bidirectional_concat" : c.reverse()[0] ? "right2left" : "left2right";
            String base = node.label() + ": " + cell + " oneDNN " + kind + " " + dir + " X " + MemoryDescs.dims(new long[] {t, n, i}) + " hidden " + h;
            try {
                // layout 1: X B×S×I and Y B×S×(D·H) are oneDNN's ntc; states B×D×H are ldnc with strides (D·B·H, H, D·H, 1).
                xDesc = c.batchFirst() ? MemoryDescs.create(arena, new long[] {t, n, i}, dnnl_ntc()) : MemoryDescs.plain(arena, new long[] {t, n, i});
                stateDesc = c.batchFirst() ? MemoryDescs.strided(arena, stateDims, new long[] {d * n * h, h, (long) d * h, 1}) : MemoryDescs.plain(arena, stateDims);
                yLayerDesc = c.batchFirst() ? MemoryDescs.create(arena, yLayerDims, dnnl_ntc()) : MemoryDescs.plain(arena, yLayerDims);
                MemorySegment src = initialStates ? stateDesc : MemorySegment.NULL, dst = states ? stateDesc : MemorySegment.NULL;
                MemorySegment anyLayer = MemoryDescs.any(arena, layerDims), anyIter = MemoryDescs.any(arena, iterDims);
                MemorySegment bias = MemoryDescs.plain(arena, biasDims);
                MemorySegment peep = this.peephole ? MemoryDescs.plain(arena, peepholeDims) : MemorySegment.NULL;
                MemorySegment attr = Primitives.userScratchpad(arena, base);
                MemorySegment engine = Engine.cpu();
                int prop = dnnl_forward_inference(), flags = dnnl_rnn_flags_undef();
                int direction = d == 2 ? dnnl_bidirectional_concat() : c.reverse()[0] ? dnnl_unidirectional_right2left() : dnnl_unidirectional_left2right();
                primitive = switch (cell) {
                    case LSTM -> Primitive.create("dnnl_lstm_forward_primitive_desc_create", base, o -> dnnl_lstm_forward_primitive_desc_create(o, engine, prop,
                            direction, xDesc, src, src, anyLayer, anyIter, peep, MemorySegment.NULL, bias, yLayerDesc, dst, dst, flags, attr));
                    case GRU -> c.linearBeforeReset()
                            ? Primitive.create("dnnl_lbr_gru_forward_primitive_desc_create", base, o -> dnnl_lbr_gru_forward_primitive_desc_create(o, engine, prop,
                                    direction, xDesc, src, anyLayer, anyIter, bias, yLayerDesc, dst, flags, attr))
                            : Primitive.create("dnnl_gru_forward_primitive_desc_create", base, o -> dnnl_gru_forward_primitive_desc_create(o, engine, prop,
                                    direction, xDesc, src, anyLayer, anyIter, bias, yLayerDesc, dst, flags, attr));
                    case RNN -> Primitive.create("dnnl_vanilla_rnn_forward_primitive_desc_create", base, o -> dnnl_vanilla_rnn_forward_primitive_desc_create(o, engine,
                            prop, rnnActivation(c.functions()[0][0].name()), direction, xDesc, src, anyLayer, anyIter, bias, yLayerDesc, dst, flags, 0f, 0f, attr));
                };
                layerDesc = MemoryDescs.clone(arena, primitive.queryDesc(dnnl_query_exec_arg_md(), DNNL_ARG_WEIGHTS_LAYER()));
                iterDesc = MemoryDescs.clone(arena, primitive.queryDesc(dnnl_query_exec_arg_md(), DNNL_ARG_WEIGHTS_ITER()));
                biasDesc = bias;
                peepholeDesc = peep;
                primitiveScratchpad = MemoryDescs.size(primitive.queryDesc(dnnl_query_scratchpad_md(), 0));
                description = base + " [" + primitive.implementation() + "]";
                toOnnxY = yBufferBytes > 0 ? new NativeReorder(
                        MemoryDescs.strided(arena, new long[] {t, n, 2, h}, new long[] {2 * n * h, 2L * h, h, 1}),
                        MemoryDescs.strided(arena, new long[] {t, n, 2, h}, new long[] {2 * n * h, h, n * h, 1}), "Y of " + base) : null;
                zeros = initialStates ? arena.allocate(stateBytes, 64) : MemorySegment.NULL;   // allocate() zero-fills
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        /** Scratchpad bytes a run needs: the primitive's, then (bidirectional) oneDNN's S×B×2×H Y before it is reordered to ONNX's. */
        long scratchpadBytes() {
            return align(primitiveScratchpad) + yBufferBytes;
        }

        private static long align(long bytes) {
            return (bytes + 63) / 64 * 64;
        }

        /**
         * W D×(G·H)×I, R D×(G·H)×H, B D×(2·G·H) (null: zeros), P D×(3·H) (null: none) in oneDNN's gate order
         * and packed layouts, into {@code into}.
         */
        Weights pack(Arena into, float[] w, float[] r, float[] b, float[] p) {
            int d = c.directions(), h = c.hidden(), in = c.inputSize();
            MemorySegment layer = Primitives.pack(into, MemoryDescs.plain(into, layerDims), layerDesc, ldigo(w, d, in, h), "W of " + description);
            MemorySegment iter = Primitives.pack(into, MemoryDescs.plain(into, iterDims), iterDesc, ldigo(r, d, h, h), "R of " + description);
            float[] bias = new float[d * biasGates * h];
            if (b != null) {
                for (int dir = 0; dir < d; dir++) {
                    for (int g = 0; g < biasGates; g++) {
                        for (int j = 0; j < h; j++) {
                            int wb = dir * 2 * gates * h, rb = wb + gates * h;
                            // LBR GRU: rows u, r summed; o holds Wbh alone and the extra row Rbh (applied inside r⊙(U·H + Rbh)).
                            float v = g == gates ? b[rb + 2 * h + j]
                                    : biasGates > gates && g == 2 ? b[wb + 2 * h + j]
                                    : b[wb + onnxGate(g) * h + j] + b[rb + onnxGate(g) * h + j];
                            bias[(dir * biasGates + g) * h + j] = v;
                        }
                    }
                }
            }
            MemorySegment biasData = into.allocateFrom(ValueLayout.JAVA_FLOAT, bias);
            MemorySegment peep = MemorySegment.NULL;
            if (peephole) {
                float[] ifo = new float[d * 3 * h];
                int[] fromOnnx = {0, 2, 1};   // oneDNN i,f,o ← ONNX P rows i,o,f
                for (int dir = 0; dir < d; dir++) for (int g = 0; g < 3; g++) for (int j = 0; j < h; j++) ifo[(dir * 3 + g) * h + j] = p[dir * 3 * h + fromOnnx[g] * h + j];
                peep = into.allocateFrom(ValueLayout.JAVA_FLOAT, ifo);
            }
            return new Weights(layer, iter, biasData, peep);
        }

        /** The ONNX gate (row block of W, R, B) that oneDNN's gate {@code g} takes: LSTM i,f,c̃,o ← i,o,f,c; GRU and RNN in order. */
        int onnxGate(int g) {
            return cell == Cell.LSTM ? new int[] {0, 2, 3, 1}[g] : g;
        }

        /** ONNX's D×(G·H)×K (rows gate-major) as oneDNN's plain 1×D×K×G×H with gates reordered. */
        private float[] ldigo(float[] onnx, int d, int k, int h) {
            float[] out = new float[d * k * gates * h];
            for (int dir = 0; dir < d; dir++) {
                for (int g = 0; g < gates; g++) {
                    int rows = (dir * gates + onnxGate(g)) * h;
                    for (int j = 0; j < h; j++) {
                        int from = (rows + j) * k;
                        for (int i = 0; i < k; i++) out[((dir * k + i) * gates + g) * h + j] = onnx[from + i];
                    }
                }
            }
            return out;
        }

        /** Packs the node's constant W, R, B, P (and constant initial states) once, for every run. */
        void packConstants(Inputs in) {
            constants = pack(arena, constant(in, 1), constant(in, 2), constant(in, 3), constant(in, 7));
            if (in.has(5) && in.isConstant(5)) constantH0 = arena.allocateFrom(ValueLayout.JAVA_FLOAT, constant(in, 5));
            if (in.has(6) && in.isConstant(6)) constantC0 = arena.allocateFrom(ValueLayout.JAVA_FLOAT, constant(in, 6));
        }

        private static float[] constant(Inputs in, int k) {
            return in.has(k) ? ((Value.Floats) in.constant(k)).tensor().toArray() : null;
        }

        /**
         * One run's argument lists over these buffers (all native, sizes checked by {@link Execution#set}):
         * X, initial states (NULL: zeros), weights, Y, Y_h and Y_c (NULL when not {@code states}), and a scratchpad
         * of {@link #scratchpadBytes()}. Y in ONNX's plain layout when {@code states} (the step's outputs), else
         * (bidirectional) in oneDNN's, S×2×B×H with strides (2BH, H, 2H, 1): no reorder when the next op reads it so.
         */
        NativeOp.Bound bind(MemorySegment x, MemorySegment h0, MemorySegment c0, Weights w, MemorySegment y, MemorySegment yh, MemorySegment yc,
                            MemorySegment scratchpad) {
            Execution e = new Execution(primitive, 12);
            Execution reorder = null;
            try {
                boolean reorderY = toOnnxY != null;
                MemorySegment yLayer = reorderY ? scratchpad.asSlice(align(primitiveScratchpad), yBufferBytes) : y;
                e.arg(DNNL_ARG_SRC_LAYER(), xDesc).set(DNNL_ARG_SRC_LAYER(), x);
                if (initialStates) {
                    e.arg(DNNL_ARG_SRC_ITER(), stateDesc).set(DNNL_ARG_SRC_ITER(), h0.equals(MemorySegment.NULL) ? zeros : h0);
                    if (cell == Cell.LSTM) e.arg(DNNL_ARG_SRC_ITER_C(), stateDesc).set(DNNL_ARG_SRC_ITER_C(), c0.equals(MemorySegment.NULL) ? zeros : c0);
                }
                e.arg(DNNL_ARG_WEIGHTS_LAYER(), layerDesc).set(DNNL_ARG_WEIGHTS_LAYER(), w.layer());
                e.arg(DNNL_ARG_WEIGHTS_ITER(), iterDesc).set(DNNL_ARG_WEIGHTS_ITER(), w.iter());
                e.arg(DNNL_ARG_BIAS(), biasDesc).set(DNNL_ARG_BIAS(), w.bias());
                if (peephole) e.arg(DNNL_ARG_WEIGHTS_PEEPHOLE(), peepholeDesc).set(DNNL_ARG_WEIGHTS_PEEPHOLE(), w.peephole());
                e.arg(DNNL_ARG_DST_LAYER(), yLayerDesc).set(DNNL_ARG_DST_LAYER(), yLayer);
                if (states) {
                    e.arg(DNNL_ARG_DST_ITER(), stateDesc).set(DNNL_ARG_DST_ITER(), yh);
                    if (cell == Cell.LSTM) e.arg(DNNL_ARG_DST_ITER_C(), stateDesc).set(DNNL_ARG_DST_ITER_C(), yc);
                }
                if (primitiveScratchpad > 0) {
                    e.arg(DNNL_ARG_SCRATCHPAD(), primitive.queryDesc(dnnl_query_scratchpad_md(), 0)).set(DNNL_ARG_SCRATCHPAD(), scratchpad);
                }
                if (reorderY) reorder = toOnnxY.bind(yLayer, y);
            } catch (RuntimeException ex) {
                e.close();
                throw ex;
            }
            Execution second = reorder;
            return new NativeOp.Bound() {
                @Override public void run() {
                    e.run();
                    if (second != null) second.run();
                }
                @Override public void close() {
                    if (second != null) second.close();
                    e.close();
                }
            };
        }

        private boolean closed;

        @Override
        public synchronized void close() {
            if (closed) return;
            closed = true;
            if (toOnnxY != null) toOnnxY.close();
            if (primitive != null) primitive.close();
            arena.close();
        }
    }

    /**
     * The compiled plan's form: runtime inputs X [S, B, I] and any non-constant initial_h / initial_c
     * [D, B, H], plain; output Y [S, D, B, H] in oneDNN's layout; weights packed once.
     */
    private static final class OneDnnOp implements NativeOp {
        final OneDnn rnn;
        final int[] runtime;   // node input index of each runtime input
        final MemorySegment[] inputDescs;
        final MemorySegment outputDesc;

        OneDnnOp(OneDnn rnn, int[] runtime, Inputs in) {
            this.rnn = rnn;
            this.runtime = runtime;
            inputDescs = new MemorySegment[runtime.length];
            for (int i = 0; i < runtime.length; i++) inputDescs[i] = MemoryDescs.plain(rnn.arena, in.shape(runtime[i]));
            Config c = rnn.c;
            long t = c.steps(), n = c.batch(), h = c.hidden();
            // Y [S, D, B, H] as oneDNN writes it (S×B×D×H): plain when D = 1; bidirectional, strided, so that the plan
            // reorders it only for a reader that needs it plain (PyTorch's export transposes it to S×B×2×H anyway).
            outputDesc = c.directions() == 1 || c.batchFirst() ? MemoryDescs.plain(rnn.arena, outputShapes(c.steps(), c.batch(), c.directions(), c.hidden(), c.batchFirst()).get(0))
                    : MemoryDescs.strided(rnn.arena, new long[] {t, 2, n, h}, new long[] {2 * n * h, h, 2 * h, 1});
        }

        @Override public MemorySegment inputDesc(int i) { return inputDescs[i]; }
        @Override public MemorySegment outputDesc() { return outputDesc; }
        @Override public long scratchpadBytes() { return rnn.primitiveScratchpad; }
        @Override public long weightBytes() { return rnn.constants.layer().byteSize() + rnn.constants.iter().byteSize() + rnn.constants.bias().byteSize(); }
        @Override public String description() { return rnn.description; }

        @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
            MemorySegment x = null, h0 = rnn.constantH0, c0 = rnn.constantC0;
            for (int i = 0; i < runtime.length; i++) {
                switch (runtime[i]) {
                    case 0 -> x = inputs[i];
                    case 5 -> h0 = inputs[i];
                    default -> c0 = inputs[i];
                }
            }
            return rnn.bind(x, orNull(h0), orNull(c0), rnn.constants, output, MemorySegment.NULL, MemorySegment.NULL, scratchpad);
        }

        @Override public void close() { rnn.close(); }
    }

    private static MemorySegment orNull(MemorySegment s) {
        return s == null ? MemorySegment.NULL : s;
    }

    /**
     * Node by node on the native backend (and a compiled plan's fallback when Y_h or Y_c is read or the
     * weights are not constants): the primitive with every output, weights packed per run unless constant.
     * A run whose sequence_lens (a runtime input) are not all S runs the Java reference instead.
     */
    private static final class OneDnnStep implements Step {
        final Node node;
        final Config c;
        final OneDnn rnn;
        final List<long[]> shapes;
        final Step java;
        final boolean constantWeights, runtimeLengths;

        OneDnnStep(Node node, Config c, OneDnn rnn, Inputs in, List<long[]> shapes, Step java) {
            this.node = node;
            this.c = c;
            this.rnn = rnn;
            this.shapes = shapes;
            this.java = java;
            boolean constant = true;
            for (int k : new int[] {1, 2, 3, 7}) constant &= !in.has(k) || in.isConstant(k);
            constantWeights = constant;
            runtimeLengths = in.has(4) && !in.isConstant(4);
        }

        @Override public List<long[]> outputShapes() { return shapes; }
        @Override public List<DataType> outputTypes() { return java.outputTypes(); }
        @Override public String description() {
            return rnn.description + (runtimeLengths ? "; the Java reference for a run whose sequence_lens are not all " + c.steps() : "");
        }

        @Override public List<Value> run(List<Value> inputs) {
            if (inputs.size() > 4 && inputs.get(4) != null) {
                for (long len : longs(inputs, 4, node)) if (len != c.steps()) return java.run(inputs);
            }
            List<long[]> all = Recurrent.outputShapes(c.steps(), c.batch(), c.directions(), c.hidden(), c.batchFirst());
            Tensor y = Tensor.zeros(all.get(0)), yh = Tensor.zeros(all.get(1)), yc = Tensor.zeros(all.get(2));
            try (Arena run = Arena.ofConfined()) {
                OneDnn.Weights w = constantWeights ? constants(inputs) : weights(run, inputs);
                MemorySegment h0 = inputs.size() > 5 && inputs.get(5) != null ? floats(inputs, 5, node).segment() : MemorySegment.NULL;
                MemorySegment c0 = inputs.size() > 6 && inputs.get(6) != null ? floats(inputs, 6, node).segment() : MemorySegment.NULL;
                MemorySegment scratch = run.allocate(Math.max(64, rnn.scratchpadBytes()), 64);
                try (NativeOp.Bound b = rnn.bind(floats(inputs, 0, node).segment(), h0, c0, w, y.segment(), yh.segment(), yc.segment(), scratch)) {
                    b.run();
                }
            } catch (RuntimeException e) {
                y.close();
                yh.close();
                yc.close();
                throw e;
            }
            List<Value> out = new ArrayList<>(List.of(new Value.Floats(y), new Value.Floats(yh), new Value.Floats(yc)));
            while (out.size() > shapes.size()) ((Value.Floats) out.removeLast()).tensor().close();
            return out;
        }

        /** The constant weights, packed on the first run (into the primitive's arena) and kept. */
        private synchronized OneDnn.Weights constants(List<Value> inputs) {
            if (rnn.constants == null) rnn.constants = weights(rnn.arena, inputs);
            return rnn.constants;
        }

        private OneDnn.Weights weights(Arena into, List<Value> inputs) {
            return rnn.pack(into, optional(inputs, 1, node), optional(inputs, 2, node), optional(inputs, 3, node), optional(inputs, 7, node));
        }

        @Override public void close() {
            rnn.close();
            java.close();
        }
    }
}
