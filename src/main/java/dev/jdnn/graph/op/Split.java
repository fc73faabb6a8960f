package dev.jdnn.graph.op;

import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Split: cuts {@code x} along {@code axis} into consecutive parts, one per output, any element type.
 * {@code d0×…×da×… → d0×…×s_i×…} with {@code Σ s_i = da}. The sizes come from the {@code split}
 * attribute (opsets 2–12) or input (13+); when absent, {@code num_outputs} (18+) or the number of outputs
 * parts are equal; if the axis does not divide evenly, opset 18+ makes every part {@code ⌈da/n⌉} and the
 * last one what remains (ONNX's rule), earlier opsets refuse it as their spec does.
 *
 * <p>A NativeOp has one output, so the graph rewrite {@link dev.jdnn.graph.rewrite.SplitParts} replaces
 * each Split by one {@code jdnn.SplitPart} node per output ({@link Part}: the same inputs and attributes
 * plus which part), each a strided copy of its slab on oneDNN plans ({@link Strided}); this class runs
 * Split itself where it is not rewritten (folding, node tests of the op).
 */
public final class Split implements Op {
    /** Attributes the rewrite adds to a part: its index, how many outputs the Split had, its label. */
    public static final String PART = "jdnn.part";
    public static final String PARTS = "jdnn.parts";
    public static final String LABEL = "jdnn.label";

    static void register(Registry.Table t) {
        t.add("Split", 1, new Split());
        t.add("jdnn.SplitPart", 1, new Part());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        List<Strided> parts = plan(node, in, ctx, node.outputs().size());
        List<long[]> shapes = new ArrayList<>();
        for (Strided p : parts) shapes.add(p.out());
        return Ops.step(shapes, java.util.Collections.nCopies(parts.size(), in.type(0)), v -> {
            List<Value> out = new ArrayList<>();
            for (Strided p : parts) out.add(p.run(v.get(0), node));
            return out;
        });
    }

    /** One strided read per output: the slab {@code [begin_i, begin_i + s_i)} of the axis. */
    static List<Strided> plan(Node node, Inputs in, Context ctx, int outputs) {
        long[] x = in.require(0, node, "input");
        if (outputs < 1) throw Ops.error(node, "has no outputs");
        int axis = Ops.axis(node.attributes().getInt("axis", 0), x.length, node);
        long dim = x[axis];
        long[] split;
        if (ctx.opset() < 13) {
            if (in.has(1)) throw Ops.error(node, "split is an attribute before opset 13, not an input (this model is opset " + ctx.opset() + ")");
            split = node.attributes().getInts("split", null);
        } else {
            if (node.attributes().has("split")) throw Ops.error(node, "split is an input since opset 13, not an attribute");
            split = in.constantLongs(1, node, "split");
        }
        long numOutputs = -1;
        if (node.attributes().has("num_outputs")) {
            if (ctx.opset() < 18) throw Ops.error(node, "attribute num_outputs exists from opset 18 on, this model is opset " + ctx.opset());
            numOutputs = node.attributes().getInt("num_outputs", 0);
            if (split != null) throw Ops.error(node, "give either split or num_outputs, not both");
            if (numOutputs != outputs) throw Ops.error(node, "num_outputs " + numOutputs + " differs from the number of outputs " + outputs);
        }
        if (split != null) {
            if (split.length != outputs) throw Ops.error(node, "split " + Ops.format(split) + " has " + split.length + " sizes for " + outputs + " outputs");
            long sum = 0;
            for (long s : split) {
                if (s < 0) throw Ops.error(node, "split " + Ops.format(split) + " has a negative size");
                sum += s;
            }
            if (sum != dim) throw Ops.error(node, "split " + Ops.format(split) + " sums to " + sum + ", axis " + axis + " of " + Ops.format(x) + " has " + dim);
        } else {
            int n = outputs;
            split = new long[n];
            if (dim % n == 0) {
                Arrays.fill(split, dim / n);
            } else if (ctx.opset() >= 18) {
                long chunk = (dim + n - 1) / n;
                Arrays.fill(split, chunk);
                split[n - 1] = dim - chunk * (n - 1);
                if (split[n - 1] < 0) throw Ops.error(node, "axis " + axis + " of size " + dim + " cannot be cut into " + n + " parts of " + chunk + " with a smaller last one");
            } else {
                throw Ops.error(node, "axis " + axis + " of size " + dim + " does not split into " + n + " equal parts (opset " + ctx.opset() + " has no uneven rule; give split)");
            }
        }
        long[] strides = Ops.strides(x);
        List<Strided> parts = new ArrayList<>();
        long begin = 0;
        for (long s : split) {
            long[] out = x.clone();
            out[axis] = s;
            parts.add(new Strided(x, out, out, s == 0 ? 0 : begin * strides[axis], strides));
            begin += s;
        }
        return parts;
    }

    /**
     * {@code jdnn.SplitPart}: output {@code jdnn.part} of the Split the rewrite replaced (which had
     * {@code jdnn.parts} outputs), read as one strided copy; natively a {@link Strided} copy of plain float32 data.
     */
    static final class Part implements Op {
        @Override
        public Step prepare(Node node, Inputs in, Context ctx) {
            return part(node, in, ctx).step(node, in.type(0));
        }

        @Override
        public NativeOp lower(Node node, Inputs in, Lowering lowering) {
            return Strided.lower(node, in, lowering, () -> part(node, in, lowering.context()));
        }

        private static Strided part(Node node, Inputs in, Context ctx) {
            Attributes a = node.attributes();
            if (!a.has(PART) || !a.has(PARTS)) throw Ops.error(node, "is a jdnn-internal op made by the Split rewrite; attributes " + PART + " and " + PARTS + " are missing");
            // Errors name the original Split node, not the part.
            Node split = new Node(a.getString(LABEL, node.label()), "Split", node.inputs(), node.outputs(), a);
            int parts = Ops.toInt(a.getInt(PARTS, 0), split, PARTS);
            int part = Ops.toInt(a.getInt(PART, 0), split, PART);
            if (part < 0 || part >= parts) throw Ops.error(split, PART + " " + part + " is out of range for " + parts + " parts");
            try {
                return plan(split, in, ctx, parts).get(part);
            } catch (DataDependentException e) {
                // keeps its type: the session answers it by specialising the plan on the split input's value
                throw new DataDependentException(node.opType() + " node " + node.label() + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw Ops.error(node, e.getMessage());
            }
        }
    }

    /** The attributes of part {@code i} of a Split node with {@code parts} outputs (the rewrite's). */
    public static Attributes partAttributes(Node split, int i, int parts) {
        Attributes a = split.attributes();
        Map<String, Object> m = new java.util.HashMap<>();
        if (a.has("axis")) m.put("axis", a.getInt("axis", 0));
        if (a.has("split")) m.put("split", a.getInts("split", null));
        if (a.has("num_outputs")) m.put("num_outputs", a.getInt("num_outputs", 0));
        m.put(PART, (long) i);
        m.put(PARTS, (long) parts);
        m.put(LABEL, split.label());
        return new Attributes(m);
    }
}
