package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
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
 * <p>Java only: plain loops with double accumulation per time step; a compiled plan runs it as a Java step
 * ({@code explain} prints it as {@code java}). oneDNN has LSTM, GRU and vanilla RNN primitives, but the
 * jextract bindings do not include them yet.
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
        return step(shapes, types, inputs -> run(node, c, inputs, shapes));
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
}
