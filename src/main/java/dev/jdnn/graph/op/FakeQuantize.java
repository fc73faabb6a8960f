package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.conv.NativeConv2d;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code jdnn.FakeQuantize(x, y_scale, y_zero_point, x_scale, x_zero_point)}: a QuantizeLinear whose only
 * reader is a DequantizeLinear (what {@link dev.jdnn.graph.rewrite.FakeQuantFusion} makes of a QDQ model's
 * "fake quant" on a float activation), float32 x → float32 y of the same shape:
 * <pre>
 *   q = saturate(rint(x / y_scale) + y_zero_point)      (QuantizeLinear, uint8 | int8)
 *   y = (q - x_zero_point) * x_scale                     (DequantizeLinear)
 * </pre>
 * The Java step is the two ops' own steps run one after the other (so every check and every result is
 * theirs; the attributes keep their names, DequantizeLinear's prefixed {@code dequantize.}). In a compiled
 * plan, with constant per-tensor scales and zero points and a finite nonzero y_scale, it is one oneDNN
 * binary primitive, exact in float32: {@code x / y_scale} (binary div, an IEEE division as Java's), then the
 * eltwise post-ops round (half to even) → linear(1, y_zp) → clip(qmin, qmax) → linear(1, -x_zp) →
 * linear(x_scale, 0): every step is either exact on integers or the one float32 rounding the reference
 * makes. Right after a conv chain the plan runs the same chain as the convolution's last post-ops instead
 * ({@link #nativeForm}, {@link NativeConv2d.FakeQuant}). Only a NaN input may differ: Java (like numpy's
 * cast) quantizes it to 0, oneDNN's clip to qmin (the same for uint8; -128 instead of 0 for int8).
 */
public final class FakeQuantize implements Op {
    /** The op type, and the prefix of DequantizeLinear's attributes on it. */
    public static final String TYPE = "jdnn.FakeQuantize", DEQUANTIZE = "dequantize.";

    static void register(Registry.Table t) {
        t.add(TYPE, 1, new FakeQuantize());
    }

    /** The fused node's attributes: QuantizeLinear's as they are, DequantizeLinear's prefixed; null if one is not an int. */
    public static Attributes attributes(Attributes quantize, Attributes dequantize) {
        Map<String, Object> a = new HashMap<>();
        try {
            for (String name : quantize.names()) a.put(name, quantize.getInt(name, 0));
            for (String name : dequantize.names()) a.put(DEQUANTIZE + name, dequantize.getInt(name, 0));
        } catch (IllegalArgumentException notAnInt) {
            return null;
        }
        return new Attributes(a);
    }

    /** The QuantizeLinear (first) and DequantizeLinear (second) this node stands for. */
    private static Node[] parts(Node node) {
        Map<String, Object> q = new HashMap<>(), dq = new HashMap<>();
        for (String name : node.attributes().names()) {
            long v = node.attributes().getInt(name, 0);
            if (name.startsWith(DEQUANTIZE)) dq.put(name.substring(DEQUANTIZE.length()), v);
            else q.put(name, v);
        }
        List<String> in = new ArrayList<>(node.inputs());
        while (in.size() < 5) in.add("");
        String quantized = node.outputs().get(0) + "#quantized";
        return new Node[] {
            new Node(node.name(), "QuantizeLinear", in.subList(0, 3), List.of(quantized), new Attributes(q)),
            new Node(node.name(), "DequantizeLinear", List.of(quantized, in.get(3), in.get(4)), node.outputs(), new Attributes(dq)),
        };
    }

    private static Inputs slice(Inputs in, int from, long[] firstShape, DataType firstType) {
        List<long[]> s = new ArrayList<>();
        List<DataType> t = new ArrayList<>();
        List<Value> c = new ArrayList<>();
        for (int i = from; i < from + 3; i++) {
            boolean first = i == from && firstShape != null;
            s.add(first ? firstShape : in.shape(i));
            t.add(first ? firstType : in.type(i));
            c.add(first ? null : in.constant(i));
        }
        return new Inputs(s, t, c);
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        Node[] parts = parts(node);
        Step q = Quantize.QUANTIZE.prepare(parts[0], slice(in, 0, null, null), ctx);
        Step dq;
        try {
            dq = Quantize.DEQUANTIZE.prepare(parts[1], slice(in, 2, q.outputShapes().get(0), q.outputTypes().get(0)), ctx);
        } catch (RuntimeException e) {
            q.close();
            throw e;
        }
        return new Step() {
            @Override public List<long[]> outputShapes() { return dq.outputShapes(); }
            @Override public List<DataType> outputTypes() { return dq.outputTypes(); }

            @Override public List<Value> run(List<Value> inputs) {
                List<Value> all = new ArrayList<>(inputs);
                while (all.size() < 5) all.add(null);
                Value quantized = q.run(all.subList(0, 3)).get(0);
                return dq.run(Arrays.asList(quantized, all.get(3), all.get(4)));
            }

            @Override public String description() {
                return "Java reference (QuantizeLinear then DequantizeLinear)";
            }

            @Override public void close() {
                q.close();
                dq.close();
            }
        };
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        long[] x = in.shape(0);
        if (in.isConstant(0) || lowering.runtimeDescs().size() != 1 || !Primitives.nativeShape(x)) return null;
        NativeConv2d.FakeQuant fq = nativeForm(node, in);
        if (fq == null) return null;
        List<BinaryPrimitive.Operand> operands = List.of(new BinaryPrimitive.Operand(x, null, 0, lowering.desc(0)),
                new BinaryPrimitive.Operand(new long[0], new float[] {fq.divisor()}, -1, null));
        return BinaryPrimitive.create(node, "fake quantization (" + (fq.min() < 0 ? "int8" : "uint8") + ")", x, operands, new int[] {dnnl_binary_div()},
                fq.eltwiseChain());
    }

    /**
     * This node's native form, the constants of the exact oneDNN chain (also a convolution's post-ops, see
     * {@link NativeConv2d.FakeQuant}), or null when it has none: x must be float32, the scales and zero points
     * constant and per tensor, y_scale finite and nonzero.
     */
    public static NativeConv2d.FakeQuant nativeForm(Node node, Inputs in) {
        if (!TYPE.equals(node.opType()) || in.type(0) != DataType.FLOAT) return null;
        float quantScale = scalar(in, 1), dequantScale = scalar(in, 3);
        if (!Float.isFinite(quantScale) || quantScale == 0 || Float.isNaN(dequantScale)) return null;
        if (in.has(2) && !(in.constant(2) instanceof Value.Longs l2 && l2.view().length == 1)) return null;
        if (in.has(4) && !(in.constant(4) instanceof Value.Longs l4 && l4.view().length == 1)) return null;
        long quantZp = in.has(2) ? ((Value.Longs) in.constant(2)).view()[0] : 0;
        long dequantZp = in.has(4) ? ((Value.Longs) in.constant(4)).view()[0] : 0;
        DataType type = in.has(2) ? in.type(2) : node.attributes().getInt("output_dtype", 0) == DataType.INT8.onnxCode() ? DataType.INT8 : DataType.UINT8;
        float lo = type == DataType.UINT8 ? 0 : -128, hi = type == DataType.UINT8 ? 255 : 127;
        return new NativeConv2d.FakeQuant(quantScale, quantZp, lo, hi, dequantZp, dequantScale);
    }

    /** A constant one-element float input, else NaN. */
    private static float scalar(Inputs in, int i) {
        return in.constant(i) instanceof Value.Floats f && f.tensor().elementCount() == 1 ? f.tensor().getFlat(0) : Float.NaN;
    }
}
