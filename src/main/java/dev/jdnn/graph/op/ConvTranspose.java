package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.reorder.NativeReorder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * ConvTranspose (opsets 1, 11, 22; the semantics did not change), 1-D, 2-D and 3-D:
 * {@code X N×C×D1…Dk, W C×(K/g)×k1…kk, optional B[K] → Y N×K×O1…Ok}, the gradient of a convolution
 * with respect to its input: every input element scatters {@code x·w} over a (dilated) kernel window
 * that starts at {@code i·stride − pad_begin} in the output.
 *
 * <p>Output size per spatial axis (ONNX spec):
 * {@code O = stride·(D − 1) + output_padding + ((k − 1)·dilation + 1) − pad_begin − pad_end}.
 * With {@code output_shape} (or auto_pad SAME_UPPER/SAME_LOWER, whose target is {@code D·stride}) the
 * pads are derived from the target: {@code total = stride·(D − 1) + output_padding + extent − target};
 * SAME_UPPER puts {@code ⌊total/2⌋} at the beginning, NOTSET and SAME_LOWER {@code total − ⌊total/2⌋}
 * (as the spec and ONNX's reference implementation). A negative total (the target is larger than the
 * natural size) extends the output at the end, like extra output_padding (ONNX's reference, ONNX
 * Runtime and PyTorch's {@code output_size} all do this; the end pad is then negative).
 *
 * <p>The Java reference scatters in plain loops with double accumulation. The native form is oneDNN's
 * deconvolution (weights reordered once; ONNX's {@code C×K/g×k…} is oneDNN's {@code iohw}/{@code giohw}
 * order of its logical {@code (g,) O, I, k…} dims), with an optional eltwise post-op for a fused
 * activation ({@link Op.Lowering#fused()}). {@link #foldBatchNorm} folds a following inference
 * BatchNormalization into the weights and bias.
 */
public final class ConvTranspose implements Op {
    public static final ConvTranspose INSTANCE = new ConvTranspose();

    private ConvTranspose() {}

    public static void register(Registry.Table t) {
        t.add("ConvTranspose", 1, INSTANCE);
    }

    /**
     * Everything about one ConvTranspose node once its attributes are checked. Spatial arrays have one
     * value per spatial axis; {@code padEnd} may be negative (output extended past the natural size).
     */
    public record Geometry(long n, long c, long k, int group, long[] in, long[] kernel, long[] strides, long[] dilations,
                           long[] outputPadding, long[] padBegin, long[] padEnd, long[] out) {
        public int spatial() {
            return in.length;
        }

        public long[] inputShape() {
            return concat(n, c, in);
        }

        public long[] outputShape() {
            return concat(n, k, out);
        }

        /** ONNX's weight shape: C × K/g × k…. */
        public long[] weightShape() {
            return concat(c, k / group, kernel);
        }

        /** oneDNN's right padding: whatever makes {@code (O − extent + pl + pr) / stride + 1 == D} exact (output_padding and negative end pads included). */
        long[] dnnlPadEnd() {
            long[] pr = new long[in.length];
            for (int i = 0; i < in.length; i++) pr[i] = (in[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - out[i] - padBegin[i];
            return pr;
        }

        private static long[] concat(long a, long b, long[] rest) {
            long[] s = new long[rest.length + 2];
            s[0] = a;
            s[1] = b;
            System.arraycopy(rest, 0, s, 2, rest.length);
            return s;
        }
    }

    /** Parses and range-checks the attributes against the input shapes; every error names the node, the attribute and the value. */
    public static Geometry geometry(Node node, Inputs in) {
        long[] x = in.require(0, node, "X");
        long[] w = in.require(1, node, "W");
        in.requireFloat(0, node, "X");
        in.requireFloat(1, node, "W");
        in.requireFloat(2, node, "B");
        if (x.length < 3) throw Ops.error(node, "X " + Ops.format(x) + " must be N×C×spatial… (rank >= 3)");
        if (x.length > 5) throw Ops.error(node, "ConvTranspose with " + (x.length - 2) + " spatial axes is not supported (jdnn runs 1-D, 2-D and 3-D)");
        if (w.length != x.length) throw Ops.error(node, "W " + Ops.format(w) + " and X " + Ops.format(x) + " differ in rank");
        int spatial = x.length - 2;
        long group = node.attributes().getInt("group", 1);
        Checks.positive(node, "group", group);
        if (x[1] % group != 0) throw Ops.error(node, "group " + group + " does not divide the " + x[1] + " input channels of X " + Ops.format(x));
        if (w[0] != x[1]) throw Ops.error(node, "W " + Ops.format(w) + " must have the " + x[1] + " input channels of X " + Ops.format(x) + " in dimension 0");
        long k = Math.multiplyExact(w[1], group);
        long[] kernel = Arrays.copyOfRange(w, 2, w.length);
        long[] given = node.attributes().getInts("kernel_shape", null);
        if (given != null && !Arrays.equals(given, kernel)) throw Ops.error(node, "kernel_shape " + Ops.format(given) + " does not match W " + Ops.format(w));
        long[] strides = Checks.positive(node, "strides", Ops.ints(node, "strides", spatial, 1));
        long[] dilations = Checks.positive(node, "dilations", Ops.ints(node, "dilations", spatial, 1));
        long[] outputPadding = Checks.nonNegative(node, "output_padding", Ops.ints(node, "output_padding", spatial, 0));
        for (int i = 0; i < spatial; i++) {
            // PyTorch's rule: output padding only completes a partial stride (or dilation) step.
            if (outputPadding[i] >= Math.max(strides[i], dilations[i])) {
                throw Ops.error(node, "output_padding " + Ops.format(outputPadding) + " must be smaller than the stride or dilation on spatial axis " + i
                        + " (got " + outputPadding[i] + ")");
            }
        }
        for (long d : kernel) if (d < 1) throw Ops.error(node, "W " + Ops.format(w) + " has an empty kernel");
        Checks.positive(node, "kernel_shape", kernel);

        long[] natural = new long[spatial];
        for (int i = 0; i < spatial; i++) {
            natural[i] = Math.addExact(Math.addExact(Math.multiplyExact(strides[i], x[i + 2] - 1), outputPadding[i]),
                    Math.addExact(Math.multiplyExact(kernel[i] - 1, dilations[i]), 1));
        }
        String autoPad = node.attributes().getString("auto_pad", "NOTSET");
        if (!List.of("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID").contains(autoPad)) {
            throw Ops.error(node, "auto_pad " + autoPad + " is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        }
        long[] outputShape = node.attributes().getInts("output_shape", null);
        long[] target = null;
        if (outputShape != null) {
            // The spatial sizes, or (as ONNX Runtime also accepts) the whole N×K×spatial shape.
            if (outputShape.length == spatial + 2) outputShape = Arrays.copyOfRange(outputShape, 2, outputShape.length);
            if (outputShape.length != spatial) throw Ops.error(node, "output_shape " + Ops.format(outputShape) + " must have " + spatial + " values");
            for (long o : outputShape) if (o < 1) throw Ops.error(node, "output_shape " + Ops.format(outputShape) + " must be >= 1");
            target = outputShape;
        } else if (autoPad.startsWith("SAME")) {
            target = new long[spatial];
            for (int i = 0; i < spatial; i++) target[i] = Math.multiplyExact(x[i + 2], strides[i]);
        }
        long[] padBegin = new long[spatial], padEnd = new long[spatial];
        if (target != null) {
            for (int i = 0; i < spatial; i++) {
                long total = natural[i] - target[i];
                if (total < 0) {
                    padEnd[i] = total; // output extended at the end
                } else {
                    padBegin[i] = autoPad.equals("SAME_UPPER") ? Math.floorDiv(total, 2) : total - Math.floorDiv(total, 2);
                    padEnd[i] = total - padBegin[i];
                }
            }
        } else if (autoPad.equals("NOTSET")) {
            long[] pads = Checks.nonNegative(node, "pads", Ops.ints(node, "pads", 2 * spatial, 0));
            padBegin = Arrays.copyOfRange(pads, 0, spatial);
            padEnd = Arrays.copyOfRange(pads, spatial, 2 * spatial);
        }
        long[] out = new long[spatial];
        for (int i = 0; i < spatial; i++) {
            out[i] = natural[i] - padBegin[i] - padEnd[i];
            if (out[i] < 1) {
                throw Ops.error(node, "pads " + padBegin[i] + "+" + padEnd[i] + " leave no output on spatial axis " + i
                        + " (unpadded size " + natural[i] + ")");
            }
        }
        if (in.has(2)) {
            long[] b = in.shape(2);
            if (b.length != 1 || b[0] != k) throw Ops.error(node, "B " + Ops.format(b) + " must have " + k + " values (one per output channel)");
        }
        Geometry g = new Geometry(x[0], x[1], k, (int) group, Arrays.copyOfRange(x, 2, x.length), kernel, strides, dilations,
                outputPadding, padBegin, padEnd, out);
        Ops.arraySize(g.outputShape(), node);
        return g;
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        Geometry g = geometry(node, in);
        long[] outShape = g.outputShape();
        boolean hasBias = in.has(2);
        boolean nativeRun = ctx.backend() == Backend.NATIVE && nativeShapes(g);
        if (!nativeRun) {
            return Ops.step(outShape, inputs -> Ops.result(reference(g, Ops.floats(inputs, 0, node).toArray(),
                    Ops.floats(inputs, 1, node).toArray(), hasBias ? Ops.floats(inputs, 2, node).toArray() : null), outShape));
        }
        // Node-by-node native: weights known now (initializers, the usual case) compile once; else per run.
        Primitives.PrimitiveOp compiled = in.isConstant(1) && (!hasBias || in.isConstant(2))
                ? primitive(node, g, Primitives.array(in.constants(), 1, node), hasBias ? Primitives.array(in.constants(), 2, node) : null, true, null)
                : null;
        return new Step() {
            @Override public List<long[]> outputShapes() { return List.of(outShape); }
            @Override public List<DataType> outputTypes() { return List.of(DataType.FLOAT); }

            @Override public List<Value> run(List<Value> inputs) {
                Tensor x = Ops.floats(inputs, 0, node);
                if (compiled != null) return List.of(runPlain(compiled, x, outShape));
                try (Primitives.PrimitiveOp once = primitive(node, g, Ops.floats(inputs, 1, node).toArray(),
                        hasBias ? Ops.floats(inputs, 2, node).toArray() : null, true, null)) {
                    return List.of(runPlain(once, x, outShape));
                }
            }

            @Override public void close() {
                if (compiled != null) compiled.close();
            }
        };
    }

    /** A compiled plan's form: constant weights and bias, oneDNN's layouts for X and Y, the fused activation as a post-op. */
    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (!in.isConstant(1) || (in.has(2) && !in.isConstant(2)) || in.isConstant(0)) return null;
        for (int i = 1; i < node.outputs().size(); i++) if (!node.outputs().get(i).isEmpty()) return null;
        Geometry g = geometry(node, in);
        if (!nativeShapes(g)) return null;
        return primitive(node, g, Primitives.array(in.constants(), 1, node), in.has(2) ? Primitives.array(in.constants(), 2, node) : null,
                false, lowering.fused());
    }

    /** Whether a compiled plan can run this ConvTranspose natively (and so fold a BatchNormalization into it): runtime float X, constant float W and B. */
    public static boolean chainable(Node convT, Inputs in) {
        if (!in.has(0) || in.isConstant(0) || in.type(0) != DataType.FLOAT) return false;
        if (!(in.constant(1) instanceof Value.Floats) || (in.has(2) && !(in.constant(2) instanceof Value.Floats))) return false;
        for (int i = 1; i < convT.outputs().size(); i++) if (!convT.outputs().get(i).isEmpty()) return false;
        return nativeShapes(geometry(convT, in));
    }

    /**
     * ConvTranspose with an optional inference BatchNormalization (constant γ, β, mean, var: its inputs 1–4
     * in {@code bnConstants}) folded into its weights and bias ({@link #foldBatchNorm}) and an optional
     * activation as a post-op: {@code N×C×… → N×K×…}, one oneDNN deconvolution. Only for {@link #chainable} nodes.
     */
    public static NativeOp lowerChain(Node convT, Inputs in, Node batchNorm, List<Value> bnConstants, PostOp activation) {
        Geometry g = geometry(convT, in);
        float[] w = Primitives.array(in.constants(), 1, convT);
        float[] b = in.has(2) ? Primitives.array(in.constants(), 2, convT) : null;
        Node named = convT;
        if (batchNorm != null) {
            Folded f = foldBatchNorm(w, g.weightShape(), g.group(), b, Primitives.array(bnConstants, 1, batchNorm),
                    Primitives.array(bnConstants, 2, batchNorm), Primitives.array(bnConstants, 3, batchNorm),
                    Primitives.array(bnConstants, 4, batchNorm), batchNorm.attributes().getFloat("epsilon", 1e-5f));
            w = f.weights();
            b = f.bias();
            named = new Node(convT.label() + " + " + batchNorm.label() + " (folded)", convT.opType(), convT.inputs(), convT.outputs(), convT.attributes());
        }
        return primitive(named, g, w, b, false, activation);
    }

    /**
     * Whether oneDNN can run this geometry: descriptors of rank ≤ 6 with positive dims, and an output
     * extension past the natural size (a negative end pad) smaller than the stride, which oneDNN requires
     * ("right padding and stride must sum up to a positive value"); larger extensions run on Java.
     */
    private static boolean nativeShapes(Geometry g) {
        long[] pr = g.dnnlPadEnd();
        for (int i = 0; i < pr.length; i++) if (pr[i] + g.strides()[i] <= 0) return false;
        return Primitives.nativeShape(g.inputShape()) && Primitives.nativeShape(g.outputShape()) && Primitives.nativeShape(g.weightShape());
    }

    private static Value runPlain(Primitives.PrimitiveOp op, Tensor x, long[] outShape) {
        Tensor y = Tensor.zeros(outShape);
        try (Arena scratch = Arena.ofConfined();
             NativeOp.Bound bound = op.bind(new MemorySegment[] {x.segment()}, y.segment(), scratch.allocate(Math.max(64, op.scratchpadBytes()), 64))) {
            bound.run();
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return new Value.Floats(y);
    }

    /**
     * The reference: {@code Y[n, g·K/g + m, i·s − pb + j·d] += X[n, g·C/g + c, i] · W[g·C/g + c, m, j]}
     * summed in double over every input position i and kernel position j that land inside the output,
     * then {@code + B[k]}, rounded once. Spatial axes are padded to three (leading sizes of 1).
     */
    static float[] reference(Geometry g, float[] x, float[] w, float[] bias) {
        int sp = g.spatial();
        long[] in3 = pad3(g.in(), sp), k3 = pad3(g.kernel(), sp), o3 = pad3(g.out(), sp);
        // Per axis: output coordinate of input i and kernel tap j, or -1 outside the output.
        int[][] target = new int[3][];
        for (int a = 0; a < 3; a++) {
            int d = a - (3 - sp);
            long s = d < 0 ? 1 : g.strides()[d], dil = d < 0 ? 1 : g.dilations()[d], pb = d < 0 ? 0 : g.padBegin()[d];
            int ni = (int) in3[a], nk = (int) k3[a];
            target[a] = new int[ni * nk];
            for (int i = 0; i < ni; i++) {
                for (int j = 0; j < nk; j++) {
                    long o = i * s + j * dil - pb;
                    target[a][i * nk + j] = o < 0 || o >= o3[a] ? -1 : (int) o;
                }
            }
        }
        int n = (int) g.n(), c = (int) g.c(), k = (int) g.k(), groups = g.group();
        int cg = c / groups, kg = k / groups;
        int ID = (int) in3[0], IH = (int) in3[1], IW = (int) in3[2];
        int KD = (int) k3[0], KH = (int) k3[1], KW = (int) k3[2];
        int OD = (int) o3[0], OH = (int) o3[1], OW = (int) o3[2];
        int inSize = ID * IH * IW, kSize = KD * KH * KW, outSize = OD * OH * OW;
        double[] acc = new double[n * k * outSize];
        int[] td = target[0], th = target[1], tw = target[2];
        for (int b = 0; b < n; b++) {
            for (int ci = 0; ci < c; ci++) {
                int grp = ci / cg;
                int xBase = (b * c + ci) * inSize;
                for (int m = 0; m < kg; m++) {
                    int ko = grp * kg + m;
                    int wBase = (ci * kg + m) * kSize;
                    int yBase = (b * k + ko) * outSize;
                    for (int id = 0; id < ID; id++) {
                        for (int ih = 0; ih < IH; ih++) {
                            for (int iw = 0; iw < IW; iw++) {
                                double xv = x[xBase + (id * IH + ih) * IW + iw];
                                for (int jd = 0; jd < KD; jd++) {
                                    int od = td[id * KD + jd];
                                    if (od < 0) continue;
                                    for (int jh = 0; jh < KH; jh++) {
                                        int oh = th[ih * KH + jh];
                                        if (oh < 0) continue;
                                        int row = yBase + (od * OH + oh) * OW;
                                        int wRow = wBase + (jd * KH + jh) * KW;
                                        for (int jw = 0; jw < KW; jw++) {
                                            int ow = tw[iw * KW + jw];
                                            if (ow >= 0) acc[row + ow] += xv * w[wRow + jw];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        float[] y = new float[acc.length];
        for (int b = 0; b < n; b++) {
            for (int ko = 0; ko < k; ko++) {
                double add = bias == null ? 0 : bias[ko];
                int base = (b * k + ko) * outSize;
                for (int i = 0; i < outSize; i++) y[base + i] = (float) (acc[base + i] + add);
            }
        }
        return y;
    }

    private static long[] pad3(long[] dims, int sp) {
        long[] r = {1, 1, 1};
        System.arraycopy(dims, 0, r, 3 - sp, sp);
        return r;
    }

    /**
     * oneDNN's deconvolution for this geometry: weights (and bias) bound as constants, reordered once into
     * the kernel's layout. {@code plain}: X and Y row-major (node-by-node runs on plain tensors); else
     * oneDNN picks their layouts (the compiled plan reorders X into it and keeps Y in it).
     */
    static Primitives.PrimitiveOp primitive(Node node, Geometry g, float[] weights, float[] bias, boolean plain, PostOp fused) {
        int sp = g.spatial();
        long[] x = g.inputShape(), y = g.outputShape();
        int groups = g.group();
        // oneDNN's logical weight dims are (g,) O, I, k…; ONNX stores I (= C) outermost, then O/g: "iohw"/"giohw".
        long[] wDims = new long[sp + 2 + (groups > 1 ? 1 : 0)];
        int at = 0;
        if (groups > 1) wDims[at++] = groups;
        wDims[at++] = g.k() / groups;
        wDims[at++] = g.c() / groups;
        System.arraycopy(g.kernel(), 0, wDims, at, sp);
        int userTag = groups > 1
                ? switch (sp) { case 1 -> dnnl_acbd(); case 2 -> dnnl_acbde(); default -> dnnl_acbdef(); }
                : switch (sp) { case 1 -> dnnl_bac(); case 2 -> dnnl_bacd(); default -> dnnl_bacde(); };
        long[] dilates = new long[sp];
        for (int i = 0; i < sp; i++) dilates[i] = g.dilations()[i] - 1; // oneDNN counts dilation from 0
        String description = node.label() + ": deconvolution " + MemoryDescs.dims(x) + " * " + MemoryDescs.dims(g.weightShape())
                + (groups > 1 ? " g" + groups : "") + " s" + Arrays.toString(g.strides()) + " d" + Arrays.toString(g.dilations())
                + " p" + Arrays.toString(g.padBegin()) + Arrays.toString(g.padEnd()) + " -> " + MemoryDescs.dims(y)
                + (fused == null ? "" : " +" + fused.algorithm().name().toLowerCase() + "(" + fused.alpha() + "," + fused.beta() + ")");
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        boolean created = false;
        try {
            Arena a = op.arena;
            MemorySegment src = plain ? MemoryDescs.plain(a, x) : MemoryDescs.any(a, x);
            MemorySegment dst = plain ? MemoryDescs.plain(a, y) : MemoryDescs.any(a, y);
            MemorySegment weightsAny = MemoryDescs.any(a, wDims);
            MemorySegment weightsUser = MemoryDescs.create(a, wDims, userTag);
            MemorySegment biasDesc = bias != null ? MemoryDescs.plain(a, new long[] {g.k()}) : MemorySegment.NULL;
            MemorySegment strides = a.allocateFrom(C_LONG, g.strides());
            MemorySegment dil = a.allocateFrom(C_LONG, dilates);
            MemorySegment padL = a.allocateFrom(C_LONG, g.padBegin());
            MemorySegment padR = a.allocateFrom(C_LONG, g.dnnlPadEnd());
            MemorySegment attr = Primitives.userScratchpad(a, description);
            Primitives.appendEltwise(a, attr, fused, description);
            MemorySegment engine = Engine.cpu();
            created = true; // create closes op itself when it fails
            op.create("dnnl_deconvolution_forward_primitive_desc_create", o -> dnnl_deconvolution_forward_primitive_desc_create(o, engine,
                    dnnl_forward_inference(), dnnl_deconvolution_direct(), src, weightsAny, biasDesc, dst, strides, dil, padL, padR, attr));
            MemorySegment weightsDesc = op.primitive.queryDesc(dnnl_query_weights_md(), 0);
            op.constants.add(new Primitives.PrimitiveOp.Constant(DNNL_ARG_WEIGHTS(), weightsDesc,
                    Primitives.pack(a, weightsUser, weightsDesc, weights, "weights of " + description)));
            if (bias != null) op.constant(DNNL_ARG_BIAS(), bias);
            return op.srcToDst();
        } catch (RuntimeException e) {
            if (!created || op.primitive != null) op.close();
            throw e;
        }
    }

    /** A ConvTranspose's weights and bias with a following inference BatchNormalization folded in. */
    public record Folded(float[] weights, float[] bias) {}

    /**
     * Folds {@code BatchNormalization(ConvTranspose(x, W, B))} (inference: given mean and var) into one
     * ConvTranspose: with {@code s[k] = γ[k]/√(var[k]+ε)} per output channel k,
     * {@code W'[c, m, …] = W[c, m, …]·s[k]} where {@code k = (c / (C/g))·(K/g) + m}, and
     * {@code B'[k] = (B[k] − mean[k])·s[k] + β[k]} (B = 0 when absent). Computed in double, rounded once.
     *
     * @param weights ONNX layout C × K/g × k…, {@code weightShape} its shape
     */
    public static Folded foldBatchNorm(float[] weights, long[] weightShape, int group, float[] bias,
                                       float[] gamma, float[] beta, float[] mean, float[] var, double epsilon) {
        int c = (int) weightShape[0], kg = (int) weightShape[1];
        int k = kg * group, cg = c / group;
        int taps = (int) (Ops.count(weightShape) / ((long) c * kg));
        if (gamma.length != k || beta.length != k || mean.length != k || var.length != k || (bias != null && bias.length != k)) {
            throw new IllegalArgumentException("batch norm parameters must have " + k + " values (one per output channel)");
        }
        double[] scale = new double[k];
        float[] b = new float[k];
        for (int o = 0; o < k; o++) {
            scale[o] = gamma[o] / Math.sqrt((double) var[o] + epsilon);
            b[o] = (float) (((bias == null ? 0 : bias[o]) - (double) mean[o]) * scale[o] + beta[o]);
        }
        float[] w = new float[weights.length];
        for (int ci = 0; ci < c; ci++) {
            for (int m = 0; m < kg; m++) {
                double s = scale[(ci / cg) * kg + m];
                int base = (ci * kg + m) * taps;
                for (int t = 0; t < taps; t++) w[base + t] = (float) (weights[base + t] * s);
            }
        }
        return new Folded(w, b);
    }
}
