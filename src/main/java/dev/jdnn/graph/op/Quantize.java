package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * QuantizeLinear and DequantizeLinear (opsets 10+), linear quantization between float32 and 8-bit integers:
 * <pre>
 *   QuantizeLinear:   y = saturate(round(x / y_scale) + y_zero_point)     x float32 (or int32) → y uint8 | int8
 *   DequantizeLinear: y = (x - x_zero_point) * x_scale                     x uint8 | int8 | int32 → y float32
 * </pre>
 * as the ONNX reference computes them: {@code x / y_scale} in float32 (int32 x: in double, as numpy promotes
 * it), round half to even, the zero point added in float32, saturation to the output type's range (uint8
 * 0..255, int8 -128..127; ±∞ saturate, NaN gives 0 as numpy's cast does on x86-64); dequantization as
 * {@code (float(x) - float(zp)) * scale} in float32.
 *
 * <p>Scale and zero point: a scalar (or one element) is per-tensor; from opset 13 a 1-D tensor of
 * {@code x.shape[axis]} values quantizes per slice along {@code axis} (default 1, negative counts from the
 * end). The zero point is optional: absent it is 0, and QuantizeLinear then outputs uint8 (opset 21:
 * {@code output_dtype}'s type). The zero point's type is the quantized type. jdnn holds uint8, int8 and
 * int32, so float8 / int16 / int4 types and opset 21's block quantization ({@code block_size > 0}) are
 * refused naming the node; {@code saturate} (19+) concerns float8 only and is checked and ignored.
 *
 * <p>In a compiled plan a DequantizeLinear of a constant (quantized weights) is computed once at prepare,
 * so the Conv/Gemm reading it sees float constant weights; a QuantizeLinear → DequantizeLinear pair on a
 * float activation becomes {@link FakeQuantize} (see {@link dev.jdnn.graph.rewrite.FakeQuantFusion}).
 */
public final class Quantize implements Op {
    private final boolean quantize;

    private Quantize(boolean quantize) {
        this.quantize = quantize;
    }

    static final Quantize QUANTIZE = new Quantize(true), DEQUANTIZE = new Quantize(false);

    static void register(Registry.Table t) {
        t.add("QuantizeLinear", 10, QUANTIZE);
        t.add("DequantizeLinear", 10, DEQUANTIZE);
    }

    /**
     * Checked scale and zero point layout of one (de)quantization: per tensor ({@code channels == 1}) or per
     * slice along an axis; element {@code i} of x uses parameter {@code (i / inner) % channels}.
     *
     * @param type the quantized type (uint8, int8; DequantizeLinear also int32)
     */
    record Params(int channels, long inner, DataType type) {
        int channel(long i) {
            return channels == 1 ? 0 : (int) ((i / inner) % channels);
        }

        /** The scales (float32 input {@code scaleInput}), one per channel. */
        float[] scales(java.util.List<Value> inputs, int scaleInput, Node node) {
            return floats(inputs, scaleInput, node).toArray();
        }

        /** The zero points (input {@code zpInput}, absent: zeros), one per channel. */
        long[] zeroPoints(java.util.List<Value> inputs, int zpInput) {
            Value v = zpInput < inputs.size() ? inputs.get(zpInput) : null;
            return v instanceof Value.Longs l ? l.view() : new long[channels];
        }
    }

    /**
     * Checks the scale (input {@code scaleInput}) and the optional zero point (the next input) of a
     * (de)quantization of a tensor of shape {@code x} and decides their layout. {@code type} is the
     * quantized type when known from elsewhere (DequantizeLinear's x), else null: the zero point's, else
     * {@code fallback}.
     */
    static Params params(Node node, Inputs in, int scaleInput, String scaleName, long[] x, DataType type, DataType fallback, int opset) {
        int zpInput = scaleInput + 1;
        long[] scale = in.require(scaleInput, node, scaleName);
        if (in.type(scaleInput) != DataType.FLOAT) throw error(node, scaleName + " must be float32, got " + in.type(scaleInput).onnxName());
        DataType q = type;
        if (in.has(zpInput)) {
            DataType zt = in.type(zpInput);
            if (q != null && zt != q) throw error(node, "the zero point's type " + zt.onnxName() + " differs from the quantized tensor's " + q.onnxName());
            if (q == null && zt != DataType.UINT8 && zt != DataType.INT8) {
                throw error(node, "zero point of type " + zt.onnxName() + " is not supported: jdnn quantizes to uint8 and int8");
            }
            q = zt;
            if (!java.util.Arrays.equals(in.shape(zpInput), scale)) {
                throw error(node, "the zero point's shape " + format(in.shape(zpInput)) + " differs from the scale's " + format(scale));
            }
        }
        if (q == null) q = fallback;
        long blockSize = node.attributes().getInt("block_size", 0);
        if (blockSize != 0) throw error(node, "block quantization (block_size=" + blockSize + ", opset 21) is not supported by jdnn; only per-tensor and per-axis");
        long count = count(scale);
        if (scale.length == 0 || count == 1 && scale.length == 1) return new Params(1, 1, q);
        if (scale.length > 1) throw error(node, scaleName + " must be a scalar or 1-D (per-axis), got shape " + format(scale));
        if (opset < 13) throw error(node, "a 1-D " + scaleName + " (per-axis quantization) needs opset 13, the model has " + opset);
        int axis = axis(node.attributes().getInt("axis", 1), x.length, node);
        if (x[axis] != scale[0]) {
            throw error(node, scaleName + " has " + scale[0] + " values, expected " + x[axis] + " (x.shape[" + axis + "] of x " + format(x) + ")");
        }
        long inner = 1;
        for (int d = axis + 1; d < x.length; d++) inner *= x[d];
        return new Params(toInt(scale[0], node, scaleName + " length"), inner, q);
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "x");
        DataType xt = in.type(0);
        if (quantize) {
            if (xt != DataType.FLOAT && xt != DataType.INT32) throw error(node, "x of type " + xt.onnxName() + " is not supported: jdnn quantizes float32 and int32");
            long saturate = node.attributes().getInt("saturate", 1);
            if (saturate != 0 && saturate != 1) throw error(node, "saturate must be 0 or 1, got " + saturate);
            DataType out = outputDtype(node, in);
            Params p = params(node, in, 1, "y_scale", x, null, out, ctx.opset());
            int size = arraySize(x, node);
            return step(x, p.type(), v -> quantize(v, p, size, x, node));
        }
        if (xt != DataType.UINT8 && xt != DataType.INT8 && xt != DataType.INT32) {
            throw error(node, "x of type " + xt.onnxName() + " is not supported: jdnn dequantizes uint8, int8 and int32");
        }
        Params p = params(node, in, 1, "x_scale", x, xt, xt, ctx.opset());
        int size = arraySize(x, node);
        return step(x, v -> dequantize(v, p, size, x, node));
    }

    /**
     * QuantizeLinear's output type without a zero point: opset 21's {@code output_dtype} (0 or absent: uint8),
     * which must agree with the zero point's type when there is one.
     */
    private static DataType outputDtype(Node node, Inputs in) {
        long code = node.attributes().getInt("output_dtype", 0);
        if (code == 0) return DataType.UINT8;
        DataType t = code == (int) code ? DataType.fromOnnx((int) code) : null;
        if (t != DataType.UINT8 && t != DataType.INT8) {
            throw error(node, "output_dtype=" + code + " (" + Cast.onnxTypeName(code) + ") is not supported: jdnn quantizes to uint8 and int8");
        }
        if (in.has(2) && in.type(2) != t) throw error(node, "output_dtype " + t.onnxName() + " differs from y_zero_point's type " + in.type(2).onnxName());
        return t;
    }

    private static Value quantize(java.util.List<Value> v, Params p, int size, long[] shape, Node node) {
        float[] scale = p.scales(v, 1, node);
        long[] zp = p.zeroPoints(v, 2);
        long[] y = new long[size];
        if (v.get(0) instanceof Value.Longs l) {
            long[] x = l.view();
            for (int i = 0; i < size; i++) y[i] = quantizeInt32(x[i], scale[p.channel(i)], zp[p.channel(i)], p.type());
        } else {
            float[] x = floats(v, 0, node).toArray();
            for (int i = 0; i < size; i++) y[i] = quantize(x[i], scale[p.channel(i)], zp[p.channel(i)], p.type());
        }
        return new Value.Longs(p.type(), shape, y);
    }

    private static Value dequantize(java.util.List<Value> v, Params p, int size, long[] shape, Node node) {
        float[] scale = p.scales(v, 1, node);
        long[] zp = p.zeroPoints(v, 2);
        long[] x = longs(v, 0, node);
        float[] y = new float[size];
        for (int i = 0; i < size; i++) y[i] = dequantize(x[i], scale[p.channel(i)], zp[p.channel(i)]);
        return result(y, shape);
    }

    /** One float32 quantized: {@code saturate(rint(x / scale) + zp)} in float32 (NaN → 0). */
    static long quantize(float x, float scale, long zp, DataType type) {
        float q = (float) Math.rint(x / scale) + (float) zp;
        return saturate(q, type);
    }

    /** One int32 quantized: numpy divides an int32 array by a float32 scale in double. */
    static long quantizeInt32(long x, float scale, long zp, DataType type) {
        double q = Math.rint((double) x / scale) + zp;
        return saturate(q, type);
    }

    /** {@code q} (already integral, or ±∞, or NaN) clipped to the type's range; NaN gives 0. */
    static long saturate(double q, DataType type) {
        if (Double.isNaN(q)) return 0;
        long lo = type == DataType.UINT8 ? 0 : -128, hi = type == DataType.UINT8 ? 255 : 127;
        return q <= lo ? lo : q >= hi ? hi : (long) q;
    }

    /** One value dequantized: {@code (float(x) - float(zp)) * scale} in float32. */
    static float dequantize(long x, float scale, long zp) {
        return ((float) x - (float) zp) * scale;
    }
}
