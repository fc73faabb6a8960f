package dev.jdnn.ops.winograd;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.dnnl.BackgroundWork;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.dnnl.Primitive;
import dev.jdnn.graph.op.Primitives;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.ops.reorder.NativeReorder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A Winograd 3×3 convolution (stride 1, dilation 1, groups 1, any padding) compiled for one input shape:
 * {@code N×C×H×W (x) K×C×3×3 [+ bias] → N×K×OH×OW}, activations channels-last (NHWC) in and out, with
 * the residual sum and ReLU/Clip of a fused conv chain applied in the output transform.
 *
 * <p>The output is cut into m×m tiles ({@link WinogradTile}), and tiles are processed in blocks of
 * {@code T} so that a block's transformed input {@code V} (α²×T×C) and products {@code M} (α²×T×K) stay
 * in the core's cache between the three stages:
 * <ol>
 *   <li>input transform: each tile's α×α×C patch → {@code V[ξ][t][c]} ({@link Transforms}, 8 channels at a time);</li>
 *   <li>GEMM: one oneDNN matmul with a batch of α² products {@code V[ξ] (T×C) · U[ξ] (C×K) → M[ξ] (T×K)},
 *       {@code U = G g Gᵀ} transformed once here (BN already folded into {@code g} by the caller);</li>
 *   <li>output transform: {@code Aᵀ M A + bias [+ residual]}, clamped by the activation, into the output.</li>
 * </ol>
 * C and K are padded to multiples of 8 inside V, U and M; tiles that cross the border or a channel tail
 * go through a small zero-padded staging patch. Blocks are split across {@code threads} Java workers, each
 * with its own buffers and a matmul execution running on one oneDNN thread.
 *
 * <p>Compile once, bind per frame ({@link #bind}); a bound run allocates nothing with one thread.
 */
public final class NativeWinograd implements AutoCloseable {
    /** Default tiles per block: V and M of one block stay within a few hundred KB for the layers that matter. */
    static final int DEFAULT_BLOCK_TILES = Integer.getInteger("jdnn.winograd.blockTiles", 48);

    private final Arena arena = Arena.ofShared();
    private final WinogradTile tile;
    private final int n, c, h, w, k, oh, ow, cp, kp, padTop, padLeft;
    private final int tilesH, tilesW, totalTiles, blockTiles, blocks, threads;
    private final float[] bias;
    private final float lo, hi;
    private final boolean residual;
    private final String description;
    private final MemorySegment srcDesc, dstDesc;
    private final MemorySegment vDesc, uDesc, mDesc;
    private final long vPlane, mPlane;   // bytes from one of the α² planes of V (T×Cp) or M (T×Kp) to the next
    private Primitive matmul;
    private BackgroundWork.Task<MemorySegment> packing;   // makes U, transformed and in the GEMM's layout
    private long scratchpadBytes;
    private volatile boolean closed;

    /** Whether these conv parameters have a Winograd form here: 3×3, stride 1, dilation 1, groups 1. */
    public static boolean supports(Conv2dParams p) {
        return p.kernelH() == 3 && p.kernelW() == 3 && p.strideH() == 1 && p.strideW() == 1
                && p.dilationH() == 1 && p.dilationW() == 1 && p.groups() == 1;
    }

    /** Whether the fused post-ops can run in the output transform: a residual sum, and ReLU (not leaky) or Clip. */
    public static boolean supports(NativeConv2d.PostOps post) {
        EltwiseAlgorithm a = post.activation();
        if (post.fakeQuant() != null) return false;
        return a == null || a == EltwiseAlgorithm.RELU && post.alpha() == 0f || a == EltwiseAlgorithm.CLIP;
    }

    public NativeWinograd(Conv2d conv, long[] inputShape, NativeConv2d.PostOps post, WinogradTile tile, int threads) {
        this(conv, inputShape, post, tile, threads, DEFAULT_BLOCK_TILES);
    }

    /**
     * @param inputShape  N×C×H×W
     * @param threads     Java workers the blocks are split across (at most the number of blocks)
     * @param blockTiles  tiles per block (at most; blocks are balanced)
     * @throws IllegalArgumentException if the conv or its post-ops have no Winograd form, or the shape does not fit
     */
    public NativeWinograd(Conv2d conv, long[] inputShape, NativeConv2d.PostOps post, WinogradTile tile, int threads, int blockTiles) {
        Conv2dParams p = conv.params();
        if (!supports(p)) throw new IllegalArgumentException("Winograd needs a 3×3, stride 1, dilation 1, groups 1 convolution, got " + p);
        if (!supports(post)) throw new IllegalArgumentException("Winograd fuses a residual sum and ReLU or Clip only, got" + post);
        if (threads < 1 || blockTiles < 1) throw new IllegalArgumentException("threads and blockTiles must be >= 1, got " + threads + ", " + blockTiles);
        long[] out = p.outputShape(inputShape); // validates the input shape
        this.tile = tile;
        n = Math.toIntExact(inputShape[0]);
        c = p.inChannels();
        h = Math.toIntExact(inputShape[2]);
        w = Math.toIntExact(inputShape[3]);
        k = p.outChannels();
        oh = Math.toIntExact(out[2]);
        ow = Math.toIntExact(out[3]);
        cp = (c + 7) / 8 * 8;
        kp = (k + 7) / 8 * 8;
        padTop = p.padTop();
        padLeft = p.padLeft();
        tilesH = (oh + tile.m - 1) / tile.m;
        tilesW = (ow + tile.m - 1) / tile.m;
        totalTiles = Math.multiplyExact(Math.multiplyExact(n, tilesH), tilesW);
        int blockCount = (totalTiles + blockTiles - 1) / blockTiles;
        this.blockTiles = (totalTiles + blockCount - 1) / blockCount;
        this.blocks = (totalTiles + this.blockTiles - 1) / this.blockTiles;
        this.threads = Math.min(threads, blocks);
        bias = new float[kp];
        if (conv.hasBias()) System.arraycopy(conv.bias(), 0, bias, 0, k);
        residual = post.residualSum();
        EltwiseAlgorithm act = post.activation();
        lo = act == null ? Float.NEGATIVE_INFINITY : act == EltwiseAlgorithm.RELU ? 0f : post.alpha();
        hi = act == EltwiseAlgorithm.CLIP ? post.beta() : Float.POSITIVE_INFINITY;
        int a2 = tile.alpha * tile.alpha;
        try {
            srcDesc = MemoryDescs.create(arena, inputShape, dnnl_nhwc());
            dstDesc = MemoryDescs.create(arena, out, dnnl_nhwc());
            vPlane = planeBytes(this.blockTiles, cp);
            mPlane = planeBytes(this.blockTiles, kp);
            vDesc = MemoryDescs.strided(arena, new long[] {a2, this.blockTiles, cp}, new long[] {vPlane / Float.BYTES, cp, 1});
            mDesc = MemoryDescs.strided(arena, new long[] {a2, this.blockTiles, kp}, new long[] {mPlane / Float.BYTES, kp, 1});
            MemorySegment uPlain = MemoryDescs.plain(arena, new long[] {a2, cp, kp});
            MemorySegment uAny = MemoryDescs.any(arena, new long[] {a2, cp, kp});
            String what = tile.label() + " " + a2 + " × [" + this.blockTiles + "×" + cp + "]·[" + cp + "×" + kp + "]";
            MemorySegment attr = Primitives.userScratchpad(arena, what);
            MemorySegment engine = Engine.cpu();
            // Each worker runs its block's GEMM alone: the primitive is created and run with one oneDNN thread.
            int before = Dnnl.threads();
            Dnnl.setThreads(1);
            try {
                matmul = Primitive.create("dnnl_matmul_primitive_desc_create", what,
                        o -> dnnl_matmul_primitive_desc_create(o, engine, vDesc, uAny, MemorySegment.NULL, mDesc, attr));
            } finally {
                Dnnl.setThreads(before);
            }
            uDesc = MemoryDescs.clone(arena, matmul.queryDesc(dnnl_query_weights_md(), 0));
            scratchpadBytes = MemoryDescs.size(matmul.queryDesc(dnnl_query_scratchpad_md(), 0));
            // The weight transform and pack (16 MB of U for a 512→512 layer: mostly page faults, and a reorder) run on
            // the preparation's background thread when there is one, while the plan goes on lowering; bind waits for it.
            float[] kernels = conv.weights();
            long packedBytes = Math.max(64, MemoryDescs.size(uDesc));
            long plainBytes = (long) a2 * cp * kp * Float.BYTES;
            BackgroundWork background = BackgroundWork.current();
            java.util.function.Supplier<MemorySegment> pack = () -> {
                MemorySegment packed = arena.allocate(packedBytes, 64);
                try (Arena staging = Arena.ofConfined(); NativeReorder reorder = new NativeReorder(uPlain, uDesc, "Winograd weights of " + what)) {
                    // The background thread's scratch is reused layer after layer (already faulted in): zero its padding.
                    MemorySegment plain = background != null ? background.scratch(plainBytes) : staging.allocate(plainBytes, 64);
                    if (background != null && (c != cp || k != kp)) plain.fill((byte) 0);
                    transformWeights(kernels, plain);
                    reorder.run(plain, packed);
                }
                return packed;
            };
            // Not stealable: the tasks sharing the scratch must run one after another, on the background thread.
            packing = background == null ? BackgroundWork.now(pack) : background.submit(pack, false);
            description = "winograd " + tile.label() + " " + p + " " + MemoryDescs.dims(inputShape) + " -> " + MemoryDescs.dims(out) + post
                    + ": " + blocks + " blocks of " + this.blockTiles + " tiles on " + this.threads + " thread" + (this.threads > 1 ? "s" : "")
                    + ", " + Transforms.create(tile).kind() + " transforms, GEMM " + a2 + " × [" + this.blockTiles + "×" + cp + "]·[" + cp + "×" + kp
                    + "] [" + matmul.implementation() + "]";
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Bytes between consecutive planes of a block's V or M ({@code tiles × channels} floats each), padded to an
     * odd number of 64-byte lines. The transforms touch one line in each of the α² planes per tile; with a plane
     * a multiple of 4 KiB (T·Cp·4 for T a multiple of 8 and Cp = 128, e.g.) those 16 or 36 lines all fall into
     * one L1 set (4 KiB apart), more than its ways, and evict each other: DenseNet's 128→32 layers ran up to 2×
     * slower at T = 48 than at T = 49. An odd line count puts plane ξ's line in set ξ·odd mod 64: all distinct.
     */
    static long planeBytes(int tiles, int channels) {
        long lines = ((long) tiles * channels * Float.BYTES + 63) / 64;
        return (lines | 1) * 64;
    }

    /** U[ξ][c][k] = (G g[k][c] Gᵀ)[ξ] into {@code u} (α²×Cp×Kp floats, zeroed: the padding channels stay zero). */
    private void transformWeights(float[] weights, MemorySegment u) {
        int a2 = tile.alpha * tile.alpha;
        double[] gk = new double[tile.alpha * 3], t = new double[a2];
        for (int oc = 0; oc < k; oc++) {
            for (int ic = 0; ic < c; ic++) {
                tile.transformKernel(weights, (oc * c + ic) * 9, gk, t);
                for (int e = 0; e < a2; e++) u.setAtIndex(ValueLayout.JAVA_FLOAT, ((long) e * cp + ic) * kp + oc, (float) t[e]);
            }
        }
    }

    /** The transformed weights in the GEMM's layout, once packed (on the background thread, or here if it has not started them). */
    private MemorySegment packedWeights() {
        return packing.join();
    }

    /** The input layout: N×C×H×W stored channels-last (NHWC). */
    public MemorySegment srcDesc() {
        return srcDesc;
    }

    /** The output (and residual) layout: N×K×OH×OW stored channels-last (NHWC). */
    public MemorySegment dstDesc() {
        return dstDesc;
    }

    public String description() {
        return description;
    }

    public WinogradTile tile() {
        return tile;
    }

    /**
     * Binds buffers once: {@code src} in {@link #srcDesc()}, {@code dst} and (with a residual sum) {@code res}
     * in {@link #dstDesc()}; {@code res} may be {@code dst} itself (in place: each tile reads its residual
     * before writing). With more than one thread, helper threads read and write them too, so they must
     * come from a shared (or global) arena, as a plan's frames and {@code Tensor}s do. The result runs the
     * convolution; close it before this.
     */
    public Bound bind(MemorySegment src, MemorySegment dst, MemorySegment res) {
        ensureOpen();
        // Interpreted, the Vector API transforms run 100–1000× slower: a first run waits for C2 instead (once per JVM; under a
        // heavy load the warm-up may give up first, and the layer then runs slowly until C2 has compiled its transforms).
        WinogradChoice.warmUp(java.util.List.of(tile));
        check(src, MemoryDescs.size(srcDesc), "source");
        check(dst, MemoryDescs.size(dstDesc), "destination");
        if (residual) check(res, MemoryDescs.size(dstDesc), "residual");
        return new Bound(src, dst, residual ? res : null);
    }

    private void check(MemorySegment s, long bytes, String what) {
        if (s == null || !s.isNative() || s.byteSize() < bytes) {
            throw new IllegalArgumentException("the " + what + " of " + description + " must be native memory of at least " + bytes + " bytes, got "
                    + (s == null ? "null" : s.byteSize() + (s.isNative() ? "" : " on the heap")));
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException(description + " is closed");
    }

    /** One worker's buffers: a block's V and M, staging patches, the GEMM's argument list. */
    private final class Worker implements AutoCloseable {
        final Arena own = Arena.ofShared();
        final MemorySegment v, m, inPatch, outPatch;
        final Execution gemm;
        final Transforms transforms = Transforms.create(tile);

        Worker() {
            try {
                v = own.allocate(MemoryDescs.size(vDesc), 64);
                m = own.allocate(MemoryDescs.size(mDesc), 64);
                inPatch = own.allocate((long) tile.alpha * tile.alpha * cp * Float.BYTES, 64);
                outPatch = own.allocate((long) tile.m * tile.m * kp * Float.BYTES, 64);
                gemm = new Execution(matmul, 4);
                gemm.arg(DNNL_ARG_SRC(), vDesc).set(DNNL_ARG_SRC(), v);
                gemm.arg(DNNL_ARG_WEIGHTS(), uDesc).set(DNNL_ARG_WEIGHTS(), packedWeights());
                gemm.arg(DNNL_ARG_DST(), mDesc).set(DNNL_ARG_DST(), m);
                if (scratchpadBytes > 0) {
                    MemorySegment scratch = own.allocate(scratchpadBytes, 64);
                    gemm.arg(DNNL_ARG_SCRATCHPAD(), matmul.queryDesc(dnnl_query_scratchpad_md(), 0)).set(DNNL_ARG_SCRATCHPAD(), scratch);
                }
            } catch (RuntimeException e) {
                own.close();
                throw e;
            }
        }

        @Override public void close() {
            gemm.close();
            own.close();
        }
    }

    /** The convolution bound to one frame's buffers. */
    public final class Bound implements AutoCloseable {
        private final MemorySegment src, dst, res;
        private final Worker[] workers;
        private final BlockPool.Job job;

        private Bound(MemorySegment src, MemorySegment dst, MemorySegment res) {
            this.src = src;
            this.dst = dst;
            this.res = res;
            workers = new Worker[threads];
            try {
                for (int i = 0; i < threads; i++) workers[i] = new Worker();
            } catch (RuntimeException e) {
                close();
                throw e;
            }
            job = threads > 1 ? new BlockPool.Job(blocks, threads, (worker, block) -> block(workers[worker], block)) : null;
        }

        /** Runs the convolution (all blocks; on the calling thread plus {@code threads - 1} pool workers). */
        public void run() {
            ensureOpen();
            int before = Dnnl.threads();
            if (before != 1) Dnnl.setThreads(1);
            try {
                if (job == null) {
                    for (int b = 0; b < blocks; b++) block(workers[0], b);
                } else {
                    job.run();
                }
            } finally {
                if (before != 1) Dnnl.setThreads(before);
            }
        }

        /**
         * For benchmarks: only the GEMM stage of every block (on the calling thread), so that the
         * transforms' share of {@link #run} can be measured; the output is left undefined.
         */
        public void runGemmOnly() {
            ensureOpen();
            for (int b = 0; b < blocks; b++) workers[0].gemm.run();
        }

        private void block(Worker wk, int b) {
            int first = b * blockTiles, count = Math.min(blockTiles, totalTiles - first);
            int a = tile.alpha, mt = tile.m;
            long pixelIn = (long) c * Float.BYTES, rowIn = pixelIn * w;
                int cChunks = cp / 8;
            for (int t = 0; t < count; t++) {
                int g = first + t, img = g / (tilesH * tilesW), ty = g / tilesW % tilesH, tx = g % tilesW;
                int y0 = ty * mt - padTop, x0 = tx * mt - padLeft;
                long vBase = (long) t * cp * Float.BYTES;
                if (y0 >= 0 && x0 >= 0 && y0 + a <= h && x0 + a <= w && c == cp) {
                    long base = (((long) img * h + y0) * w + x0) * pixelIn;
                    wk.transforms.input(src, base, pixelIn, rowIn, cChunks, wk.v, vBase, vPlane);
                } else {
                    stageInput(wk.inPatch, img, y0, x0);
                    long patchPixel = (long) cp * Float.BYTES;
                    wk.transforms.input(wk.inPatch, 0, patchPixel, patchPixel * a, cChunks, wk.v, vBase, vPlane);
                }
            }
            wk.gemm.run();
            long pixelOut = (long) k * Float.BYTES, rowOut = pixelOut * ow;
                int kChunks = kp / 8;
            for (int t = 0; t < count; t++) {
                int g = first + t, img = g / (tilesH * tilesW), ty = g / tilesW % tilesH, tx = g % tilesW;
                int y0 = ty * mt, x0 = tx * mt;
                long mBase = (long) t * kp * Float.BYTES;
                if (y0 + mt <= oh && x0 + mt <= ow && k == kp) {
                    long base = (((long) img * oh + y0) * ow + x0) * pixelOut;
                    wk.transforms.output(wk.m, mBase, mPlane, kChunks, bias, lo, hi, res, base, pixelOut, rowOut, dst, base, pixelOut, rowOut);
                } else {
                    // The m×m×Kp patch holds the residual where the tile is inside the output; transformed in place, then copied out.
                    long patchPixel = (long) kp * Float.BYTES, patchRow = patchPixel * mt;
                    int rows = Math.min(mt, oh - y0), cols = Math.min(mt, ow - x0);
                    if (res != null) copyPatch(res, img, y0, x0, rows, cols, wk.outPatch, true);
                    wk.transforms.output(wk.m, mBase, mPlane, kChunks, bias, lo, hi, res != null ? wk.outPatch : null, 0, patchPixel, patchRow,
                            wk.outPatch, 0, patchPixel, patchRow);
                    copyPatch(dst, img, y0, x0, rows, cols, wk.outPatch, false);
                }
            }
        }

        /** The α×α×C input patch at (y0, x0) of image img into the zeroed α×α×Cp staging patch (zero outside the input). */
        private void stageInput(MemorySegment patch, int img, int y0, int x0) {
            int a = tile.alpha;
            patch.fill((byte) 0);
            int jLo = Math.max(0, -x0), jHi = Math.min(a, w - x0);
            if (jLo >= jHi) return;
            for (int i = Math.max(0, -y0); i < Math.min(a, h - y0); i++) {
                long from = (((long) img * h + y0 + i) * w + x0 + jLo) * c * Float.BYTES;
                long to = ((long) i * a + jLo) * cp * Float.BYTES;
                if (c == cp) {
                    MemorySegment.copy(src, from, patch, to, (long) (jHi - jLo) * c * Float.BYTES);
                } else {
                    for (int j = jLo; j < jHi; j++) {
                        MemorySegment.copy(src, from + (long) (j - jLo) * c * Float.BYTES, patch, to + (long) (j - jLo) * cp * Float.BYTES, (long) c * Float.BYTES);
                    }
                }
            }
        }

        /** Copies the rows×cols×K part of tile (y0, x0) between the output-shaped {@code image} and the m×m×Kp patch. */
        private void copyPatch(MemorySegment image, int img, int y0, int x0, int rows, int cols, MemorySegment patch, boolean intoPatch) {
            int mt = tile.m;
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    long at = (((long) img * oh + y0 + i) * ow + x0 + j) * k * Float.BYTES;
                    long pat = ((long) i * mt + j) * kp * Float.BYTES;
                    if (intoPatch) MemorySegment.copy(image, at, patch, pat, (long) k * Float.BYTES);
                    else MemorySegment.copy(patch, pat, image, at, (long) k * Float.BYTES);
                }
            }
        }

        @Override public void close() {
            for (Worker wk : workers) if (wk != null) wk.close();
        }
    }

    /** Releases the GEMM primitive and the transformed weights; idempotent. Bound runs must be closed first. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (packing != null) packing.settle();   // it writes memory of the arena closed below
        if (matmul != null) matmul.close();
        arena.close();
    }
}
