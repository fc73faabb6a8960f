package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The ops that only change a shape, never the row-major order of the elements: Reshape, Flatten,
 * Squeeze and Unsqueeze (axes an attribute before opset 13, an input from 13). Any dtype. Compiled,
 * they are a plain copy (the producer's output is reordered to plain first).
 */
public final class Reshape implements Op {
    private final String type;

    private Reshape(String type) {
        this.type = type;
    }

    static void register(Registry.Table t) {
        for (String type : new String[] {"Reshape", "Flatten", "Squeeze", "Unsqueeze"}) t.add(type, 1, new Reshape(type));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "data");
        long[] out = switch (type) {
            case "Reshape" -> {
                long[] shape = ctx.opset() >= 5 ? in.constantLongs(1, node, "shape") : node.attributes().getInts("shape", null);
                if (shape == null) throw error(node, "shape is required");
                yield reshape(node, x, shape);
            }
            case "Flatten" -> {
                long a = node.attributes().getInt("axis", 1);
                int axis = a == x.length || a == -0 && x.length == 0 ? x.length : axis(a, x.length, node);
                // Each side's product of its own dims: 0×1×4 flattened at axis 1 is 0×4 (a count / outer would say 0×0).
                long outer = 1, inner = 1;
                for (int i = 0; i < axis; i++) outer = Math.multiplyExact(outer, x[i]);
                for (int i = axis; i < x.length; i++) inner = Math.multiplyExact(inner, x[i]);
                yield new long[] {outer, inner};
            }
            case "Squeeze" -> squeeze(node, x, ctx.opset() >= 13 ? in.constantLongs(1, node, "axes") : node.attributes().getInts("axes", null));
            default -> unsqueeze(node, x, ctx.opset() >= 13 ? in.constantLongs(1, node, "axes") : node.attributes().getInts("axes", null));
        };
        return view(node, out, in.type(0));
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (lowering.runtimeDescs().size() != 1 || in.isConstant(0) || !in.type(0).isFloat()) return null;
        return Primitives.copy(node, in.shape(0), lowering.output());
    }

    static long[] squeeze(Node node, long[] x, long[] axes) {
        boolean[] drop = new boolean[x.length];
        if (axes == null) {
            for (int i = 0; i < x.length; i++) drop[i] = x[i] == 1;
        } else {
            for (long a : axes) {
                int ax = axis(a, x.length, node);
                if (x[ax] != 1) throw error(node, "cannot squeeze axis " + a + " of size " + x[ax]);
                drop[ax] = true;
            }
        }
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < x.length; i++) if (!drop[i]) out.add(x[i]);
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    static long[] unsqueeze(Node node, long[] x, long[] axes) {
        if (axes == null) throw error(node, "axes are required");
        int rank = x.length + axes.length;
        boolean[] inserted = new boolean[rank];
        for (long a : axes) {
            int ax = axis(a, rank, node);
            if (inserted[ax]) throw error(node, "axis " + a + " repeated");
            inserted[ax] = true;
        }
        long[] out = new long[rank];
        for (int i = 0, j = 0; i < rank; i++) out[i] = inserted[i] ? 1 : x[j++];
        return out;
    }

    /** The same elements under another shape. */
    static Step view(Node node, long[] out, DataType type) {
        return step(out, type, in -> {
            Value v = in.get(0);
            if (v instanceof Value.Longs l) return new Value.Longs(l.type(), out, l.view());
            return new Value.Floats(Tensor.copyOf(floats(in, 0, node).reshape(out)));
        });
    }

    /** ONNX Reshape: 0 copies the input dimension (unless allowzero), one -1 is inferred. */
    static long[] reshape(Node node, long[] x, long[] shape) {
        boolean allowZero = Checks.flag(node, "allowzero", node.attributes().getInt("allowzero", 0));
        long[] out = shape.clone();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 0 && !allowZero) {
                if (i >= x.length) throw error(node, "shape " + format(shape) + " copies dimension " + i + " that input " + format(x) + " lacks");
                out[i] = x[i];
            }
            if (out[i] == -1) {
                if (inferred >= 0) throw error(node, "shape " + format(shape) + " has more than one -1");
                inferred = i;
            } else if (out[i] < 0) {
                throw error(node, "shape " + format(shape) + " has a negative dimension");
            } else {
                known *= out[i];
            }
        }
        if (inferred >= 0) {
            if (known == 0 || count(x) % known != 0) throw error(node, "cannot reshape " + format(x) + " to " + format(shape));
            out[inferred] = count(x) / known;
        }
        if (count(out) != count(x)) throw error(node, "cannot reshape " + format(x) + " (" + count(x) + " elements) to " + format(out));
        return out;
    }
}
