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
import java.util.List;

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
     * What follows the convolution inside the same primitive: {@code dst = fq(act(conv(x) [+ residual]))},
     * where {@code act} is {@code activation} with its alpha/beta (ReLU: 0, 0; Clip: min, max), or none (null),
     * and {@code fq} an optional {@link FakeQuant}.
     */
    public record PostOps(boolean residualSum, EltwiseAlgorithm activation, float alpha, float beta, FakeQuant fakeQuant) {
        public static final PostOps NONE = new PostOps(false, null, 0f, 0f);

        public PostOps(boolean residualSum, EltwiseAlgorithm activation, float alpha, float beta) {
            this(residualSum, activation, alpha, beta, null);
        }

        /** The ResNet-block chain: optional residual sum, optional ReLU. */
        public static PostOps of(boolean residualSum, boolean relu) {
            return new PostOps(residualSum, relu ? EltwiseAlgorithm.RELU : null, 0f, 0f);
        }

        public boolean any() {
            return residualSum || activation != null || fakeQuant != null;
        }

        @Override public String toString() {
            return (residualSum ? " +sum" : "") + (activation == null ? "" : " +" + activation.name().toLowerCase()
                    + (activation == EltwiseAlgorithm.CLIP ? "(" + alpha + "," + beta + ")" : alpha != 0 ? "(" + alpha + ")" : ""))
                    + (fakeQuant == null ? "" : " " + fakeQuant);
        }
    }

    /**
     * QuantizeLinear then DequantizeLinear with per-tensor constants, as post-ops ending the chain:
     * {@code y = (clip(rint(x / divisor) + zeroPoint, min, max) - dequantZeroPoint) * scale}: a binary div by a
     * scalar (an IEEE division, as the ONNX reference's), then eltwise round (half to even) → linear(1, zp) →
     * clip(min, max) → linear(1, -zp') → linear(scale, 0), each exact or the reference's one float32 rounding.
     */
    public record FakeQuant(float divisor, float zeroPoint, float min, float max, float dequantZeroPoint, float scale) {
        /** The eltwise post-ops after the division, each {@code {algorithm, alpha, beta}}: round, +zp, clip, −zp', ×scale. */
        public List<float[]> eltwiseChain() {
            return List.of(new float[] {dnnl_eltwise_round(), 0f, 0f}, new float[] {dnnl_eltwise_linear(), 1f, zeroPoint},
                    new float[] {dnnl_eltwise_clip(), min, max}, new float[] {dnnl_eltwise_linear(), 1f, -dequantZeroPoint},
                    new float[] {dnnl_eltwise_linear(), scale, 0f});
        }

        @Override public String toString() {
            return "+fakequant(/" + divisor + ", zp " + (long) zeroPoint + ", " + (long) min + ".." + (long) max + ", zp' " + (long) dequantZeroPoint + ", *" + scale + ")";
        }
    }

    /**
     * A convolution's weights {@code K×C/g×R×S} and bias as the kernel will use them (a folded batch norm
     * included), produced on demand: when {@link SharedWeights} already holds them reordered, they are
     * never computed.
     */
    public interface Weights {
        /** Writes the {@code K·C/g·R·S} weights, row-major (OIHW), as floats into {@code oihw}. */
        void writePlain(MemorySegment oihw);

        /** The K bias values, or null for none. */
        float[] bias();

        /** What identifies these weights in a {@link SharedWeights} cache; null: not shared. */
        SharedWeights.Source source();

        /**
         * Native memory of at least {@code bytes} to stage the plain weights in, valid until the weights are
         * reordered; null: the convolution allocates (and frees) its own. Reusing one buffer across a plan's
         * convolutions keeps the allocator from keeping freed staging memory resident.
         */
        default MemorySegment staging(long bytes) {
            return null;
        }

        /**
         * Where to reorder weights that a {@link SharedWeights} cache does not hold yet: a background thread of
         * the plan being prepared, so primitive creation goes on meanwhile; null: on the calling thread.
         */
        default dev.jdnn.dnnl.BackgroundWork reorderOn() {
            return null;
        }

        /** A layer's own arrays (not shared). */
        static Weights of(Conv2d conv) {
            return new Weights() {
                @Override public void writePlain(MemorySegment oihw) {
                    MemorySegment.copy(conv.weightsView(), 0, oihw, ValueLayout.JAVA_FLOAT, 0, conv.weightsView().length);
                }
                @Override public float[] bias() { return conv.biasView(); }
                @Override public SharedWeights.Source source() { return null; }
            };
        }
    }

    /**
     * oneDNN's convolution algorithm: {@code DIRECT} (every ISA), or {@code WINOGRAD}, oneDNN's own Winograd
     * (F(4×4,3×3) kernels for AVX-512 only, f32: creating it elsewhere fails with {@code dnnl_unimplemented}).
     */
    public enum Algorithm {
        DIRECT, WINOGRAD;

        int dnnl() {
            return this == DIRECT ? dnnl_convolution_direct() : dnnl_convolution_winograd();
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
    private boolean boundaryReady;       // the three above exist (first run())
    private MemorySegment weights;       // in the kernel's layout, reordered once (null when a lease holds them)
    private long weightBytes;
    private MemorySegment bias;          // null without bias
    private MemorySegment biasDesc;
    private SharedWeights.Lease lease;   // non-null when the weights are held by a SharedWeights cache
    private long scratchpadBytes;
    private final int candidate;
    private final Algorithm algorithm;
    private long primitiveNanos;          // creating oneDNN's primitive (descriptor, kernel generation)
    private long writeNanos;              // writing the plain (folded) weights (0 when shared)
    private long reorderNanos;            // reordering them into the kernel's layout (0 when shared)
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
        this(conv.params(), Weights.of(conv), inputShape, postOps, candidate, null);
    }

    /**
     * With weights produced on demand and, given {@code shared}, reordered weights shared with every other
     * convolution that uses the same {@link Weights#source()} in the same layout.
     */
    public NativeConv2d(Conv2dParams params, Weights weights, long[] inputShape, PostOps postOps, int candidate, SharedWeights shared) {
        this(params, weights, inputShape, postOps, Algorithm.DIRECT, candidate, shared);
    }

    /**
     * As above with oneDNN's {@code algorithm}.
     *
     * @throws dev.jdnn.dnnl.DnnlException with {@code dnnl_unimplemented} where oneDNN has no kernel for it
     */
    public NativeConv2d(Conv2dParams params, Weights weights, long[] inputShape, PostOps postOps, Algorithm algorithm, int candidate,
                        SharedWeights shared) {
        this.params = params;
        this.algorithm = algorithm;
        this.candidate = candidate;
        float[] biasValues = weights.bias();
        if (biasValues != null && biasValues.length != params.outChannels()) {
            throw new IllegalArgumentException("bias for " + params + " must have " + params.outChannels() + " values, got " + biasValues.length);
        }
        this.inputShape = inputShape.clone();
        this.outputShape = params.outputShape(inputShape); // validates before anything native
        this.postOps = postOps;
        this.description = (algorithm == Algorithm.DIRECT ? "" : "oneDNN winograd ") + params + " " + MemoryDescs.dims(inputShape)
                + " -> " + MemoryDescs.dims(outputShape) + postOps;
        try {
            compile(weights, biasValues, candidate, shared);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void compile(Weights source, float[] biasValues, int candidate, SharedWeights shared) {
        int g = params.groups();
        long[] weightDims = g == 1 ? params.weightShape()
                : new long[] {g, params.outChannels() / g, params.inChannels() / g, params.kernelH(), params.kernelW()};
        MemorySegment srcAny = MemoryDescs.any(arena, inputShape);
        MemorySegment dstAny = MemoryDescs.any(arena, outputShape);
        MemorySegment weightsAny = MemoryDescs.any(arena, weightDims);
        MemorySegment weightsPlain = MemoryDescs.create(arena, weightDims, g == 1 ? dnnl_oihw() : dnnl_goihw());
        biasDesc = biasValues != null ? MemoryDescs.plain(arena, new long[] {params.outChannels()}) : MemorySegment.NULL;
        MemorySegment strides = arena.allocateFrom(C_LONG, params.strideH(), params.strideW());
        // oneDNN counts dilation from 0 (dense), PyTorch and ONNX from 1.
        MemorySegment dilates = arena.allocateFrom(C_LONG, params.dilationH() - 1, params.dilationW() - 1);
        MemorySegment padL = arena.allocateFrom(C_LONG, params.padTop(), params.padLeft());
        MemorySegment padR = arena.allocateFrom(C_LONG, params.padBottom(), params.padRight());
        MemorySegment attr = attributes();
        MemorySegment engine = Engine.cpu();
        long t0 = System.nanoTime();
        primitive = Primitive.create("dnnl_convolution_forward_primitive_desc_create", description,
                out -> dnnl_convolution_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                        algorithm.dnnl(), srcAny, weightsAny, biasDesc, dstAny, strides, dilates, padL, padR, attr), candidate);

        MemorySegment srcDesc = primitive.queryDesc(dnnl_query_src_md(), 0);
        MemorySegment dstDesc = primitive.queryDesc(dnnl_query_dst_md(), 0);
        MemorySegment weightsDesc = primitive.queryDesc(dnnl_query_weights_md(), 0);
        MemorySegment scratchDesc = primitive.queryDesc(dnnl_query_scratchpad_md(), 0);
        long t1 = System.nanoTime();
        primitiveNanos = t1 - t0;

        // Weights: reordered once into the layout the kernel wants (or found already reordered).
        if (shared != null && source.source() != null) {
            // Possibly written on a background thread (whose time the plan's preparation counts as a whole):
            // weights() waits for them where they are read.
            dev.jdnn.dnnl.BackgroundWork background = source.reorderOn();
            long[] write = new long[1];
            lease = shared.acquire(source.source(), weightsDesc, into -> write[0] = reorderWeights(source, weightsPlain, weightsDesc, into), background);
            weightBytes = lease.byteSize();
            if (background == null) writeNanos = write[0];
        } else {
            weights = arena.allocate(Math.max(64, MemoryDescs.size(weightsDesc)), 64);
            weightBytes = weights.byteSize();
            writeNanos = reorderWeights(source, weightsPlain, weightsDesc, weights);
        }
        reorderNanos = System.nanoTime() - t1 - writeNanos;
        scratchpadBytes = Math.max(64, MemoryDescs.size(scratchDesc));
        if (biasValues != null) bias = arena.allocateFrom(ValueLayout.JAVA_FLOAT, biasValues);
    }

    /** The weights in the kernel's layout, once written. */
    private MemorySegment weights() {
        return lease != null ? lease.segment() : weights;
    }

    /**
     * Waits until the weights are written (they may be reordered on a background thread, {@link Weights#reorderOn()}).
     *
     * @throws RuntimeException the reorder's failure, if it failed
     */
    public void awaitWeights() {
        weights();
    }

    /**
     * The argument list {@link #run} and {@link #runInNativeLayout} use, with its own scratchpad: made on the
     * first of those calls, since a compiled plan binds its own ({@link #bind}) and never needs it.
     */
    private Execution execution() {
        if (execution == null) execution = newExecution(arena.allocate(scratchpadBytes, 64));
        return execution;
    }

    /**
     * The reorders and buffers between plain NCHW and oneDNN's layouts that {@link #run} needs, made on its
     * first call: a compiled plan keeps activations in oneDNN's layouts and never calls it, so it should not
     * pay for two activation-sized buffers per convolution.
     */
    private void prepareBoundaryReorders() {
        if (boundaryReady) return;
        boundaryReady = true;
        MemorySegment srcDesc = srcDesc(), dstDesc = dstDesc();
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

    /**
     * Plain OIHW weights staged in native memory (never on the heap), reordered into {@code into} in {@code kernelDesc};
     * returns the nanoseconds spent writing the plain weights. May run on another thread than the constructor's.
     */
    private long reorderWeights(Weights source, MemorySegment plainDesc, MemorySegment kernelDesc, MemorySegment into) {
        try (Arena staging = Arena.ofConfined();
             NativeReorder toKernel = new NativeReorder(plainDesc, kernelDesc, "weights of " + description)) {
            long bytes = params.weightCount() * Float.BYTES;
            MemorySegment given = source.staging(bytes);
            MemorySegment plain = given != null ? given.asSlice(0, bytes) : staging.allocate(bytes, 64);
            long t0 = System.nanoTime();
            source.writePlain(plain);
            long written = System.nanoTime() - t0;
            toKernel.run(plain, into);
            return written;
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
            FakeQuant fq = postOps.fakeQuant();
            if (fq != null) {
                Dnnl.check(dnnl_post_ops_append_binary(ops, dnnl_binary_div(), divisorDesc()), "dnnl_post_ops_append_binary", description);
                for (float[] e : fq.eltwiseChain()) Dnnl.check(dnnl_post_ops_append_eltwise(ops, (int) e[0], e[1], e[2]), "dnnl_post_ops_append_eltwise", description);
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
        return tuned(conv.params(), Weights.of(conv), inputShape, postOps, maxCandidates, null, null);
    }

    /**
     * {@link #tuned(Conv2d, long[], PostOps, int)} with shared weights and an {@link AutotuneCache}: a
     * decision found there is used without timing anything; a new one is recorded.
     */
    public static NativeConv2d tuned(Conv2dParams params, Weights weights, long[] inputShape, PostOps postOps, int maxCandidates,
                                     SharedWeights shared, AutotuneCache cache) {
        String problem = cache == null ? null : AutotuneCache.problem(params, inputShape, postOps, maxCandidates);
        Integer known = cache == null ? null : cache.get(problem);
        if (known != null && known < maxCandidates) {
            try {
                return new NativeConv2d(params, weights, inputShape, postOps, known, shared);
            } catch (IllegalArgumentException | dev.jdnn.dnnl.DnnlException gone) {
                // oneDNN offers fewer candidates than when the decision was made: tune again below.
            }
        }
        NativeConv2d best = new NativeConv2d(params, weights, inputShape, postOps, 0, shared);
        if (maxCandidates <= 1) return best;
        try (Arena buffers = Arena.ofConfined()) {
            MemorySegment src = buffers.allocate(MemoryDescs.size(best.srcDesc()), 64);
            MemorySegment dst = buffers.allocate(MemoryDescs.size(best.dstDesc()), 64);
            long bestNanos = best.time(src, dst, buffers);
            String isa = best.implementation().replaceAll(".*:", "");
            for (int k = 1; k < maxCandidates; k++) {
                NativeConv2d other;
                try {
                    other = new NativeConv2d(params, weights, inputShape, postOps, k, shared);
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
            if (cache != null) cache.put(problem, best.candidate);
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
        Execution e = new Execution(primitive, 6)
                .arg(DNNL_ARG_SRC(), primitive.queryDesc(dnnl_query_src_md(), 0))
                .arg(DNNL_ARG_WEIGHTS(), primitive.queryDesc(dnnl_query_weights_md(), 0))
                .arg(DNNL_ARG_DST(), primitive.queryDesc(dnnl_query_dst_md(), 0))
                .arg(DNNL_ARG_SCRATCHPAD(), primitive.queryDesc(dnnl_query_scratchpad_md(), 0))
                .set(DNNL_ARG_WEIGHTS(), weights())
                .set(DNNL_ARG_SCRATCHPAD(), scratchpad);
        if (bias != null) e.arg(DNNL_ARG_BIAS(), biasDesc).set(DNNL_ARG_BIAS(), bias);
        if (postOps.fakeQuant() != null) {
            // The fake quantization's divisor: the second source of the binary post-op after the sum and the activation.
            int index = (postOps.residualSum() ? 1 : 0) + (postOps.activation() != null ? 1 : 0);
            int kind = DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE() * (index + 1) | DNNL_ARG_SRC_1();
            e.arg(kind, divisorDesc()).set(kind, divisor());
        }
        return e;
    }

    private MemorySegment divisorDesc;
    private MemorySegment divisor;

    /** {@code {1,1,1,1}} f32: the fake quantization's scalar divisor, broadcast over the output. */
    private synchronized MemorySegment divisorDesc() {
        if (divisorDesc == null) divisorDesc = MemoryDescs.plain(arena, new long[] {1, 1, 1, 1});
        return divisorDesc;
    }

    private synchronized MemorySegment divisor() {
        if (divisor == null) {
            divisor = arena.allocate(64, 64);
            divisor.set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, postOps.fakeQuant().divisor());
        }
        return divisor;
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

    /** Which of oneDNN's implementations this is (0 = its first choice). */
    public int candidate() {
        return candidate;
    }

    /** oneDNN's algorithm this convolution was created with. */
    public Algorithm algorithm() {
        return algorithm;
    }

    /** Nanoseconds spent creating the oneDNN primitive. */
    public long primitiveNanos() {
        return primitiveNanos;
    }

    /** Nanoseconds spent writing the plain weights, a batch norm folded in (0 when another primitive had reordered them). */
    public long writeNanos() {
        return writeNanos;
    }

    /** Nanoseconds spent reordering the weights into the kernel's layout (about 0 when another primitive had done it). */
    public long reorderNanos() {
        return reorderNanos;
    }

    /** Native bytes of the weights in the kernel's layout (held by a {@link SharedWeights} cache when shared). */
    public long weightBytes() {
        return weightBytes;
    }

    /** Whether the reordered weights came from a {@link SharedWeights} cache that already held them. */
    public boolean sharedWeights() {
        return lease != null && lease.shared();
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
        prepareBoundaryReorders();

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
        execution().set(DNNL_ARG_SRC(), src).set(DNNL_ARG_DST(), dst).run();
        if (dstToPlain != null) dstToPlain.run(dstNative, y.segment());
    }

    /**
     * Executes on buffers already in oneDNN's layouts ({@link #srcDesc()}, {@link #dstDesc()}); with the
     * sum post-op, {@code dst} must already hold the residual in that layout.
     */
    public synchronized void runInNativeLayout(MemorySegment src, MemorySegment dst) {
        ensureOpen();
        execution().set(DNNL_ARG_SRC(), src).set(DNNL_ARG_DST(), dst).run();
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
        for (AutoCloseable c : new AutoCloseable[] {execution, srcToNative, dstToPlain, residualToNative, primitive, lease}) {
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
