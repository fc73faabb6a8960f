package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Concat along an axis, any dtype (all inputs of one type). Compiled, float inputs in their own layouts
 * are one oneDNN concat (and at batch 1 the plan may place the inputs in their slices of the output,
 * so it copies nothing: {@code Optimizations.concatInPlace}).
 */
public final class Concat implements Op {
    static void register(Registry.Table t) {
        t.add("Concat", 1, new Concat());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        for (int i = 1; i < in.count(); i++) {
            if (in.has(i) && in.type(i) != in.type(0)) throw error(node, "inputs differ in type: " + in.type(0).onnxName() + " and " + in.type(i).onnxName());
        }
        return concat(node, in, ctx);
    }

    /** The concat axis, normalised. */
    public static int axis(Node node, int rank) {
        if (!node.attributes().has("axis")) throw error(node, "axis is required");
        return Ops.axis(node.attributes().getInt("axis", 0), rank, node);
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        List<MemorySegment> descs = lowering.runtimeDescs();
        if (descs.size() != node.inputs().size() || !in.type(0).isFloat()) return null;
        return descs.size() == 1 ? Primitives.identity(node, lowering.output(), descs.get(0)) : lowerConcat(node, in.shapes(), lowering.output(), descs);
    }

    /** Layouts a concat's inputs may be unified to (rank 4): plain NCHW first (ties go to it), channels-last, 8- and 16-channel blocks. */
    private static final int[] COMMON_TAGS_4D = {dnnl_abcd(), dnnl_acdb(), dnnl_aBcd8b(), dnnl_aBcd16b()};

    /**
     * The layouts to ask the inputs for. oneDNN's concat of inputs in different layouts is its reference
     * kernel (ShuffleNetV2's concat of a plain slice and an NHWC conv output: {@code ref:any}, several times
     * slower than {@code simple:any}), so when the inputs' layouts differ and each is one of
     * {@link #COMMON_TAGS_4D}, every input is asked for in the tag most of them already have (ties: the
     * earlier tag), and the plan reorders the others; otherwise the inputs' own layouts.
     */
    private static List<MemorySegment> commonLayout(Arena arena, List<long[]> shapes, List<MemorySegment> descs) {
        if (shapes.getFirst().length != 4) return descs;
        int[] tagOf = new int[descs.size()];
        int[] votes = new int[COMMON_TAGS_4D.length];
        for (int i = 0; i < descs.size(); i++) {
            tagOf[i] = -1;
            for (int t = 0; t < COMMON_TAGS_4D.length && tagOf[i] < 0; t++) {
                if (MemoryDescs.equal(descs.get(i), MemoryDescs.create(arena, shapes.get(i), COMMON_TAGS_4D[t]))) tagOf[i] = t;
            }
            if (tagOf[i] < 0) return descs;   // a layout outside the list: leave the choice to oneDNN
            votes[tagOf[i]]++;
        }
        int best = 0;
        for (int t = 1; t < votes.length; t++) if (votes[t] > votes[best]) best = t;
        if (votes[best] == descs.size()) return descs;   // all alike already
        List<MemorySegment> unified = new java.util.ArrayList<>();
        for (long[] shape : shapes) unified.add(MemoryDescs.create(arena, shape, COMMON_TAGS_4D[best]));
        return unified;
    }

    static Step concat(Node node, Inputs in, Context ctx) {
        List<long[]> shapes = in.shapes();
        long[] first = in.require(0, node, "input 0");
        int axis = axis(node, first.length);
        long[] out = first.clone();
        out[axis] = 0;
        for (int i = 0; i < shapes.size(); i++) {
            long[] s = shapes.get(i);
            if (s == null) throw error(node, "input " + i + " is omitted; every Concat input is required");
            if (s.length != first.length) throw error(node, "inputs differ in rank: " + format(first) + " and " + format(s));
            for (int d = 0; d < s.length; d++) {
                if (d != axis && s[d] != first[d]) throw error(node, "inputs " + format(first) + " and " + format(s) + " differ outside axis " + axis);
            }
            out[axis] += s[axis];
        }
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= first[d];
        for (int d = axis + 1; d < first.length; d++) inner *= first[d];
        long innerOut = out[axis] * inner;
        long o = outer, innerSize = inner;
        return step(out, in.type(0), inputs -> {
            if (inputs.get(0) instanceof Value.Longs first0) {
                long[] dst = new long[(int) count(out)];
                long offset = 0;
                for (Value v : inputs) {
                    long[] src = ((Value.Longs) v).view();
                    long chunk = v.shape()[axis] * innerSize;
                    for (long a = 0; a < o; a++) System.arraycopy(src, (int) (a * chunk), dst, (int) (a * innerOut + offset), (int) chunk);
                    offset += chunk;
                }
                return new Value.Longs(first0.type(), out, dst);
            }
            Tensor y = Tensor.zeros(out);
            long offset = 0;
            for (int i = 0; i < inputs.size(); i++) {
                Tensor t = floats(inputs, i, node);
                long chunk = t.dim(axis) * innerSize * Float.BYTES;
                for (long a = 0; a < o; a++) {
                    MemorySegment.copy(t.segment(), a * chunk, y.segment(), (a * innerOut) * Float.BYTES + offset, chunk);
                }
                offset += chunk;
            }
            return new Value.Floats(y);
        });
    }


    /** Concat along an axis, inputs in their own layouts or one common one ({@link #commonLayout}); oneDNN picks the output's. */
    private static NativeOp lowerConcat(Node node, List<long[]> shapes, long[] out, List<MemorySegment> given) {
        int axis = axis(node, out.length);
        String description = node.label() + ": concat of " + given.size() + " along axis " + axis + " -> " + MemoryDescs.dims(out);
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        try {
            Arena a = op.arena;
            List<MemorySegment> descs = commonLayout(a, shapes, given);
            MemorySegment srcs = a.allocate(C_POINTER, descs.size());
            for (int i = 0; i < descs.size(); i++) srcs.setAtIndex(C_POINTER, i, descs.get(i));
            MemorySegment dstAny = MemoryDescs.any(a, out);
            MemorySegment attr = Primitives.userScratchpad(a, description);
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

}
