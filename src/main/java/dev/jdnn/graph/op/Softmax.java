package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import java.lang.foreign.MemorySegment;

/**
 * Softmax and LogSoftmax, numerically stable (max subtracted), in double on the Java reference. From
 * opset 13 they normalise along one axis (default -1); before, the input is coerced to 2-D at
 * {@code axis} (default 1) and each row of the flattened {@code shape[axis:]} block is normalised.
 * Natively oneDNN's softmax (accurate, or log for LogSoftmax) over one axis of the plain tensor: any
 * axis from opset 13, and before 13 when the coerced block has at most one dimension above 1 (the
 * usual N×C classifier output, or N×C×1×1).
 */
public final class Softmax implements Op {
    private final boolean log;

    private Softmax(boolean log) {
        this.log = log;
    }

    static void register(Registry.Table t) {
        t.add("Softmax", 1, new Softmax(false));
        t.add("LogSoftmax", 1, new Softmax(true));
    }

    /**
     * How a (coerced) softmax axis splits a tensor: {@code outer × dim × inner} with the normalisation
     * over {@code dim}; {@code nativeAxis} is the one tensor axis that reduction is, or -1 if it spans
     * several axes of size above 1.
     */
    record Blocks(int outer, int dim, int inner, int nativeAxis) {}

    static Blocks blocks(Node node, long[] x, int opset) {
        if (x.length == 0) throw error(node, "input must have rank >= 1");
        int axis = axis(node.attributes().getInt("axis", opset >= 13 ? -1 : 1), x.length, node);
        arraySize(x, node);
        long outer = 1, inner = 1, dim = 1;
        for (int i = 0; i < axis; i++) outer *= x[i];
        if (opset >= 13) {
            for (int i = axis + 1; i < x.length; i++) inner *= x[i];
            return new Blocks((int) outer, (int) x[axis], (int) inner, axis);
        }
        int nativeAxis = axis, above1 = 0;
        for (int i = axis; i < x.length; i++) {
            dim *= x[i];
            if (x[i] > 1) {
                above1++;
                nativeAxis = i;
            }
        }
        return new Blocks((int) outer, (int) dim, 1, above1 <= 1 ? nativeAxis : -1);
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.requireFloat(0, node, "input");
        long[] x = in.require(0, node, "input");
        Blocks b = blocks(node, x, ctx.opset());
        if (ctx.backend() == Backend.NATIVE && b.nativeAxis() >= 0 && Primitives.nativeShape(x)) {
            return NativeStep.of(primitive(node, x, b.nativeAxis(), log), new int[] {0}, x, node);
        }
        return reference(node, x, b, log);
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.type(0) != DataType.FLOAT || in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        long[] x = in.shape(0);
        Blocks b = blocks(node, x, lowering.context().opset());
        return b.nativeAxis() < 0 ? null : primitive(node, x, b.nativeAxis(), log);
    }

    /** oneDNN softmax over {@code axis} of a plain tensor (in place allowed). */
    static NativeOp primitive(Node node, long[] x, int axis, boolean log) {
        String description = node.label() + ": softmax" + (log ? "_log" : "") + " axis " + axis + " " + MemoryDescs.dims(x);
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        try {
            MemorySegment desc = MemoryDescs.plain(op.arena, x);
            MemorySegment attr = Primitives.userScratchpad(op.arena, description);
            MemorySegment engine = Engine.cpu();
            int alg = log ? dnnl_softmax_log() : dnnl_softmax_accurate();
            op.create("dnnl_softmax_forward_primitive_desc_create", o -> dnnl_softmax_forward_primitive_desc_create(o, engine,
                    dnnl_forward_inference(), alg, desc, desc, axis, attr));
            op.reusesInput = 0;
            op.inputKinds = new int[] {DNNL_ARG_SRC()};
            op.inputDescs = new MemorySegment[] {desc};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = desc;
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /** {@code exp(x - max) / Σ exp(x - max)}, or its log {@code x - max - log Σ exp(x - max)}, over each block. */
    static Step reference(Node node, long[] x, Blocks b, boolean log) {
        int o = b.outer(), d = b.dim(), in = b.inner();
        return step(x, inputs -> {
            float[] v = floats(inputs, 0, node).toArray();
            for (int a = 0; a < o; a++) {
                for (int c = 0; c < in; c++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < d; j++) max = Math.max(max, v[(a * d + j) * in + c]);
                    double sum = 0;
                    for (int j = 0; j < d; j++) sum += Math.exp(v[(a * d + j) * in + c] - max);
                    double logSum = Math.log(sum);
                    for (int j = 0; j < d; j++) {
                        int at = (a * d + j) * in + c;
                        v[at] = (float) (log ? v[at] - max - logSum : Math.exp(v[at] - max) / sum);
                    }
                }
            }
            return result(v, x);
        });
    }
}
