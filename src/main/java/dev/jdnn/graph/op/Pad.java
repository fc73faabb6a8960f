package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.List;

/**
 * Pad: constant (with a value), reflect or edge; pads an attribute before opset 11, an input from 11;
 * any dtype. Compiled, a Pad that pads nothing (DenseNet exports have one before each transition's
 * AveragePool) is an identity; others run in Java.
 */
public final class Pad implements Op {
    static void register(Registry.Table t) {
        t.add("Pad", 1, new Pad());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        return pad(node, in, ctx);
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        return zeroPad(node, in.constants()) && lowering.runtimeDescs().size() == 1 && !in.isConstant(0) && in.type(0).isFloat()
                ? Primitives.identity(node, lowering.output(), lowering.desc(0)) : null;
    }

    /** Pad: constant (with a value), reflect or edge; pads are [begin per axis..., end per axis...], negative crops. */
    static Step pad(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "data");
        long[] pads;
        float value;
        if (ctx.opset() >= 11) {
            pads = in.constantLongs(1, node, "pads");
            // constant_value may be computed at run time: then it is read per run below.
            value = in.has(2) && !in.isConstant(2) ? Float.NaN : in.constantScalar(2, node, "constant_value", 0f);
            if (node.input(3) != null) throw error(node, "the axes input is not supported");
        } else {
            pads = node.attributes().getInts("pads", null);
            value = node.attributes().getFloat("value", 0f);
        }
        if (pads == null || pads.length != 2 * x.length) throw error(node, "pads must have " + 2 * x.length + " values");
        String mode = node.attributes().getString("mode", "constant");
        if (!mode.equals("constant") && !mode.equals("reflect") && !mode.equals("edge")) throw error(node, "mode " + mode + " is not supported");
        int rank = x.length;
        long[] out = new long[rank];
        for (int d = 0; d < rank; d++) {
            out[d] = x[d] + pads[d] + pads[d + rank];
            if (out[d] < 0) throw error(node, "pads " + format(pads) + " crop axis " + d + " below zero");
            if (mode.equals("reflect") && (pads[d] >= x[d] || pads[d + rank] >= x[d]) && (pads[d] > 0 || pads[d + rank] > 0)) {
                throw error(node, "reflect padding must be smaller than the axis (" + x[d] + ")");
            }
        }
        Ops.arraySize(out, node, Integer.BYTES);   // the index map (an int per output element) must fit, checked now
        // Made on the first run (see lazyIndexStep), once for every run after it.
        java.util.function.Supplier<int[]> index = once(() -> gatherIndex(x, out, pads, mode));
        if (in.has(2) && !in.isConstant(2) && ctx.opset() >= 11) {
            return step(java.util.List.of(out), java.util.List.of(in.type(0)), inputs -> {
                Value v = inputs.get(2);
                double fill = v instanceof Value.Floats f ? f.tensor().getFlat(0) : ((Value.Longs) v).view()[0];
                return indexStep(node, out, in.type(0), index, fill).run(inputs);
            });
        }
        return indexStep(node, out, in.type(0), index, value);
    }

    /** For each element of the padded output, the input element it copies ({@code -1}: the constant). */
    private static int[] gatherIndex(long[] x, long[] out, long[] pads, String mode) {
        int rank = x.length;
        long[] inStrides = strides(x);
        int[] index = new int[(int) count(out)];
        long[] coord = new long[rank];
        for (int i = 0; i < index.length; i++) {
            long offset = 0;
            boolean outside = false;
            for (int d = 0; d < rank; d++) {
                long c = coord[d] - pads[d];
                if (c < 0 || c >= x[d]) {
                    switch (mode) {
                        case "edge" -> c = c < 0 ? 0 : x[d] - 1;
                        case "reflect" -> c = c < 0 ? -c : 2 * (x[d] - 1) - c;
                        default -> outside = true;
                    }
                }
                offset += c * inStrides[d];
            }
            index[i] = outside ? -1 : (int) offset;
            for (int d = rank - 1; d >= 0; d--) {
                if (++coord[d] < out[d]) break;
                coord[d] = 0;
            }
        }
        return index;
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
}
