package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.conv.BnFolding;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import dev.jdnn.ops.conv.ReferenceConv2d;
import dev.jdnn.graph.PrepareContext;
import dev.jdnn.graph.PrepareStats;
import dev.jdnn.ops.winograd.NativeWinograd;
import dev.jdnn.ops.winograd.WinogradChoice;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * Conv, 1-D and 2-D: {@code X N×C×(L | H×W) (x) W K×C/g×(k | R×S) [+ B] → Y N×K×(OL | OH×OW)}, on jdnn's
 * conv family ({@link Conv2d}: oneDNN, or the plain-loop {@link ReferenceConv2d}). A 1-D conv runs as 2-D
 * with height 1. In a compiled plan a conv with constant weights is lowered by {@link #lowerChain}
 * together with what the plan fuses into it: a following inference BatchNormalization (folded into
 * the weights), a residual Add (sum post-op) and an activation (eltwise post-op).
 */
public final class Conv implements Op {
    static void register(Registry.Table t) {
        t.add("Conv", 1, new Conv());
    }

    /** Checked geometry of one conv node for given input and weight shapes. */
    record Geometry(Conv2dParams params, boolean oneD, long[] in4, long[] out4, long[] out) {}

    /** Begin/end padding per spatial axis from ONNX's pads or auto_pad (SAME_UPPER, SAME_LOWER, VALID). */
    public static long[] pads(Node node, long[] in, long[] kernel, long[] strides, long[] dilations) {
        int spatial = kernel.length;
        String autoPad = node.attributes().getString("auto_pad", "NOTSET");
        long[] pads = new long[2 * spatial];
        switch (autoPad) {
            case "NOTSET" -> {
                long[] given = node.attributes().getInts("pads", new long[2 * spatial]);
                if (given.length != 2 * spatial) throw error(node, "pads has " + given.length + " values, expected " + 2 * spatial);
                pads = given;
            }
            case "VALID" -> { }
            case "SAME_UPPER", "SAME_LOWER" -> {
                for (int i = 0; i < spatial; i++) {
                    long out = (in[i + 2] + strides[i] - 1) / strides[i];
                    long total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in[i + 2]);
                    long small = total / 2;
                    pads[i] = autoPad.equals("SAME_UPPER") ? small : total - small;
                    pads[i + spatial] = total - pads[i];
                }
            }
            default -> throw error(node, "auto_pad " + autoPad + " is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        }
        for (long p : pads) if (p < 0) throw error(node, "negative pads " + format(pads));
        return pads;
    }

    static Geometry geometry(Node node, long[] x, long[] w) {
        if (x.length != 3 && x.length != 4) throw error(node, "jdnn runs 1-D and 2-D convolutions; input " + format(x) + " has rank " + x.length);
        if (w.length != x.length) throw error(node, "weights " + format(w) + " and input " + format(x) + " differ in rank");
        int spatial = x.length - 2;
        long[] kernel = Arrays.copyOfRange(w, 2, 2 + spatial);
        long[] given = node.attributes().getInts("kernel_shape", null);
        if (given != null && !Arrays.equals(given, kernel)) throw error(node, "kernel_shape " + format(given) + " does not match weights " + format(w));
        long[] strides = ints(node, "strides", spatial, 1);
        long[] dilations = ints(node, "dilations", spatial, 1);
        Checks.positive(node, "kernel_shape", kernel);
        Checks.positive(node, "strides", strides);
        Checks.positive(node, "dilations", dilations);
        long[] pads = Checks.nonNegative(node, "pads", pads(node, x, kernel, strides, dilations));
        for (int i = 0; i < spatial; i++) {
            long extent = (kernel[i] - 1) * dilations[i] + 1;
            if (x[i + 2] + pads[i] + pads[i + spatial] < extent) {
                throw error(node, "kernel extent " + extent + " is larger than the padded input " + (x[i + 2] + pads[i] + pads[i + spatial]) + " in spatial axis " + i);
            }
        }
        long group = node.attributes().getInt("group", 1);
        if (group < 1 || group != (int) group || group > x[1] || x[1] % group != 0 || w[0] % group != 0) {
            throw error(node, "group " + group + " must be >= 1 and divide the input channels " + x[1] + " and the output channels " + w[0]);
        }
        if (w[1] != x[1] / group) {
            throw error(node, "weights " + format(w) + " do not fit input channels " + x[1] + " with group " + group);
        }
        boolean oneD = spatial == 1;
        Conv2dParams params = oneD
                ? new Conv2dParams(toInt(x[1], node, "channels"), toInt(w[0], node, "output channels"), 1, toInt(kernel[0], node, "kernel_shape"), 1,
                        toInt(strides[0], node, "strides"), 0, toInt(pads[0], node, "pads"), 0, toInt(pads[1], node, "pads"), 1,
                        toInt(dilations[0], node, "dilations"), (int) group)
                : new Conv2dParams(toInt(x[1], node, "channels"), toInt(w[0], node, "output channels"), toInt(kernel[0], node, "kernel_shape"),
                        toInt(kernel[1], node, "kernel_shape"), toInt(strides[0], node, "strides"), toInt(strides[1], node, "strides"),
                        toInt(pads[0], node, "pads"), toInt(pads[1], node, "pads"), toInt(pads[2], node, "pads"), toInt(pads[3], node, "pads"),
                        toInt(dilations[0], node, "dilations"), toInt(dilations[1], node, "dilations"), (int) group);
        long[] in4 = oneD ? new long[] {x[0], x[1], 1, x[2]} : x;
        long[] out4 = params.outputShape(in4);
        long[] out = oneD ? new long[] {out4[0], out4[1], out4[3]} : out4;
        return new Geometry(params, oneD, in4, out4, out);
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        long[] w = in.require(1, node, "W");
        in.requireFloat(0, node, "X");
        in.requireFloat(1, node, "W");
        Geometry g = geometry(node, x, w);
        boolean hasBias = in.has(2);
        if (hasBias && (in.shape(2).length != 1 || in.shape(2)[0] != w[0])) throw error(node, "bias " + format(in.shape(2)) + " must have " + w[0] + " values");

        // Weights known now (the usual case, initializers): compile the native convolution once.
        NativeConv2d compiled = null;
        if (ctx.backend() == Backend.NATIVE && in.isConstant(1) && (!hasBias || in.isConstant(2))) {
            FoldedWeights weights = new FoldedWeights(node, g.params(), in.constant(1), hasBias ? in.constant(2) : null, null, List.of());
            compiled = new NativeConv2d(g.params(), weights, g.in4(), NativeConv2d.PostOps.NONE, 0, PrepareContext.current().weights());
        }
        NativeConv2d prepared = compiled;
        return new Step() {
            @Override public List<long[]> outputShapes() { return List.of(g.out()); }
            @Override public List<DataType> outputTypes() { return List.of(DataType.FLOAT); }

            @Override public List<Value> run(List<Value> inputs) {
                Tensor input = floats(inputs, 0, node).reshape(g.in4());
                Tensor y = Tensor.zeros(g.out4());
                if (prepared != null) {
                    prepared.run(input, null, y);
                } else {
                    Conv2d conv = layer(g.params(), inputs.get(1), hasBias ? inputs.get(2) : null, node);
                    if (ctx.backend() == Backend.NATIVE) {
                        try (NativeConv2d once = new NativeConv2d(conv, g.in4(), NativeConv2d.PostOps.NONE)) {
                            once.run(input, null, y);
                        }
                    } else {
                        ReferenceConv2d.run(conv, input, y);
                    }
                }
                if (g.oneD()) {
                    Tensor y3 = Tensor.copyOf(y.reshape(g.out()));
                    y.close();
                    return List.of(new Value.Floats(y3));
                }
                return List.of(new Value.Floats(y));
            }

            @Override public void close() {
                if (prepared != null) prepared.close();
            }
        };
    }

    static Conv2d layer(Conv2dParams params, Value weights, Value bias, Node node) {
        if (!(weights instanceof Value.Floats w)) throw error(node, "weights must be float32");
        float[] b = null;
        if (bias != null) {
            if (!(bias instanceof Value.Floats bf)) throw error(node, "bias must be float32");
            b = bf.tensor().toArray();
        }
        return new Conv2d(params, w.tensor().toArray(), b);
    }

    /** Whether a compiled plan can run this conv as a native chain: 2-D, runtime input, constant float weights and bias. */
    public static boolean chainable(Node conv, Inputs in) {
        return in.has(0) && !in.isConstant(0) && in.shape(0).length == 4 && in.type(0) == DataType.FLOAT
                && in.constant(1) instanceof Value.Floats && (!in.has(2) || in.constant(2) instanceof Value.Floats);
    }

    /**
     * Conv (2-D, constant weights and bias) with an optional inference BatchNormalization folded into its
     * weights ({@link BnFolding}), an optional residual sum and an optional activation as post-ops:
     * {@code N×C×H×W → N×K×OH×OW}. Runtime inputs: x, then the residual when {@code residual}.
     */
    public static NativeOp lowerChain(Node conv, Inputs in, Node batchNorm, List<Value> bnConstants, boolean residual, PostOp activation, boolean autotune) {
        return lowerChain(conv, in, batchNorm, bnConstants, residual, activation, autotune, Optimizations.Winograd.OFF);
    }

    /**
     * As above; a 3×3 stride-1 conv may instead run as a Winograd convolution of the tile sizes
     * {@code winograd} allows (with {@code FAST}, also oneDNN's own Winograd where the loaded oneDNN has one),
     * when timing on the real shapes (at the calling thread's oneDNN threads) finds it faster, or an earlier
     * timing in the autotune cache says so ({@link WinogradChoice}); the description says which ran and why.
     */
    public static NativeOp lowerChain(Node conv, Inputs in, Node batchNorm, List<Value> bnConstants, boolean residual, PostOp activation, boolean autotune,
                                      Optimizations.Winograd winograd) {
        return lowerChain(conv, in, batchNorm, bnConstants, residual, activation, null, autotune, winograd);
    }

    /**
     * Bound by a plan that turned Winograd off for its shapes (a whole batch on several threads): why, for the
     * description ({@code explain}) of each 3×3 layer that could otherwise have run as Winograd.
     */
    public static final ScopedValue<String> WINOGRAD_OFF_BECAUSE = ScopedValue.newInstance();

    /** As above, the chain ending with a fake quantization ({@link FakeQuantize}) as post-ops, if {@code fakeQuant} is not null (then never Winograd). */
    public static NativeOp lowerChain(Node conv, Inputs in, Node batchNorm, List<Value> bnConstants, boolean residual, PostOp activation,
                                      NativeConv2d.FakeQuant fakeQuant, boolean autotune, Optimizations.Winograd winograd) {
        if (fakeQuant != null) winograd = Optimizations.Winograd.OFF;
        Geometry g = geometry(conv, in.shape(0), in.shape(1));
        Conv2dParams params = g.params();
        String label = conv.label();
        FoldedWeights weights = new FoldedWeights(conv, params, in.constant(1), in.has(2) ? in.constant(2) : null, batchNorm, bnConstants);
        if (batchNorm != null) label += " + " + batchNorm.label() + " (folded)";
        NativeConv2d.PostOps post = activation == null
                ? new NativeConv2d.PostOps(residual, null, 0f, 0f, fakeQuant)
                : new NativeConv2d.PostOps(residual, activation.algorithm(), activation.alpha(), activation.beta(), fakeQuant);
        long[] x = in.shape(0);
        PrepareContext prepare = PrepareContext.current();
        long t0 = System.nanoTime();
        if (winograd != Optimizations.Winograd.OFF) {
            // A layer already timed (in this JVM, or in the autotune cache) as Winograd: its direct convolution is never made.
            WinogradChoice.Choice known = WinogradChoice.known(params, () -> weights.toLayer(params), x, post, WinogradConv.tiles(winograd),
                    winograd == Optimizations.Winograd.FAST, Dnnl.threads(), prepare.autotune());
            if (known != null) {
                prepare.stats().convolutions.incrementAndGet();
                prepare.stats().autotuneNanos.addAndGet(System.nanoTime() - t0);
                return WinogradConv.op(known.winograd(), residual, label + ": " + known.winograd().description() + " (" + known.reason() + ")");
            }
        }
        NativeConv2d compiled = autotune ? NativeConv2d.tuned(params, weights, x, post, 2, prepare.weights(), prepare.autotune())
                : new NativeConv2d(params, weights, x, post, 0, prepare.weights());
        PrepareStats stats = prepare.stats();
        long own = compiled.primitiveNanos() + compiled.writeNanos() + compiled.reorderNanos();
        stats.convolutions.incrementAndGet();
        stats.primitiveNanos.addAndGet(compiled.primitiveNanos());
        stats.foldNanos.addAndGet(compiled.writeNanos());
        stats.reorderNanos.addAndGet(compiled.reorderNanos());
        if (autotune) stats.autotuneNanos.addAndGet(Math.max(0, System.nanoTime() - t0 - own));
        if (compiled.sharedWeights()) stats.sharedWeightHits.incrementAndGet();
        String choice = "";
        if (winograd != Optimizations.Winograd.OFF && NativeWinograd.supports(params)) {
            // oneDNN's own Winograd kernels compute F(4×4,3×3)-like tiles (about as exact as jdnn's F(4×4)): FAST only.
            java.util.function.Supplier<NativeConv2d> onednn = winograd == Optimizations.Winograd.FAST && WinogradChoice.onednnWinogradAvailable()
                    ? () -> new NativeConv2d(params, weights, x, post, NativeConv2d.Algorithm.WINOGRAD, 0, prepare.weights()) : null;
            WinogradChoice.Choice chosen;
            long choosing = System.nanoTime();
            try {
                chosen = !NativeWinograd.supports(post) && onednn == null ? new WinogradChoice.Choice(null, "direct")
                        : WinogradChoice.choose(weights.toLayer(params), x, post, compiled, onednn, WinogradConv.tiles(winograd), Dnnl.threads(),
                                prepare.autotune());
            } catch (RuntimeException e) {
                compiled.close();
                throw e;
            } finally {
                stats.autotuneNanos.addAndGet(System.nanoTime() - choosing);   // timing candidates is autotuning too
            }
            if (chosen.winograd() != null) {
                compiled.close();
                return WinogradConv.op(chosen.winograd(), residual, label + ": " + chosen.winograd().description() + " (" + chosen.reason() + ")");
            }
            if (chosen.onednn() != null) {
                compiled.close();
                return convOp(chosen.onednn(), residual, label + ": " + chosen.onednn().description() + " [" + chosen.onednn().implementation() + "] ("
                        + chosen.reason() + ")");
            }
            choice = " (" + chosen.reason() + ")";
        }
        if (choice.isEmpty() && WINOGRAD_OFF_BECAUSE.isBound() && NativeWinograd.supports(params) && NativeWinograd.supports(post)) {
            choice = " (direct: " + WINOGRAD_OFF_BECAUSE.get() + ")";
        }
        return convOp(compiled, residual, label + ": " + compiled.description() + " [" + compiled.implementation() + "]" + choice);
    }

    /** {@code compiled} as a plan op, owning it: runtime input 0 is x, input 1 (with {@code residual}) the residual. */
    private static NativeOp convOp(NativeConv2d compiled, boolean residual, String description) {
        return new NativeOp() {
            @Override public MemorySegment inputDesc(int i) { return i == 0 ? compiled.srcDesc() : compiled.dstDesc(); }
            @Override public MemorySegment outputDesc() { return compiled.dstDesc(); }
            @Override public long scratchpadBytes() { return compiled.scratchpadBytes(); }
            @Override public long weightBytes() { return compiled.weightBytes(); }
            @Override public int reusesInput() { return residual ? 1 : -1; }
            @Override public String description() { return description; }

            @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                var execution = compiled.bind(inputs[0], output, scratchpad);
                MemorySegment sum = residual && inputs[1].address() != output.address() ? inputs[1] : null;
                return new Bound() {
                    @Override public void run() {
                        // oneDNN's sum post-op adds what dst holds before the convolution writes it.
                        if (sum != null) MemorySegment.copy(sum, 0, output, 0, output.byteSize());
                        execution.run();
                    }
                    @Override public void close() { execution.close(); }
                };
            }

            @Override public void close() { compiled.close(); }
        };
    }

    /**
     * A conv's weights {@code K×C/g×R×S} as its primitive uses them: copied from the model's (mapped) weight
     * tensor into native staging memory, a batch norm folded in there ({@code w·γ/√(σ²+ε)} per output channel,
     * the same arithmetic as {@link dev.jdnn.ops.conv.BnFolding}); never on the heap. Two are the same source
     * for {@link dev.jdnn.ops.conv.SharedWeights} when they read the same tensors (identity) with the same ε.
     */
    private static final class FoldedWeights implements NativeConv2d.Weights, dev.jdnn.ops.conv.SharedWeights.Source {
        private final List<Object> tensors;   // weight, bias (or null), then γ, β, mean, var when folded: compared by identity
        private final float epsilon;
        private final Tensor weights;
        private final double[] scale;          // per output channel, null without a batch norm
        private final float[] bias;
        private final PrepareContext prepare = PrepareContext.current();

        FoldedWeights(Node conv, Conv2dParams params, Value w, Value b, Node batchNorm, List<Value> bnConstants) {
            if (!(w instanceof Value.Floats wf)) throw error(conv, "weights must be float32");
            if (b != null && !(b instanceof Value.Floats)) throw error(conv, "bias must be float32");
            weights = wf.tensor();
            if (weights.elementCount() != params.weightCount()) {
                throw error(conv, "weights " + format(weights.shape()) + " do not match " + params);
            }
            int k = params.outChannels();
            float[] convBias = b == null ? null : ((Value.Floats) b).tensor().toArray();
            if (convBias != null && convBias.length != k) throw error(conv, "bias has " + convBias.length + " values, the conv has " + k + " output channels");
            List<Object> identity = new java.util.ArrayList<>(java.util.Arrays.asList(w, b));
            if (batchNorm == null) {
                scale = null;
                bias = convBias;
                epsilon = 0;
            } else {
                epsilon = batchNorm.attributes().getFloat("epsilon", 1e-5f);
                float[] gamma = Primitives.array(bnConstants, 1, batchNorm), beta = Primitives.array(bnConstants, 2, batchNorm);
                float[] mean = Primitives.array(bnConstants, 3, batchNorm), var = Primitives.array(bnConstants, 4, batchNorm);
                for (float[] a : new float[][] {gamma, beta, mean, var}) {
                    if (a.length != k) throw error(batchNorm, "batch norm has " + a.length + " channels, the conv before it outputs " + k);
                }
                scale = new double[k];
                bias = new float[k];
                for (int oc = 0; oc < k; oc++) {
                    scale[oc] = gamma[oc] / Math.sqrt((double) var[oc] + epsilon);
                    double b0 = convBias == null ? 0 : convBias[oc];
                    bias[oc] = (float) ((b0 - mean[oc]) * scale[oc] + beta[oc]);
                }
                identity.addAll(bnConstants.subList(1, 5));
            }
            tensors = identity;
        }

        @Override public void writePlain(MemorySegment oihw) {
            long count = weights.elementCount();
            weights.copyBytesTo(oihw);   // in place from the mapped file: an unaligned weight is never copied for a compiled plan
            weights.unloadMapped();      // and its file pages leave the resident set now, not when the whole plan is done
            if (scale == null) return;
            long perChannel = count / scale.length;
            for (int oc = 0; oc < scale.length; oc++) {
                for (long i = oc * perChannel, end = i + perChannel; i < end; i++) {
                    oihw.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (oihw.getAtIndex(ValueLayout.JAVA_FLOAT, i) * scale[oc]));
                }
            }
        }

        @Override public float[] bias() { return bias; }
        @Override public dev.jdnn.ops.conv.SharedWeights.Source source() { return this; }

        /**
         * The folded weights as a heap layer, for the Winograd weight transform (made only for the 3×3 convs that
         * consider Winograd, and dropped once the choice is made).
         */
        dev.jdnn.ops.conv.Conv2d toLayer(Conv2dParams params) {
            float[] plain = new float[Math.toIntExact(weights.elementCount())];
            writePlain(MemorySegment.ofArray(plain));
            return new dev.jdnn.ops.conv.Conv2d(params, plain, bias);
        }

        // The preparation these weights belong to, kept because the reorder runs on its background thread (non-stealable
        // tasks, one after another: they share that thread's scratch buffer).
        @Override public MemorySegment staging(long bytes) {
            return prepare.background() == null ? null : prepare.background().scratch(bytes);
        }

        @Override public dev.jdnn.dnnl.BackgroundWork reorderOn() {
            return prepare.background();
        }

        @Override public boolean equals(Object o) {
            if (!(o instanceof FoldedWeights f) || f.tensors.size() != tensors.size() || Float.compare(f.epsilon, epsilon) != 0) return false;
            for (int i = 0; i < tensors.size(); i++) if (f.tensors.get(i) != tensors.get(i)) return false;
            return true;
        }

        @Override public int hashCode() {
            int h = Float.hashCode(epsilon);
            for (Object t : tensors) h = 31 * h + System.identityHashCode(t);
            return h;
        }
    }
}
