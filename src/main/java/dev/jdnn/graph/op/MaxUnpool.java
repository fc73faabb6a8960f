package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import java.util.Arrays;

/**
 * MaxUnpool (opsets 9, 11): the partial inverse of MaxPool, {@code X N×C×D1×…×Dk} (float32) with the
 * int64 indices {@code I} of the same shape that MaxPool's Indices output gives (flat indices into the
 * whole output tensor, plane offset included) → {@code Y}, zero except {@code Y[I[i]] = X[i]} (on a
 * repeated index the last one in row-major order wins, as ONNX Runtime and the ONNX reference do).
 *
 * <p>Y's shape is the optional {@code output_shape} input (N, C and every spatial size; known when the
 * plan is prepared, e.g. Shape of the tensor the pool read), else the inferred shape, per spatial axis
 * {@code (D − 1)·stride + kernel − pad_begin − pad_end} from the {@code kernel_shape} (required),
 * {@code strides} (default 1) and {@code pads} (default 0) the pool used.
 *
 * <p>When output_shape differs from the inferred shape the indices are ambiguous: ONNX's reference (and its
 * test data) reads them as indices into the inferred shape and puts that result at the start of each axis
 * of output_shape; MaxPool's Indices of a tensor of output_shape (an odd-sized map pooled 2×2, as in SegNet)
 * index output_shape itself, which is how ONNX Runtime reads them. jdnn takes the reading under which every
 * index lies in its element's (n, c) plane and pooling window, the reference's first; if neither fits, or an
 * index is outside Y, the run fails naming the node. Java.
 */
public final class MaxUnpool implements Op {
    static void register(Registry.Table t) {
        t.add("MaxUnpool", 9, new MaxUnpool());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        in.requireFloat(0, node, "X");
        if (x.length < 3) throw error(node, "X " + format(x) + " must be N×C×D1×… (rank >= 3)");
        long[] indices = in.require(1, node, "I");
        if (in.type(1) != DataType.INT64) throw error(node, "I must be int64, got " + in.type(1).onnxName());
        if (!Arrays.equals(indices, x)) throw error(node, "I " + format(indices) + " must have X's shape " + format(x));
        int spatial = x.length - 2;
        long[] kernel = node.attributes().getInts("kernel_shape", null);
        if (kernel == null) throw error(node, "kernel_shape is required");
        if (kernel.length != spatial) throw error(node, "kernel_shape " + format(kernel) + " must have " + spatial + " values for X " + format(x));
        Checks.positive(node, "kernel_shape", kernel);
        long[] strides = Checks.positive(node, "strides", ints(node, "strides", spatial, 1));
        long[] pads = Checks.nonNegative(node, "pads", ints(node, "pads", 2 * spatial, 0));
        long[] out = new long[x.length];
        out[0] = x[0];
        out[1] = x[1];
        for (int i = 0; i < spatial; i++) {
            out[i + 2] = Math.addExact(Math.multiplyExact(x[i + 2] - 1, strides[i]), kernel[i]) - pads[i] - pads[i + spatial];
            if (x[i + 2] > 0 && out[i + 2] < 1) {
                throw error(node, "the unpooled size of spatial axis " + i + " is " + out[i + 2] + " (kernel_shape " + format(kernel) + ", strides "
                        + format(strides) + ", pads " + format(pads) + ", X " + format(x) + ")");
            }
            if (x[i + 2] == 0) out[i + 2] = 0;
        }
        long[] inferred = out;
        if (in.has(2)) {
            long[] shape = in.constantLongs(2, node, "output_shape");
            if (shape.length != x.length) throw error(node, "output_shape " + format(shape) + " must have " + x.length + " values (rank of X " + format(x) + ")");
            for (long d : shape) if (d < 0) throw error(node, "output_shape " + format(shape) + " has a negative size");
            if (shape[0] != x[0] || shape[1] != x[1]) throw error(node, "output_shape " + format(shape) + " must keep X's N and C " + format(x));
            out = shape.clone();
        }
        int size = arraySize(out, node);
        arraySize(inferred, node);
        long[] y = out;
        Windows windows = new Windows(x, kernel, strides, pads);
        boolean ambiguous = !Arrays.equals(inferred, out);
        return step(y, inputs -> {
            float[] src = floats(inputs, 0, node).toArray();
            long[] at = longs(inputs, 1, node);
            float[] dst = new float[size];
            long[] target = at;
            if (ambiguous) {
                // ONNX's reference reads the indices in the inferred shape and places that result at the start of
                // output_shape; MaxPool's Indices of a tensor of output_shape's size address output_shape itself
                // (ONNX Runtime's reading). The indices say which: each must fall in its pooling window.
                long[] asInferred = windows.place(at, inferred, y);
                if (asInferred != null) target = asInferred;
                else if (windows.place(at, y, y) == null) {
                    throw error(node, "the indices I do not address X's pooling windows, neither in the inferred shape " + format(inferred)
                            + " nor in output_shape " + format(y) + " (kernel_shape " + format(kernel) + ", strides " + format(strides) + ", pads " + format(pads) + ")");
                }
            }
            for (int i = 0; i < src.length; i++) {
                long t = target[i];
                if (t < 0 || t >= size) {
                    throw error(node, "index " + at[i] + " at position " + i + " of I is outside the output " + format(y) + " (" + size + " elements)");
                }
                dst[(int) t] = src[i];
            }
            return result(dst, y);
        });
    }

    /** Which output elements each pooled element's window covers, for reading ambiguous indices ({@code step}: the pool's strides). */
    private record Windows(long[] x, long[] kernel, long[] step, long[] pads) {
        /**
         * The indices, read as flat indices into {@code addressed}, as flat indices into {@code out} (same
         * coordinates), or null if any lies outside its element's plane or pooling window or outside {@code out}.
         */
        long[] place(long[] indices, long[] addressed, long[] out) {
            int spatial = x.length - 2;
            long[] placed = new long[indices.length];
            long[] pooledStride = Ops.strides(x), addressedStride = Ops.strides(addressed), outStride = Ops.strides(out);
            long addressedCount = count(addressed);
            for (int i = 0; i < indices.length; i++) {
                long t = indices[i];
                if (t < 0 || t >= addressedCount) return null;
                if (i / pooledStride[1] != t / addressedStride[1]) return null; // another (n, c) plane
                long flat = (t / addressedStride[1]) * outStride[1];
                for (int d = 0; d < spatial; d++) {
                    long pooled = i / pooledStride[d + 2] % x[d + 2];
                    long coord = t / addressedStride[d + 2] % addressed[d + 2];
                    long start = pooled * step[d] - pads[d];
                    if (coord < start || coord >= start + kernel[d] || coord >= out[d + 2]) return null;
                    flat += coord * outStride[d + 2];
                }
                placed[i] = flat;
            }
            return placed;
        }
    }
}
