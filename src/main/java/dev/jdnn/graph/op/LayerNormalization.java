package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * LayerNormalization (opset 17) and jdnn's {@code jdnn.LayerNormalization} (what
 * {@link dev.jdnn.graph.rewrite.LayerNormPattern} makes of the decomposed form older exports spell out):
 * X {@code d0×…×dr-1} is normalised over its trailing dims {@code d[axis..]} (axis default −1):
 * {@code Y = (X − mean)/√(var + ε) · Scale + B}, var the biased variance; Scale and B broadcast to X
 * (usually of the normalised shape). Optional outputs Mean and InvStdDev {@code = 1/√(var + ε)} have
 * shape {@code d0×…×d[axis−1]×1×…×1}. Scale may be omitted (1), as torch 1.13 exports it for
 * elementwise_affine=False. stash_type must be 1 (float32: jdnn computes the statistics in double, at
 * least as precise, and Mean/InvStdDev are float32).
 *
 * <p>Native: oneDNN layer normalisation on the row-major 2-D view {@code (d0⋯d[axis−1]) × (d[axis]⋯)}
 * with the scale and shift expanded to the normalised size, when Scale and B are constants that vary
 * only within the normalised dims and only Y is used.
 */
public final class LayerNormalization implements Op {
    static void register(Registry.Table t) {
        LayerNormalization op = new LayerNormalization();
        t.add("LayerNormalization", 17, op);
        t.add("jdnn.LayerNormalization", 1, op);
    }

    record Geometry(int axis, int outer, int inner, float epsilon, long[] stat) {}

    static Geometry geometry(Node node, Inputs in) {
        long[] x = in.require(0, node, "X");
        in.requireFloat(0, node, "X");
        if (x.length == 0) throw error(node, "X must have rank >= 1, got a scalar");
        int axis = axis(node.attributes().getInt("axis", -1), x.length, node);
        float eps = node.attributes().getFloat("epsilon", 1e-5f);
        if (!(eps >= 0) || Float.isInfinite(eps)) throw error(node, "epsilon must be a finite value >= 0, got " + eps);
        long stash = node.attributes().getInt("stash_type", 1);
        if (stash != 1) throw error(node, "stash_type " + stash + " is not supported (jdnn computes in float32/double: stash_type 1)");
        for (int i = 1; i <= 2; i++) {
            if (!in.has(i)) continue;
            in.requireFloat(i, node, i == 1 ? "Scale" : "B");
            long[] b = broadcast(x, in.shape(i), node);
            if (!Arrays.equals(b, x)) throw error(node, (i == 1 ? "Scale " : "B ") + format(in.shape(i)) + " does not broadcast to X " + format(x));
        }
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= x[i];
        for (int i = axis; i < x.length; i++) inner *= x[i];
        arraySize(x, node);
        long[] stat = x.clone();
        for (int i = axis; i < x.length; i++) stat[i] = 1;
        return new Geometry(axis, (int) outer, (int) inner, eps, stat);
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        Geometry g = geometry(node, in);
        long[] x = in.shape(0);
        int outputs = node.outputs().size();
        if (outputs > 3) throw error(node, "has " + outputs + " outputs; LayerNormalization has at most 3 (Y, Mean, InvStdDev)");
        List<long[]> shapes = new ArrayList<>();
        List<DataType> types = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            shapes.add(i == 0 ? x : g.stat());
            types.add(DataType.FLOAT);
        }
        int[] scaleIndex = in.has(1) ? broadcastIndex(in.shape(1), x) : null;
        int[] biasIndex = in.has(2) ? broadcastIndex(in.shape(2), x) : null;
        return step(shapes, types, inputs -> {
            float[] v = floats(inputs, 0, node).toArray();
            float[] scale = scaleIndex != null ? floats(inputs, 1, node).toArray() : null;
            float[] bias = biasIndex != null ? floats(inputs, 2, node).toArray() : null;
            float[] y = new float[v.length];
            float[] mean = new float[g.outer()], inv = new float[g.outer()];
            int n = g.inner();
            for (int r = 0; r < g.outer(); r++) {
                int base = r * n;
                double sum = 0;
                for (int j = 0; j < n; j++) sum += v[base + j];
                double m = sum / n;
                double sq = 0;
                for (int j = 0; j < n; j++) {
                    double d = v[base + j] - m;
                    sq += d * d;
                }
                double is = 1 / Math.sqrt(sq / n + g.epsilon());
                for (int j = 0; j < n; j++) {
                    int at = base + j;
                    double o = (v[at] - m) * is;
                    if (scale != null) o *= scale[scaleIndex[at]];
                    if (bias != null) o += bias[biasIndex[at]];
                    y[at] = (float) o;
                }
                mean[r] = (float) m;
                inv[r] = (float) is;
            }
            List<Value> out = new ArrayList<>();
            out.add(result(y, x));
            if (outputs > 1) out.add(result(mean, g.stat()));
            if (outputs > 2) out.add(result(inv, g.stat()));
            return out;
        });
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        for (int i = 1; i < node.outputs().size(); i++) if (!node.outputs().get(i).isEmpty()) return null;
        long[] x = in.shape(0);
        if (in.isConstant(0) || lowering.runtimeDescs().size() != 1 || !Primitives.nativeShape(x)) return null;
        Geometry g = geometry(node, in);
        float[] scale = perPosition(in, 1, x, g.axis(), 1f);
        float[] shift = perPosition(in, 2, x, g.axis(), 0f);
        if (scale == null || shift == null) return null;
        String description = node.label() + ": layer normalization " + MemoryDescs.dims(x) + " over " + MemoryDescs.dims(new long[] {g.outer(), g.inner()})
                + " eps " + g.epsilon();
        return primitive(x, g.outer(), g.inner(), g.epsilon(), scale, shift, description);
    }

    /**
     * oneDNN's layer normalisation of plain row-major {@code x} viewed as {@code outer×inner}, each row normalised
     * ({@code (x − mean)/√(var + eps)}), then {@code ·scale + shift} per position of a row when they are given
     * (both or neither).
     */
    static NativeOp primitive(long[] x, long outer, long inner, float eps, float[] scale, float[] shift, String description) {
        long[] view = {outer, inner};
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        try {
            Arena a = op.arena;
            MemorySegment src = MemoryDescs.plain(a, view);
            MemorySegment stat = MemoryDescs.plain(a, new long[] {outer});
            MemorySegment attr = Primitives.userScratchpad(a, description);
            MemorySegment engine = Engine.cpu();
            int flags = scale != null ? dnnl_use_scale() | dnnl_use_shift() : 0;
            op.create("dnnl_layer_normalization_forward_primitive_desc_create", o -> dnnl_layer_normalization_forward_primitive_desc_create(o,
                    engine, dnnl_forward_inference(), src, src, stat, eps, flags, attr));
            op.inputKinds = new int[] {DNNL_ARG_SRC()};
            op.inputDescs = new MemorySegment[] {src};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = src;
            if (scale != null) op.constant(DNNL_ARG_SCALE(), scale).constant(DNNL_ARG_SHIFT(), shift);
            MemorySegment plain = MemoryDescs.plain(a, x);
            return NormPrimitives.reshaped(op, plain, plain);
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /**
     * Constant input {@code i} (Scale or B) as one value per position of the normalised dims
     * {@code x[axis..]}, {@code fallback} everywhere when it is omitted; null when it is not a constant
     * or varies along the leading dims (then it is not one vector oneDNN can take).
     */
    static float[] perPosition(Inputs in, int i, long[] x, int axis, float fallback) {
        long[] norm = Arrays.copyOfRange(x, axis, x.length);
        float[] out = new float[(int) count(norm)];
        if (!in.has(i)) {
            Arrays.fill(out, fallback);
            return out;
        }
        if (!(in.constant(i) instanceof Value.Floats f)) return null;
        long[] s = in.shape(i);
        int lead = 0;
        while (lead < s.length && s[lead] == 1 && s.length - lead > norm.length) lead++;
        long[] trimmed = Arrays.copyOfRange(s, lead, s.length);
        if (trimmed.length > norm.length) return null;
        float[] values = f.tensor().toArray();
        int[] index = broadcastIndex(trimmed, norm);
        for (int j = 0; j < out.length; j++) out[j] = values[index[j]];
        return out;
    }
}
