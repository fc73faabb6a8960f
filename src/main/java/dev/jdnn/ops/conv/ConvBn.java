package dev.jdnn.ops.conv;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.ops.batchnorm.BatchNorm;
import dev.jdnn.ops.batchnorm.BatchNormMode;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.ops.eltwise.ReferenceEltwise;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The inference hot path: convolution → batch norm (eval) → optional residual add → optional ReLU,
 * {@code y = relu(bn(conv(x)) + residual)}, as in ResNet blocks.
 *
 * <p>Native: ONE oneDNN convolution with the batch norm folded into its weights ({@link BnFolding}) and
 * the add and ReLU as sum/eltwise post-ops; compiled per input shape and cached. Java: the reference
 * chain conv → BN → add → ReLU, step by step, unfused (the oracle).
 *
 * <p>The batch norm's statistics are captured when this object is built; later changes to {@code bn}
 * do not affect it. Building refuses a training-mode or statistics-less batch norm.
 */
public final class ConvBn implements AutoCloseable {
    private final Conv2d conv;
    private final Conv2d folded;
    private final BatchNorm bnSnapshot;
    private final NativeConv2d.PostOps postOps;
    private final Map<List<Long>, NativeConv2d> compiled = new HashMap<>();
    private boolean closed;

    public ConvBn(Conv2d conv, BatchNorm bn, BatchNormMode mode, boolean residual, boolean relu) {
        this.folded = BnFolding.fold(conv, bn, mode);
        this.conv = conv;
        this.bnSnapshot = snapshot(bn);
        this.postOps = NativeConv2d.PostOps.of(residual, relu);
    }

    private static BatchNorm snapshot(BatchNorm bn) {
        BatchNorm copy = new BatchNorm(bn.numFeatures(), bn.options());
        if (bn.affine()) copy.setWeight(bn.weight()).setBias(bn.bias());
        return copy.setRunningMean(bn.runningMean()).setRunningVar(bn.runningVar());
    }

    /** The convolution with the batch norm folded in. */
    public Conv2d folded() {
        return folded;
    }

    public NativeConv2d.PostOps postOps() {
        return postOps;
    }

    /** The native fused primitive for this input shape, compiled on first use and cached. */
    public synchronized NativeConv2d compiled(long[] inputShape) {
        ensureOpen();
        List<Long> key = Arrays.stream(inputShape).boxed().toList();
        NativeConv2d c = compiled.get(key);
        if (c == null) {
            c = new NativeConv2d(folded, inputShape, postOps);
            compiled.put(key, c);
        }
        return c;
    }

    /** Output shape for an input shape (validates it). */
    public long[] outputShape(long[] inputShape) {
        return conv.params().outputShape(inputShape);
    }

    /** Into a new tensor (the caller closes it). {@code residual} is required exactly when built with one. */
    public Tensor forward(Tensor x, Tensor residual, Backend backend) {
        Tensor y = Tensor.zeros(outputShape(x.shape()));
        try {
            run(x, residual, y, backend);
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    public void run(Tensor x, Tensor residual, Tensor y, Backend backend) {
        ensureOpen();
        if (backend == Backend.NATIVE) {
            compiled(x.shape()).run(x, residual, y);
            return;
        }
        if (postOps.residualSum() != (residual != null)) {
            throw new IllegalArgumentException(postOps.residualSum() ? "this ConvBn adds a residual: pass one" : "this ConvBn has no residual: pass null");
        }
        long[] out = outputShape(x.shape());
        if (!Arrays.equals(out, y.shape())) throw new IllegalArgumentException("output must be " + Tensor.format(out) + ", got " + Tensor.format(y.shape()));
        if (residual != null && !Arrays.equals(out, residual.shape())) {
            throw new IllegalArgumentException("residual must be " + Tensor.format(out) + ", got " + Tensor.format(residual.shape()));
        }
        try (Tensor convOut = Tensor.zeros(out)) {
            ReferenceConv2d.run(conv, x, convOut);
            bnSnapshot.forward(BatchNormMode.EVAL, convOut, y, Backend.JAVA);
        }
        if (residual != null) {
            for (long i = 0; i < y.elementCount(); i++) y.setFlat(i, y.getFlat(i) + residual.getFlat(i));
        }
        if (postOps.activation() != null) ReferenceEltwise.run(postOps.activation(), postOps.alpha(), postOps.beta(), y, y);
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("ConvBn is closed");
    }

    /** Releases every compiled primitive; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        compiled.values().forEach(NativeConv2d::close);
        compiled.clear();
        bnSnapshot.close();
    }
}
