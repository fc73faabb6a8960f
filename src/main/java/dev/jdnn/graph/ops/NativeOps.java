package dev.jdnn.graph.ops;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.ops.Ops.*;

import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.dnnl.Primitive;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.conv.BnFolding;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.ops.reorder.NativeReorder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The ops a compiled native plan runs as oneDNN primitives in whatever layout their producer left the
 * data in (blocked layouts stay blocked): Conv chains (Conv [+ folded BatchNormalization] [+ residual
 * Add] [+ Relu/Clip]), MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, inference
 * BatchNormalization [+ ReLU], Relu, LeakyRelu, Clip, same-shape Add/Sub/Mul/Div, Concat, Gemm with
 * constant weights (inner product), and the plain copies Flatten, Reshape, Squeeze, Unsqueeze,
 * Identity, Dropout. {@link #compile} returns null for anything else (the plan runs that node's Java
 * kernel on plain tensors instead). Attribute validation is the Java kernels' (they are prepared first).
 */
public final class NativeOps {
    private NativeOps() {}

    /** An element-wise function that can run as a post-op: {@code alg(x; alpha, beta)}. */
    public record Activation(EltwiseAlgorithm algorithm, float alpha, float beta) {
        /**
         * The activation {@code node} computes, or null if it is not one (or its bounds are not constants).
         * Relu; LeakyRelu; Clip with attribute bounds (opset < 11) or constant inputs.
         */
        public static Activation of(Node node, List<Value> constants, List<long[]> shapes, int opset) {
            return switch (node.opType()) {
                case "Relu" -> new Activation(EltwiseAlgorithm.RELU, 0f, 0f);
                case "LeakyRelu" -> new Activation(EltwiseAlgorithm.RELU, node.attributes().getFloat("alpha", 0.01f), 0f);
                case "Clip" -> {
                    if (opset < 11) {
                        yield new Activation(EltwiseAlgorithm.CLIP, node.attributes().getFloat("min", -Float.MAX_VALUE),
                                node.attributes().getFloat("max", Float.MAX_VALUE));
                    }
                    for (int i = 1; i <= 2; i++) if (node.input(i) != null && (constants.size() <= i || constants.get(i) == null)) yield null;
                    yield new Activation(EltwiseAlgorithm.CLIP, constantScalar(constants, shapes, 1, node, "min", -Float.MAX_VALUE),
                            constantScalar(constants, shapes, 2, node, "max", Float.MAX_VALUE));
                }
                default -> null;
            };
        }
    }

    private static final Set<String> COPIES = Set.of("Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout");

    /**
     * Compiles {@code node} for the given layouts of its runtime inputs, or returns null if it has no
     * native form here. {@code activation}: a ReLU to run inside a BatchNormalization (else null).
     *
     * @param shapes        shape of every node input (null for omitted)
     * @param constants     value of every input known at prepare time (else null)
     * @param runtimeDescs  current layout of each runtime (non-constant) input, in order
     * @param outputShapes  the node's output shapes, as its Java kernel computed them
     */
    public static NativeOp compile(Node node, List<long[]> shapes, List<Value> constants, List<MemorySegment> runtimeDescs,
                                   List<long[]> outputShapes, int opset, Activation activation) {
        long[] out = outputShapes.get(0);
        for (int i = 1; i < node.outputs().size(); i++) if (!node.outputs().get(i).isEmpty()) return null;
        if (!nativeShape(out)) return null;
        for (int i = 0; i < shapes.size(); i++) if (shapes.get(i) != null && constants.get(i) == null && !nativeShape(shapes.get(i))) return null;
        String op = node.opType();
        if (COPIES.contains(op)) {
            if (runtimeDescs.size() != 1 || constants.get(0) != null) return null;
            boolean sameShape = Arrays.equals(shapes.get(0), out);
            // Identity and Dropout keep the layout they get; reshaping ops work on row-major data.
            return sameShape && (op.equals("Identity") || op.equals("Dropout")) ? identity(node, out, runtimeDescs.get(0)) : copy(node, shapes.get(0), out);
        }
        return switch (op) {
            case "MaxPool", "AveragePool" -> shapes.get(0).length == 4 && runtimeDescs.size() == 1 ? pool(node, shapes.get(0), out, runtimeDescs.get(0), op.equals("MaxPool")) : null;
            case "GlobalAveragePool", "GlobalMaxPool" -> shapes.get(0).length == 4 && runtimeDescs.size() == 1
                    ? globalPool(node, shapes.get(0), out, runtimeDescs.get(0), op.equals("GlobalMaxPool")) : null;
            case "BatchNormalization" -> batchNorm(node, shapes, constants, runtimeDescs, activation);
            case "Relu", "LeakyRelu", "Clip" -> {
                Activation a = Activation.of(node, constants, shapes, opset);
                yield a == null || runtimeDescs.size() != 1 || constants.get(0) != null ? null : eltwise(node, a, out, runtimeDescs.get(0));
            }
            case "Add", "Sub", "Mul", "Div" -> {
                if (runtimeDescs.size() == 2) {
                    yield Arrays.equals(shapes.get(0), shapes.get(1)) && Arrays.equals(shapes.get(0), out) ? binary(node, out, runtimeDescs.get(0)) : null;
                }
                yield runtimeDescs.size() == 1 ? scalarLinear(node, shapes, constants, out, runtimeDescs.get(0)) : null;
            }
            case "Concat" -> {
                if (runtimeDescs.size() != node.inputs().size()) yield null;
                yield runtimeDescs.size() == 1 ? identity(node, out, runtimeDescs.get(0)) : concat(node, out, runtimeDescs);
            }
            case "Pad" -> zeroPad(node, constants) && runtimeDescs.size() == 1 && constants.get(0) == null ? identity(node, out, runtimeDescs.get(0)) : null;
            case "Gather" -> runtimeDescs.size() == 1 && constants.get(0) == null ? gatherOne(node, shapes.get(0), constants, out) : null;
            case "Gemm" -> gemm(node, shapes, constants, runtimeDescs, out);
            default -> null;
        };
    }

    /** oneDNN descriptors cover rank 1..6 with positive dimensions. */
    private static boolean nativeShape(long[] shape) {
        if (shape.length < 1 || shape.length > 6) return false;
        for (long d : shape) if (d <= 0) return false;
        return true;
    }

    /**
     * Conv (2-D, constant weights and bias) with an optional inference BatchNormalization folded into its
     * weights ({@link BnFolding}), an optional residual sum and an optional activation as post-ops:
     * {@code N×C×H×W → N×K×OH×OW}. Runtime inputs: x, then the residual when {@code residual}.
     */
    public static NativeOp convChain(Node conv, List<long[]> convShapes, List<Value> convConstants,
                                     Node batchNorm, List<Value> bnConstants, boolean residual, Activation activation, boolean autotune) {
        long[] x = convShapes.get(0);
        long[] w = convShapes.get(1);
        int group = (int) conv.attributes().getInt("group", 1);
        long[] kernel = {w[2], w[3]};
        long[] strides = ConvOps.ints(conv, "strides", 2, 1);
        long[] dilations = ConvOps.ints(conv, "dilations", 2, 1);
        long[] pads = ConvOps.pads(conv, x, kernel, strides, dilations);
        Conv2dParams params = new Conv2dParams((int) x[1], (int) w[0], (int) kernel[0], (int) kernel[1], (int) strides[0], (int) strides[1],
                (int) pads[0], (int) pads[1], (int) pads[2], (int) pads[3], (int) dilations[0], (int) dilations[1], group);
        Conv2d layer = ConvOps.layer(params, convConstants.get(1), conv.input(2) != null ? convConstants.get(2) : null, conv);
        String label = conv.label();
        if (batchNorm != null) {
            float eps = batchNorm.attributes().getFloat("epsilon", 1e-5f);
            layer = BnFolding.fold(params, layer.weights(), layer.hasBias() ? layer.bias() : null,
                    array(bnConstants, 1, batchNorm), array(bnConstants, 2, batchNorm), array(bnConstants, 3, batchNorm),
                    array(bnConstants, 4, batchNorm), eps);
            label += " + " + batchNorm.label() + " (folded)";
        }
        NativeConv2d.PostOps post = activation == null
                ? new NativeConv2d.PostOps(residual, null, 0f, 0f)
                : new NativeConv2d.PostOps(residual, activation.algorithm(), activation.alpha(), activation.beta());
        NativeConv2d compiled = autotune ? NativeConv2d.tuned(layer, x, post, 2) : new NativeConv2d(layer, x, post);
        String description = label + ": " + compiled.description() + " [" + compiled.implementation() + "]";
        return new NativeOp() {
            @Override public MemorySegment inputDesc(int i) { return i == 0 ? compiled.srcDesc() : compiled.dstDesc(); }
            @Override public MemorySegment outputDesc() { return compiled.dstDesc(); }
            @Override public long scratchpadBytes() { return compiled.scratchpadBytes(); }
            @Override public int reusesInput() { return residual ? 1 : -1; }
            @Override public String description() { return description; }

            @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                Execution execution = compiled.bind(inputs[0], output, scratchpad);
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

    private static float[] array(List<Value> constants, int i, Node node) {
        if (!(constants.get(i) instanceof Value.Floats f)) throw error(node, "input " + i + " must be a float32 constant");
        return f.tensor().toArray();
    }

    /** One primitive with its argument kinds: runtime inputs, the output, constants bound once, scratchpad. */
    private static final class PrimitiveOp implements NativeOp {
        private record Constant(int kind, MemorySegment desc, MemorySegment data) {}

        final Arena arena = Arena.ofShared();
        Primitive primitive;
        String description;
        int[] inputKinds;
        MemorySegment[] inputDescs;
        int outputKind;
        MemorySegment outputDesc;
        final List<Constant> constants = new ArrayList<>();
        long scratchpadBytes;
        int reusesInput = -1;   // oneDNN runs this primitive in place (dst = src) correctly

        PrimitiveOp(String description) {
            this.description = description;
        }

        /** Creates the primitive (pd out-pointer → status) and reads its scratchpad size; closes on failure. */
        PrimitiveOp create(String function, java.util.function.ToIntFunction<MemorySegment> createDesc) {
            try {
                primitive = Primitive.create(function, description, createDesc);
                scratchpadBytes = MemoryDescs.size(primitive.queryDesc(dnnl_query_scratchpad_md(), 0));
                description += " [" + primitive.implementation() + "]";
                return this;
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        PrimitiveOp constant(int kind, float[] values) {
            MemorySegment desc = MemoryDescs.plain(arena, new long[] {values.length});
            constants.add(new Constant(kind, desc, arena.allocateFrom(ValueLayout.JAVA_FLOAT, values)));
            return this;
        }

        @Override public MemorySegment inputDesc(int i) { return inputDescs[i]; }
        @Override public MemorySegment outputDesc() { return outputDesc; }
        @Override public long scratchpadBytes() { return scratchpadBytes; }
        @Override public int reusesInput() { return reusesInput; }
        @Override public String description() { return description; }

        @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
            Execution e = new Execution(primitive, inputKinds.length + constants.size() + 2);
            try {
                for (int i = 0; i < inputKinds.length; i++) e.arg(inputKinds[i], inputDescs[i]).set(inputKinds[i], inputs[i]);
                e.arg(outputKind, outputDesc).set(outputKind, output);
                for (Constant c : constants) e.arg(c.kind(), c.desc()).set(c.kind(), c.data());
                if (scratchpadBytes > 0) {
                    e.arg(DNNL_ARG_SCRATCHPAD(), primitive.queryDesc(dnnl_query_scratchpad_md(), 0)).set(DNNL_ARG_SCRATCHPAD(), scratchpad);
                }
            } catch (RuntimeException ex) {
                e.close();
                throw ex;
            }
            return new Bound() {
                @Override public void run() { e.run(); }
                @Override public void close() { e.close(); }
            };
        }

        @Override public void close() {
            if (primitive != null) primitive.close();
            arena.close();
        }
    }

    /** An attribute with a user-managed scratchpad (every frame brings its own). */
    private static MemorySegment userScratchpad(Arena arena, String description) {
        MemorySegment attr = Dnnl.create(arena, "dnnl_primitive_attr_create", description,
                out -> dnnl_primitive_attr_create(out), a -> dnnl_primitive_attr_destroy(a));
        Dnnl.check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user()), "dnnl_primitive_attr_set_scratchpad_mode", description);
        return attr;
    }

    /** Pooling, 2-D: ONNX's ceil_mode becomes extra end padding; oneDNN's padding value is −∞ for max and excluded or counted for average. */
    private static NativeOp pool(Node node, long[] x, long[] out, MemorySegment srcDesc, boolean max) {
        long[] kernel = node.attributes().getInts("kernel_shape", null);
        long[] strides = ConvOps.ints(node, "strides", 2, 1);
        long[] dilations = ConvOps.ints(node, "dilations", 2, 1);
        long[] pads = ConvOps.pads(node, x, kernel, strides, dilations);
        boolean includePad = node.attributes().getInt("count_include_pad", 0) == 1;
        long[] padEnd = new long[2];
        for (int i = 0; i < 2; i++) {
            long extent = (kernel[i] - 1) * dilations[i] + 1;
            padEnd[i] = (out[i + 2] - 1) * strides[i] + extent - x[i + 2] - pads[i];
            if (padEnd[i] < 0) return null;
            // Counting padding: only when oneDNN's padded area is ONNX's (ceil_mode's overhang is not counted).
            if (!max && includePad && padEnd[i] != pads[i + 2]) return null;
        }
        int alg = max ? dnnl_pooling_max() : includePad ? dnnl_pooling_avg_include_padding() : dnnl_pooling_avg_exclude_padding();
        return poolPrimitive(node.label() + ": " + node.opType() + " " + MemoryDescs.dims(x) + " -> " + MemoryDescs.dims(out),
                x, out, srcDesc, alg, strides, kernel, new long[] {dilations[0] - 1, dilations[1] - 1}, new long[] {pads[0], pads[1]}, padEnd);
    }

    private static NativeOp globalPool(Node node, long[] x, long[] out, MemorySegment srcDesc, boolean max) {
        return poolPrimitive(node.label() + ": " + node.opType() + " " + MemoryDescs.dims(x) + " -> " + MemoryDescs.dims(out),
                x, out, srcDesc, max ? dnnl_pooling_max() : dnnl_pooling_avg_exclude_padding(),
                new long[] {1, 1}, new long[] {x[2], x[3]}, new long[2], new long[2], new long[2]);
    }

    private static NativeOp poolPrimitive(String description, long[] x, long[] out, MemorySegment srcDesc, int alg,
                                          long[] strides, long[] kernel, long[] dilation, long[] padBegin, long[] padEnd) {
        PrimitiveOp op = new PrimitiveOp("pooling " + description);
        try {
            Arena a = op.arena;
            MemorySegment src = srcDesc;
            MemorySegment dstAny = MemoryDescs.any(a, out);
            MemorySegment s = a.allocateFrom(C_LONG, strides), k = a.allocateFrom(C_LONG, kernel), d = a.allocateFrom(C_LONG, dilation);
            MemorySegment pl = a.allocateFrom(C_LONG, padBegin), pr = a.allocateFrom(C_LONG, padEnd);
            MemorySegment attr = userScratchpad(a, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_pooling_forward_primitive_desc_create", out1 -> dnnl_pooling_forward_primitive_desc_create(out1, engine,
                    dnnl_forward_inference(), alg, src, dstAny, s, k, d, pl, pr, attr));
            op.inputKinds = new int[] {DNNL_ARG_SRC()};
            op.inputDescs = new MemorySegment[] {op.primitive.queryDesc(dnnl_query_src_md(), 0)};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = op.primitive.queryDesc(dnnl_query_dst_md(), 0);
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /**
     * Inference batch norm with constant statistics, in the input's layout, as the per-channel affine map
     * it is: {@code y = x·s + t} with {@code s = γ/√(var+ε)}, {@code t = β − mean·s} (computed in double,
     * rounded once), run as oneDNN's binary multiply by s with an add-t binary post-op, and ReLU as an
     * eltwise post-op. (oneDNN's own batch-norm primitive measured 5-20× slower than this on AVX2 for
     * the same blocked tensors.)
     */
    private static NativeOp batchNorm(Node node, List<long[]> shapes, List<Value> constants, List<MemorySegment> descs, Activation relu) {
        if (node.attributes().getInt("training_mode", 0) == 1 || descs.size() != 1 || constants.get(0) != null) return null;
        for (int i = 1; i <= 4; i++) if (!(constants.get(i) instanceof Value.Floats)) return null;
        if (relu != null && (relu.algorithm() != EltwiseAlgorithm.RELU || relu.alpha() != 0)) return null;
        double eps = node.attributes().getFloat("epsilon", 1e-5f);
        long[] x = shapes.get(0);
        if (x.length < 2) return null;
        int c = (int) x[1];
        float[] gamma = array(constants, 1, node), beta = array(constants, 2, node), mean = array(constants, 3, node), var = array(constants, 4, node);
        float[] scale = new float[c], shift = new float[c];
        for (int k = 0; k < c; k++) {
            double sk = gamma[k] / Math.sqrt((double) var[k] + eps);
            scale[k] = (float) sk;
            shift[k] = (float) (beta[k] - mean[k] * sk);
        }
        long[] channelDims = new long[x.length];
        Arrays.fill(channelDims, 1);
        channelDims[1] = c;
        String description = node.label() + ": batch norm (inference) as scale-shift " + MemoryDescs.dims(x) + " eps " + (float) eps + (relu != null ? " +relu" : "");
        PrimitiveOp op = new PrimitiveOp(description);
        try {
            Arena a = op.arena;
            MemorySegment src = descs.get(0);
            MemorySegment channel = MemoryDescs.plain(a, channelDims);
            MemorySegment attr = userScratchpad(a, description);
            MemorySegment postOps = Dnnl.create(a, "dnnl_post_ops_create", description, o -> dnnl_post_ops_create(o), p -> dnnl_post_ops_destroy(p));
            Dnnl.check(dnnl_post_ops_append_binary(postOps, dnnl_binary_add(), channel), "dnnl_post_ops_append_binary", description);
            if (relu != null) Dnnl.check(dnnl_post_ops_append_eltwise(postOps, dnnl_eltwise_relu(), 0f, 0f), "dnnl_post_ops_append_eltwise", description);
            Dnnl.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "dnnl_primitive_attr_set_post_ops", description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_binary_primitive_desc_create", o -> dnnl_binary_primitive_desc_create(o, engine, dnnl_binary_mul(), src, channel, src, attr));
            op.reusesInput = 0;
            op.inputKinds = new int[] {DNNL_ARG_SRC_0()};
            op.inputDescs = new MemorySegment[] {op.primitive.queryDesc(dnnl_query_src_md(), 0)};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = op.primitive.queryDesc(dnnl_query_dst_md(), 0);
            op.constants.add(new PrimitiveOp.Constant(DNNL_ARG_SRC_1(), channel, a.allocateFrom(ValueLayout.JAVA_FLOAT, scale)));
            op.constants.add(new PrimitiveOp.Constant(DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE() | DNNL_ARG_SRC_1(), channel,
                    a.allocateFrom(ValueLayout.JAVA_FLOAT, shift)));
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    private static NativeOp eltwise(Node node, Activation a, long[] shape, MemorySegment srcDesc) {
        String description = node.label() + ": eltwise " + a.algorithm() + "(" + a.alpha() + ", " + a.beta() + ") " + MemoryDescs.dims(shape);
        PrimitiveOp op = new PrimitiveOp(description);
        try {
            MemorySegment attr = userScratchpad(op.arena, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_eltwise_forward_primitive_desc_create", o -> dnnl_eltwise_forward_primitive_desc_create(o, engine,
                    dnnl_forward_inference(), a.algorithm().dnnl(), srcDesc, srcDesc, a.alpha(), a.beta(), attr));
            op.reusesInput = 0;
            op.inputKinds = new int[] {DNNL_ARG_SRC()};
            op.inputDescs = new MemorySegment[] {srcDesc};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = op.primitive.queryDesc(dnnl_query_dst_md(), 0);
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /** Same-shape Add/Sub/Mul/Div; both inputs in the first one's layout. */
    private static NativeOp binary(Node node, long[] shape, MemorySegment srcDesc) {
        int alg = switch (node.opType()) {
            case "Add" -> dnnl_binary_add();
            case "Sub" -> dnnl_binary_sub();
            case "Mul" -> dnnl_binary_mul();
            default -> dnnl_binary_div();
        };
        String description = node.label() + ": binary " + node.opType() + " " + MemoryDescs.dims(shape);
        PrimitiveOp op = new PrimitiveOp(description);
        try {
            MemorySegment attr = userScratchpad(op.arena, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_binary_primitive_desc_create", o -> dnnl_binary_primitive_desc_create(o, engine, alg, srcDesc, srcDesc, srcDesc, attr));
            op.reusesInput = 0;
            op.inputKinds = new int[] {DNNL_ARG_SRC_0(), DNNL_ARG_SRC_1()};
            op.inputDescs = new MemorySegment[] {srcDesc, srcDesc};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = op.primitive.queryDesc(dnnl_query_dst_md(), 0);
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /** Concat along an axis, inputs in their own layouts; oneDNN picks the output's. */
    private static NativeOp concat(Node node, long[] out, List<MemorySegment> descs) {
        int axis = axis(node.attributes().getInt("axis", 0), out.length, node);
        String description = node.label() + ": concat of " + descs.size() + " along axis " + axis + " -> " + MemoryDescs.dims(out);
        PrimitiveOp op = new PrimitiveOp(description);
        try {
            Arena a = op.arena;
            MemorySegment srcs = a.allocate(C_POINTER, descs.size());
            for (int i = 0; i < descs.size(); i++) srcs.setAtIndex(C_POINTER, i, descs.get(i));
            MemorySegment dstAny = MemoryDescs.any(a, out);
            MemorySegment attr = userScratchpad(a, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_concat_primitive_desc_create", o -> dnnl_concat_primitive_desc_create(o, engine, dstAny, descs.size(), axis, srcs, attr));
            op.inputKinds = new int[descs.size()];
            op.inputDescs = new MemorySegment[descs.size()];
            for (int i = 0; i < descs.size(); i++) {
                op.inputKinds[i] = DNNL_ARG_MULTIPLE_SRC() + i;
                op.inputDescs[i] = op.primitive.queryDesc(dnnl_query_src_md(), i);
            }
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = op.primitive.queryDesc(dnnl_query_dst_md(), 0);
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /**
     * Gemm {@code Y = alpha·A·op(B) + beta·C} with A M×K at run time, B and C constants, no transA, C a
     * row vector (or absent): oneDNN's inner product with weights {@code alpha·B} (as N×K) and bias {@code beta·C}.
     */
    private static NativeOp gemm(Node node, List<long[]> shapes, List<Value> constants, List<MemorySegment> descs, long[] out) {
        if (descs.size() != 1 || constants.get(0) != null || node.attributes().getInt("transA", 0) == 1) return null;
        if (!(constants.get(1) instanceof Value.Floats b)) return null;
        boolean hasC = node.input(2) != null;
        long n = out[1], m = out[0], k = shapes.get(0)[1];
        if (hasC && (!(constants.get(2) instanceof Value.Floats) || count(shapes.get(2)) != n || shapes.get(2).length > 1 && shapes.get(2)[shapes.get(2).length - 1] != n)) {
            return null;
        }
        boolean transB = node.attributes().getInt("transB", 0) == 1;
        float alpha = node.attributes().getFloat("alpha", 1f), beta = node.attributes().getFloat("beta", 1f);
        float[] bv = b.tensor().toArray();
        float[] weights = new float[(int) (n * k)]; // N×K ("oi")
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < k; p++) weights[(int) (j * k + p)] = alpha * (transB ? bv[(int) (j * k + p)] : bv[(int) (p * n + j)]);
        }
        float[] bias = new float[(int) n];
        if (hasC) {
            float[] c = array(constants, 2, node);
            for (int j = 0; j < n; j++) bias[j] = beta * c[j];
        }
        String description = node.label() + ": inner_product " + m + "x" + k + " · (" + n + "x" + k + ")ᵀ";
        PrimitiveOp op = new PrimitiveOp(description);
        try {
            Arena a = op.arena;
            MemorySegment src = MemoryDescs.plain(a, new long[] {m, k});
            MemorySegment weightsAny = MemoryDescs.any(a, new long[] {n, k});
            MemorySegment weightsPlain = MemoryDescs.plain(a, new long[] {n, k});
            MemorySegment biasDesc = MemoryDescs.plain(a, new long[] {n});
            MemorySegment dst = MemoryDescs.plain(a, out);
            MemorySegment attr = userScratchpad(a, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_inner_product_forward_primitive_desc_create", o -> dnnl_inner_product_forward_primitive_desc_create(o, engine,
                    dnnl_forward_inference(), src, weightsAny, biasDesc, dst, attr));
            MemorySegment weightsDesc = op.primitive.queryDesc(dnnl_query_weights_md(), 0);
            MemorySegment packed = a.allocate(Math.max(64, MemoryDescs.size(weightsDesc)), 64);
            try (Arena staging = Arena.ofConfined(); NativeReorder pack = new NativeReorder(weightsPlain, weightsDesc, "weights of " + description)) {
                pack.run(staging.allocateFrom(ValueLayout.JAVA_FLOAT, weights), packed);
            }
            op.constants.add(new PrimitiveOp.Constant(DNNL_ARG_WEIGHTS(), weightsDesc, packed));
            op.constant(DNNL_ARG_BIAS(), bias);
            op.inputKinds = new int[] {DNNL_ARG_SRC()};
            op.inputDescs = new MemorySegment[] {op.primitive.queryDesc(dnnl_query_src_md(), 0)};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = op.primitive.queryDesc(dnnl_query_dst_md(), 0);
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /** Pad that pads nothing (DenseNet's exports have one before each transition's AveragePool). */
    private static boolean zeroPad(Node node, List<Value> constants) {
        if (!node.attributes().getString("mode", "constant").equals("constant")) return false;
        long[] pads = node.attributes().getInts("pads", null);
        if (pads == null) {
            if (constants.size() < 2 || !(constants.get(1) instanceof Value.Longs l)) return false;
            pads = l.data();
        }
        for (long p : pads) if (p != 0) return false;
        return true;
    }

    /**
     * {@code x·c}, {@code x + c}, {@code x − c}, {@code c − x} with a constant scalar c, as oneDNN's
     * {@code linear} eltwise ({@code alpha·x + beta}), exact for these (one rounding, like the plain op).
     * Division is left to Java ({@code x·(1/c)} is not {@code x/c}).
     */
    private static NativeOp scalarLinear(Node node, List<long[]> shapes, List<Value> constants, long[] out, MemorySegment desc) {
        int runtime = constants.get(0) == null ? 0 : 1;
        if (!(constants.get(1 - runtime) instanceof Value.Floats c) || c.tensor().elementCount() != 1) return null;
        if (!Arrays.equals(shapes.get(runtime), out) || node.opType().equals("Div")) return null;
        float v = c.tensor().getFlat(0);
        Activation linear = switch (node.opType()) {
            case "Mul" -> new Activation(EltwiseAlgorithm.LINEAR, v, 0f);
            case "Add" -> new Activation(EltwiseAlgorithm.LINEAR, 1f, v);
            default -> runtime == 0 ? new Activation(EltwiseAlgorithm.LINEAR, 1f, -v) : new Activation(EltwiseAlgorithm.LINEAR, -1f, v);
        };
        return eltwise(node, linear, out, desc);
    }

    /** Gather of one constant index along an axis of a plain tensor: a copy of one slab per outer index. */
    private static NativeOp gatherOne(Node node, long[] in, List<Value> constants, long[] out) {
        if (!(constants.get(1) instanceof Value.Longs idx) || idx.data().length != 1) return null;
        int axis = axis(node.attributes().getInt("axis", 0), in.length, node);
        long index = idx.data()[0] < 0 ? idx.data()[0] + in[axis] : idx.data()[0];
        if (index < 0 || index >= in[axis]) return null; // the Java kernel reports it
        long outer = 1, inner = Float.BYTES;
        for (int i = 0; i < axis; i++) outer *= in[i];
        for (int i = axis + 1; i < in.length; i++) inner *= in[i];
        long slabs = outer, slab = inner, stride = in[axis] * inner, first = index * inner;
        Arena arena = Arena.ofShared();
        MemorySegment inDesc = MemoryDescs.plain(arena, in);
        MemorySegment outDesc = MemoryDescs.plain(arena, out);
        String description = node.label() + ": Gather index " + index + " of axis " + axis + " (copy) " + MemoryDescs.dims(in) + " -> " + MemoryDescs.dims(out);
        return new NativeOp() {
            @Override public MemorySegment inputDesc(int i) { return inDesc; }
            @Override public MemorySegment outputDesc() { return outDesc; }
            @Override public long scratchpadBytes() { return 0; }
            @Override public String description() { return description; }
            @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                MemorySegment src = inputs[0];
                return () -> {
                    for (long o = 0; o < slabs; o++) MemorySegment.copy(src, o * stride + first, output, o * slab, slab);
                };
            }
            @Override public void close() { arena.close(); }
        };
    }

    /** An op that passes its input through unchanged, in whatever layout it has (runs in place when it can). */
    private static NativeOp identity(Node node, long[] shape, MemorySegment desc) {
        long bytes = MemoryDescs.size(desc);
        String description = node.label() + ": " + node.opType() + " (identity) " + MemoryDescs.dims(shape);
        return new NativeOp() {
            @Override public MemorySegment inputDesc(int i) { return desc; }
            @Override public MemorySegment outputDesc() { return desc; }
            @Override public long scratchpadBytes() { return 0; }
            @Override public int reusesInput() { return 0; }
            @Override public String description() { return description; }
            @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                MemorySegment src = inputs[0];
                return () -> {
                    if (src.address() != output.address()) MemorySegment.copy(src, 0, output, 0, bytes);
                };
            }
            @Override public void close() { }
        };
    }

    /** Shape-only ops (Flatten, Reshape, ...): a plain copy, since row-major data does not change. */
    private static NativeOp copy(Node node, long[] in, long[] out) {
        Arena arena = Arena.ofShared();
        MemorySegment inDesc = MemoryDescs.plain(arena, in);
        MemorySegment outDesc = MemoryDescs.plain(arena, out);
        String description = node.label() + ": " + node.opType() + " (copy) " + MemoryDescs.dims(in) + " -> " + MemoryDescs.dims(out);
        return new NativeOp() {
            @Override public MemorySegment inputDesc(int i) { return inDesc; }
            @Override public MemorySegment outputDesc() { return outDesc; }
            @Override public long scratchpadBytes() { return 0; }
            @Override public String description() { return description; }
            @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                MemorySegment src = inputs[0];
                long bytes = count(out) * Float.BYTES;
                return () -> {
                    if (src.address() != output.address()) MemorySegment.copy(src, 0, output, 0, bytes);
                };
            }
            @Override public void close() { arena.close(); }
        };
    }
}
