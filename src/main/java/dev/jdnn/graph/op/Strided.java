package dev.jdnn.graph.op;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Supplier;

/**
 * The one data movement Slice, Split, Expand and Tile all are: walking the output in row-major order
 * over an iteration shape {@code walk}, element {@code i} with coordinates {@code c} is read from input
 * element {@code offset + Σ_d c_d·strides[d]} (strides in elements, row-major input; 0 repeats an axis,
 * negative walks it backwards). The output has shape {@code out}, the same element count as {@code walk}
 * (Tile walks a finer shape, {@code r0×x0×r1×x1×…}, than its output {@code r0·x0×r1·x1×…}).
 *
 * <ul>
 *   <li>Slice: {@code walk = out}, {@code offset = Σ start_d·s_d}, {@code strides = step_d·s_d};</li>
 *   <li>Split part: a Slice with step 1 along one axis;</li>
 *   <li>Expand: {@code walk = out}, stride 0 where the input dimension is 1 (or absent);</li>
 *   <li>Tile: {@code walk = r0×x0×…}, strides {@code 0, s0, 0, s1, …}.</li>
 * </ul>
 *
 * @param in      input shape
 * @param out     output shape
 * @param walk    iteration shape (same element count as {@code out})
 * @param offset  first input element read
 * @param strides input step per walk axis, in elements
 */
record Strided(long[] in, long[] out, long[] walk, long offset, long[] strides) {

    Strided {
        if (walk.length != strides.length || Ops.count(walk) != Ops.count(out)) {
            throw new IllegalArgumentException("walk " + Ops.format(walk) + " does not fit strides " + Ops.format(strides) + " and output " + Ops.format(out));
        }
    }

    /** The step of an op that is this one copy of input 0 (Slice, a Split part, Expand, Tile): the output keeps {@code type}. */
    Op.Step step(Node node, DataType type) {
        return Ops.step(out, type, v -> run(v.get(0), node));
    }

    /** Such an op's compiled form: {@code plan}'s copy when input 0 is its only runtime input and float32, else null. */
    static NativeOp lower(Node node, Inputs in, Op.Lowering lowering, Supplier<Strided> plan) {
        if (in.type(0) != DataType.FLOAT || in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        return plan.get().lower(node);
    }

    /** The plain Java reference: one element at a time, any element type (the output keeps the input's type). */
    Value run(Value input, Node node) {
        int n = Ops.arraySize(out, node);
        if (input instanceof Value.Longs l) {
            long[] src = l.view(), dst = new long[n];
            Walker w = new Walker();
            for (int i = 0; i < n; i++) {
                dst[i] = src[(int) w.at];
                w.next();
            }
            return Ops.result(l.type(), dst, out);
        }
        Tensor x = ((Value.Floats) input).tensor();
        MemorySegment src = x.segment();
        float[] dst = new float[n];
        Walker w = new Walker();
        for (int i = 0; i < n; i++) {
            dst[i] = src.getAtIndex(ValueLayout.JAVA_FLOAT, w.at);
            w.next();
        }
        return Ops.result(dst, out);
    }

    /** Row-major walk over {@code walk}, tracking the input element of the current position. */
    private final class Walker {
        final long[] coord = new long[walk.length];
        long at = offset;

        void next() {
            for (int d = walk.length - 1; d >= 0; d--) {
                at += strides[d];
                if (++coord[d] < walk[d]) return;
                at -= strides[d] * coord[d];
                coord[d] = 0;
            }
        }
    }

    /**
     * The native form for a compiled plan: float32, plain (row-major) input and output, copied with
     * {@link MemorySegment#copy} in the longest runs that are contiguous on both sides (a channel Split
     * of {@code N×C×H×W} is N copies of {@code C/k·H·W} floats), element by element where the innermost
     * stride is not 1. Null when the shapes do not fit a oneDNN descriptor (rank 1..6, no empty axis).
     */
    NativeOp lower(Node node) {
        if (!Primitives.nativeShape(in) || !Primitives.nativeShape(out)) return null;
        // Axes k..r-1 of the walk form one contiguous input run of `run` elements (size-1 axes merge freely).
        int r = walk.length;
        int k = r;
        long run = 1;
        while (k > 0 && (walk[k - 1] == 1 || strides[k - 1] == run)) {
            run *= walk[k - 1];
            k--;
        }
        int outerRank = k;
        long[] outerWalk = java.util.Arrays.copyOf(walk, k);
        long[] outerStrides = java.util.Arrays.copyOf(strides, k);
        long outerCount = Ops.count(outerWalk);
        long runElements = run;
        long runBytes = run * Float.BYTES;
        long first = offset;
        String description = node.label() + ": " + node.opType() + " (strided copy, " + outerCount + " runs of " + run + ") "
                + MemoryDescs.dims(in) + " -> " + MemoryDescs.dims(out);
        return Primitives.move(in, out, description, (src, output) -> {
            long[] coord = new long[outerRank]; // this frame's own, so concurrent frames never share it
            return () -> {
                java.util.Arrays.fill(coord, 0);
                long at = first;
                long dst = 0;
                for (long o = 0; o < outerCount; o++) {
                    if (runElements == 1) {
                        output.setAtIndex(ValueLayout.JAVA_FLOAT, dst, src.getAtIndex(ValueLayout.JAVA_FLOAT, at));
                    } else {
                        MemorySegment.copy(src, at * Float.BYTES, output, dst * Float.BYTES, runBytes);
                    }
                    dst += runElements;
                    for (int d = outerRank - 1; d >= 0; d--) {
                        at += outerStrides[d];
                        if (++coord[d] < outerWalk[d]) break;
                        at -= outerStrides[d] * coord[d];
                        coord[d] = 0;
                    }
                }
            };
        });
    }

    /** Row-major strides of a shape, in elements. */
    static long[] rowMajor(long[] shape) {
        return Ops.strides(shape);
    }
}
