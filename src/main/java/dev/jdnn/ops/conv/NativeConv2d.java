package dev.jdnn.ops.conv;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.dnnl.Primitive;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.ops.reorder.NativeReorder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A oneDNN forward-inference convolution compiled for one input shape:
 * {@code N×C×H×W (x) K×C/g×R×S → N×K×OH×OW}, with optional post-ops (residual sum, then ReLU).
 *
 * <p>Compile once, execute many: oneDNN picks the layouts ({@code format_tag_any}) and the kernel;
 * the weights are reordered into its layout here, once; the reorders between plain NCHW and its
 * activation layouts, the intermediate buffers and the scratchpad (user mode) are prepared here too.
 * {@link #run} then only executes: it allocates nothing. {@link #runInNativeLayout} skips the boundary
 * reorders for callers (the graph runtime, benchmarks) that keep activations in {@link #srcDesc()} /
 * {@link #dstDesc()}.
 *
 * <p>Not for concurrent use (the buffers are its state); {@code run} is synchronised.
 */
public final class NativeConv2d implements AutoCloseable {

    /**
     * What follows the convolution inside the same primitive: {@code dst = act(conv(x) [+ residual])},
     * where {@code act} is {@code activation} with its alpha/beta (ReLU: 0, 0; Clip: min, max), or none (null).
     */
    public record PostOps(boolean residualSum, EltwiseAlgorithm activation, float alpha, float beta) {
        public static final PostOps NONE = new PostOps(false, null, 0f, 0f);

        /** The ResNet-block chain: optional residual sum, optional ReLU. */
        public static PostOps of(boolean residualSum, boolean relu) {
            return new PostOps(residualSum, relu ? EltwiseAlgorithm.RELU : null, 0f, 0f);
        }

        public boolean any() {
            return residualSum || activation != null;
        }

        @Override public String toString() {
            return (residualSum ? " +sum" : "") + (activation == null ? "" : " +" + activation.name().toLowerCase()
                    + (activation == EltwiseAlgorithm.CLIP ? "(" + alpha + "," + beta + ")" : alpha != 0 ? "(" + alpha + ")" : ""));
        }
    }

    private final Arena arena = Arena.ofShared();
    private final Conv2dParams params;
    private final long[] inputShape;
    private final long[] outputShape;
    private final PostOps postOps;
    private final String description;
    private Primitive primitive;
    private Execution execution;
    private NativeReorder srcToNative;   // null when oneDNN chose plain NCHW for the source
    private NativeReorder dstToPlain;    // null when oneDNN chose plain NCHW for the destination
    private NativeReorder residualToNative;
    private MemorySegment srcNative;     // source in oneDNN's layout (only if srcToNative != null)
    private MemorySegment dstNative;     // destination in oneDNN's layout (only if dstToPlain != null)
    private MemorySegment weights;       // in the kernel's layout, reordered once
    private MemorySegment bias;          // null without bias
    private MemorySegment biasDesc;
    private long scratchpadBytes;
    private boolean closed;

    public NativeConv2d(Conv2d conv, long[] inputShape, PostOps postOps) {
        this(conv, inputShape, postOps, 0);
    }

    /**
     * With oneDNN's {@code candidate}-th implementation (0 = its first choice; see {@link #tuned}).
     *
     * @throws IllegalArgumentException if oneDNN has fewer candidates
     */
    public NativeConv2d(Conv2d conv, long[] inputShape, PostOps postOps, int candidate) {
        this.params = conv.params();
        this.inputShape = inputShape.clone();
        this.outputShape = params.outputShape(inputShape); // validates before anything native
        this.postOps = postOps;
        this.description = params + " " + MemoryDescs.dims(inputShape) + " -> " + MemoryDescs.dims(outputShape)
                + postOps;
        try {
            compile(conv, candidate);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void compile(Conv2d conv, int candidate) {
        int g = params.groups();
        long[] weightDims = g == 1 ? params.weightShape()
                : new long[] {g, params.outChannels() / g, params.inChannels() / g, params.kernelH(), params.kernelW()};
        MemorySegment srcAny = MemoryDescs.any(arena, inputShape);
        MemorySegment dstAny = MemoryDescs.any(arena, outputShape);
        MemorySegment weightsAny = MemoryDescs.any(arena, weightDims);
        MemorySegment weightsPlain = MemoryDescs.create(arena, weightDims, g == 1 ? dnnl_oihw() : dnnl_goihw());
        biasDesc = conv.hasBias() ? MemoryDescs.plain(arena, new long[] {params.outChannels()}) : MemorySegment.NULL;
        MemorySegment strides = arena.allocateFrom(C_LONG, params.strideH(), params.strideW());
        // oneDNN counts dilation from 0 (dense), PyTorch and ONNX from 1.
        MemorySegment dilates = arena.allocateFrom(C_LONG, params.dilationH() - 1, params.dilationW() - 1);
        MemorySegment padL = arena.allocateFrom(C_LONG, params.padTop(), params.padLeft());
        MemorySegment padR = arena.allocateFrom(C_LONG, params.padBottom(), params.padRight());
        MemorySegment attr = attributes();
        MemorySegment engine = Engine.cpu();
        primitive = Primitive.create("dnnl_convolution_forward_primitive_desc_create", description,
                out -> dnnl_convolution_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                        dnnl_convolution_direct(), srcAny, weightsAny, biasDesc, dstAny, strides, dilates, padL, padR, attr), candidate);

        MemorySegment srcDesc = primitive.queryDesc(dnnl_query_src_md(), 0);
        MemorySegment dstDesc = primitive.queryDesc(dnnl_query_dst_md(), 0);
        MemorySegment weightsDesc = primitive.queryDesc(dnnl_query_weights_md(), 0);
        MemorySegment scratchDesc = primitive.queryDesc(dnnl_query_scratchpad_md(), 0);

        // Weights: reordered once into the layout the kernel wants.
        weights = arena.allocate(Math.max(64, MemoryDescs.size(weightsDesc)), 64);
        try (Arena staging = Arena.ofConfined();
             NativeReorder toKernel = new NativeReorder(weightsPlain, weightsDesc, "weights of " + description)) {
            MemorySegment plain = staging.allocateFrom(ValueLayout.JAVA_FLOAT, conv.weightsView());
            toKernel.run(plain, weights);
        }
        scratchpadBytes = Math.max(64, MemoryDescs.size(scratchDesc));
        if (conv.hasBias()) bias = arena.allocateFrom(ValueLayout.JAVA_FLOAT, conv.biasView());
        execution = newExecution(arena.allocate(scratchpadBytes, 64));

        MemorySegment srcPlain = MemoryDescs.plain(arena, inputShape);
        MemorySegment dstPlain = MemoryDescs.plain(arena, outputShape);
        if (!MemoryDescs.equal(srcDesc, srcPlain)) {
            srcToNative = new NativeReorder(srcPlain, srcDesc, "src of " + description);
            srcNative = arena.allocate(MemoryDescs.size(srcDesc), 64);
        }
        if (!MemoryDescs.equal(dstDesc, dstPlain)) {
            dstToPlain = new NativeReorder(dstDesc, dstPlain, "dst of " + description);
            dstNative = arena.allocate(MemoryDescs.size(dstDesc), 64);
            if (postOps.residualSum()) residualToNative = new NativeReorder(dstPlain, dstDesc, "residual of " + description);
        }
    }

    /** Scratchpad owned by jdnn (preallocated), plus the post-op chain; both owned by this object's arena. */
    private MemorySegment attributes() {
        MemorySegment attr = Dnnl.create(arena, "dnnl_primitive_attr_create", description,
                out -> dnnl_primitive_attr_create(out), a -> dnnl_primitive_attr_destroy(a));
        Dnnl.check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user()),
                "dnnl_primitive_attr_set_scratchpad_mode", description);
        if (postOps.any()) {
            MemorySegment ops = Dnnl.create(arena, "dnnl_post_ops_create", description,
                    out -> dnnl_post_ops_create(out), p -> dnnl_post_ops_destroy(p));
            if (postOps.residualSum()) {
                Dnnl.check(dnnl_post_ops_append_sum(ops, 1f, 0, dnnl_data_type_undef()), "dnnl_post_ops_append_sum", description);
            }
            if (postOps.activation() != null) {
                Dnnl.check(dnnl_post_ops_append_eltwise(ops, postOps.activation().dnnl(), postOps.alpha(), postOps.beta()),
                        "dnnl_post_ops_append_eltwise", description);
            }
            Dnnl.check(dnnl_primitive_attr_set_post_ops(attr, ops), "dnnl_primitive_attr_set_post_ops", description);
        }
        return attr;
    }

    /**
     * The fastest of oneDNN's first {@code maxCandidates} implementations that keep the first choice's
     * source and destination layouts and ISA, timed here on scratch buffers (best of a few runs each).
     * oneDNN ranks candidates by heuristics; on these AVX2 machines the alternatives measured within
     * noise of its first choice (README, Benchmarks), which is why plans use this only when asked.
     */
    public static NativeConv2d tuned(Conv2d conv, long[] inputShape, PostOps postOps, int maxCandidates) {
        NativeConv2d best = new NativeConv2d(conv, inputShape, postOps, 0);
        if (maxCandidates <= 1) return best;
        try (Arena buffers = Arena.ofConfined()) {
            MemorySegment src = buffers.allocate(MemoryDescs.size(best.srcDesc()), 64);
            MemorySegment dst = buffers.allocate(MemoryDescs.size(best.dstDesc()), 64);
            long bestNanos = best.time(src, dst, buffers);
            String isa = best.implementation().replaceAll(".*:", "");
            for (int k = 1; k < maxCandidates; k++) {
                NativeConv2d other;
                try {
                    other = new NativeConv2d(conv, inputShape, postOps, k);
                } catch (IllegalArgumentException | dev.jdnn.dnnl.DnnlException noMore) {
                    break;
                }
                boolean comparable = MemoryDescs.equal(other.srcDesc(), best.srcDesc()) && MemoryDescs.equal(other.dstDesc(), best.dstDesc())
                        && other.implementation().endsWith(":" + isa) && !other.implementation().equals(best.implementation());
                long nanos = comparable ? other.time(src, dst, buffers) : Long.MAX_VALUE;
                if (nanos < bestNanos) {
                    best.close();
                    best = other;
                    bestNanos = nanos;
                } else {
                    other.close();
                }
            }
            return best;
        } catch (RuntimeException e) {
            best.close();
            throw e;
        }
    }

    /** Best of three timed runs after one warm-up, on the given buffers (contents irrelevant). */
    private long time(MemorySegment src, MemorySegment dst, Arena buffers) {
        try (Execution e = bind(src, dst, buffers.allocate(scratchpadBytes, 64))) {
            e.run();
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                e.run();
                best = Math.min(best, System.nanoTime() - t0);
            }
            return best;
        }
    }

    /** An argument list over this primitive with its weights, bias and the given scratchpad bound. */
    private Execution newExecution(MemorySegment scratchpad) {
        Execution e = new Execution(primitive, 5)
                .arg(DNNL_ARG_SRC(), primitive.queryDesc(dnnl_query_src_md(), 0))
                .arg(DNNL_ARG_WEIGHTS(), primitive.queryDesc(dnnl_query_weights_md(), 0))
                .arg(DNNL_ARG_DST(), primitive.queryDesc(dnnl_query_dst_md(), 0))
                .arg(DNNL_ARG_SCRATCHPAD(), primitive.queryDesc(dnnl_query_scratchpad_md(), 0))
                .set(DNNL_ARG_WEIGHTS(), weights)
                .set(DNNL_ARG_SCRATCHPAD(), scratchpad);
        if (bias != null) e.arg(DNNL_ARG_BIAS(), biasDesc).set(DNNL_ARG_BIAS(), bias);
        return e;
    }

    /**
     * A separate argument list for a caller that runs this convolution on its own buffers, in oneDNN's
     * layouts ({@link #srcDesc()}, {@link #dstDesc()}), possibly on several threads at once (one
     * execution per thread): src, dst and a scratchpad of {@link #scratchpadBytes()} are bound here,
     * once. The caller closes it before this convolution.
     */
    public synchronized Execution bind(MemorySegment src, MemorySegment dst, MemorySegment scratchpad) {
        ensureOpen();
        Execution e = newExecution(scratchpad);
        try {
            return e.set(DNNL_ARG_SRC(), src).set(DNNL_ARG_DST(), dst);
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
    }

    /** Bytes of the scratchpad a {@link #bind} caller supplies. */
    public long scratchpadBytes() {
        return scratchpadBytes;
    }

    /**
     * {@code y = act(conv(x) [+ residual])} on plain NCHW tensors. {@code residual} must be given
     * exactly when the post-ops include the sum, with the output's shape.
     */
    public synchronized void run(Tensor x, Tensor residual, Tensor y) {
        ensureOpen();
        requireShape("input", x, inputShape);
        requireShape("output", y, outputShape);
        if (postOps.residualSum() != (residual != null)) {
            throw new IllegalArgumentException(postOps.residualSum() ? "this convolution adds a residual: pass one"
                    : "this convolution was compiled without a residual sum: pass null");
        }
        if (residual != null) requireShape("residual", residual, outputShape);

        MemorySegment src = x.segment();
        if (srcToNative != null) {
            srcToNative.run(src, srcNative);
            src = srcNative;
        }
        MemorySegment dst = dstToPlain != null ? dstNative : y.segment();
        if (residual != null) {
            if (residualToNative != null) residualToNative.run(residual.segment(), dst);
            else if (residual.segment().address() != dst.address()) MemorySegment.copy(residual.segment(), 0, dst, 0, dst.byteSize());
        }
        execution.set(DNNL_ARG_SRC(), src).set(DNNL_ARG_DST(), dst).run();
        if (dstToPlain != null) dstToPlain.run(dstNative, y.segment());
    }

    /**
     * Executes on buffers already in oneDNN's layouts ({@link #srcDesc()}, {@link #dstDesc()}); with the
     * sum post-op, {@code dst} must already hold the residual in that layout.
     */
    public synchronized void runInNativeLayout(MemorySegment src, MemorySegment dst) {
        ensureOpen();
        execution.set(DNNL_ARG_SRC(), src).set(DNNL_ARG_DST(), dst).run();
    }

    /** The source layout oneDNN chose (valid while this object is open). */
    public MemorySegment srcDesc() {
        ensureOpen();
        return primitive.queryDesc(dnnl_query_src_md(), 0);
    }

    /** The destination layout oneDNN chose (valid while this object is open). */
    public MemorySegment dstDesc() {
        ensureOpen();
        return primitive.queryDesc(dnnl_query_dst_md(), 0);
    }

    /** The oneDNN implementation chosen, e.g. {@code brg_conv_fwd:avx2}. */
    public String implementation() {
        ensureOpen();
        return primitive.implementation();
    }

    public long[] inputShape() {
        return inputShape.clone();
    }

    public long[] outputShape() {
        return outputShape.clone();
    }

    public String description() {
        return description;
    }

    private void requireShape(String what, Tensor t, long[] shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(what + " " + Tensor.format(t.shape()) + " does not match " + Tensor.format(shape)
                    + " of " + description);
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException(description + " is closed");
    }

    /** Releases the primitive, reorders and buffers; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (AutoCloseable c : new AutoCloseable[] {execution, srcToNative, dstToPlain, residualToNative, primitive}) {
            if (c == null) continue;
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        arena.close();
    }
}
