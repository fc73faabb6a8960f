package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.conv.Conv2dParams;
import java.util.List;

/**
 * ConvInteger and QLinearConv (opset 10+), 1-D and 2-D, with every Conv attribute (pads, auto_pad, strides,
 * dilations, group, kernel_shape) checked as {@link Conv} does:
 * <pre>
 *   acc[n,m,oh,ow] = Σ_{c,r,s} (x[n,c,ih,iw] - x_zp) · (w[m,c,r,s] - w_zp[m])          int32 (wraps as int32 does)
 *   ConvInteger(x, w, x_zp?, w_zp?)                          → acc                                     int32
 *   QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B?)
 *       y = saturate(rint((acc + B[m]) · (x_scale · w_scale[m] / y_scale) + y_zp))                    uint8 | int8
 * </pre>
 * x N×C×(L | H×W) and w M×C/g×(k | R×S) are uint8 or int8 (each its own; its zero point of the same type);
 * padding contributes 0 to acc (the padded input equals its zero point). x_zp, x_scale, y_scale, y_zp are
 * per tensor; w_zp and w_scale per tensor or per output channel (1-D of M); B is int32 [M]. The requantization
 * is the ONNX reference's: the multiplier in float32 ({@code x_scale · w_scale / y_scale}), the product with
 * the int32 accumulator and the zero point's addition in double, round half to even, saturation to y_zp's type.
 *
 * <p>Java only (plain loops); a QDQ model's convolutions (DequantizeLinear → Conv) run natively instead.
 */
public final class IntegerConv implements Op {
    private final boolean qlinear;

    private IntegerConv(boolean qlinear) {
        this.qlinear = qlinear;
    }

    static void register(Registry.Table t) {
        t.add("ConvInteger", 10, new IntegerConv(false));
        t.add("QLinearConv", 10, new IntegerConv(true));
    }

    // Input positions: ConvInteger (x, w, x_zp, w_zp); QLinearConv (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B).
    private static final int X_ZP = 2;
    private int w() { return qlinear ? 3 : 1; }
    private int wZp() { return qlinear ? 5 : 3; }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "x");
        long[] w = in.require(w(), node, "w");
        IntegerMatMul.requireQuantized(node, in, 0, "x");
        IntegerMatMul.requireQuantized(node, in, w(), "w");
        Conv.Geometry g = Conv.geometry(node, x, w);
        int m = toInt(w[0], node, "output channels");
        IntegerMatMul.zeroPoint(node, in, X_ZP, "x_zero_point", in.type(0), 1);
        IntegerMatMul.zeroPoint(node, in, wZp(), "w_zero_point", in.type(w()), m);
        if (!qlinear) {
            return step(g.out(), DataType.INT32, v -> new Value.Longs(DataType.INT32, g.out(), accumulate(node, g, v, false)));
        }
        IntegerMatMul.scale(node, in, 1, "x_scale", 1);
        IntegerMatMul.scale(node, in, 4, "w_scale", m);
        IntegerMatMul.scale(node, in, 6, "y_scale", 1);
        in.require(7, node, "y_zero_point");
        DataType yt = in.type(7);
        IntegerMatMul.zeroPoint(node, in, 7, "y_zero_point", yt, 1);
        if (in.has(8)) {
            if (in.type(8) != DataType.INT32) throw error(node, "B must be int32, got " + in.type(8).onnxName());
            if (in.shape(8).length != 1 || in.shape(8)[0] != m) throw error(node, "B " + format(in.shape(8)) + " must have " + m + " values (output channels)");
        }
        return step(g.out(), yt, v -> {
            long[] acc = accumulate(node, g, v, true);
            float[] multiplier = IntegerMatMul.multipliers(node, v, 1, 4, 6, m);
            long yzp = longs(v, 7, node)[0];
            int inner = acc.length / Math.toIntExact(g.out()[0] * m);
            long[] y = new long[acc.length];
            for (int i = 0; i < acc.length; i++) y[i] = IntegerMatMul.requantize(acc[i], multiplier[(i / inner) % m], yzp, yt);
            return new Value.Longs(yt, g.out(), y);
        });
    }

    /**
     * The int32 accumulators N×M×OH×OW (as longs holding int32 values) of the zero-point-shifted convolution,
     * plus B (QLinearConv, if given). Plain loops over the 2-D geometry (a 1-D conv has height 1).
     */
    private long[] accumulate(Node node, Conv.Geometry g, List<Value> v, boolean withBias) {
        Conv2dParams p = g.params();
        long[] x = longs(v, 0, node), w = longs(v, w(), node);
        int m = p.outChannels();
        long xzp = IntegerMatMul.zeroPoints(v, X_ZP, 1)[0];
        long[] wzp = IntegerMatMul.zeroPoints(v, wZp(), m);
        boolean perChannel = wzp.length == m && m > 1;
        long[] bias = withBias && v.size() > 8 && v.get(8) != null ? longs(v, 8, node) : null;
        int n = (int) g.in4()[0], c = p.inChannels(), h = (int) g.in4()[2], wid = (int) g.in4()[3];
        int oh = (int) g.out4()[2], ow = (int) g.out4()[3];
        int groups = p.groups(), cg = c / groups, mg = m / groups, kh = p.kernelH(), kw = p.kernelW();
        long[] acc = new long[arraySize(g.out4(), node)];
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < m; oc++) {
                int group = oc / mg;
                long wz = perChannel ? wzp[oc] : wzp[0];
                for (int y = 0; y < oh; y++) {
                    for (int xo = 0; xo < ow; xo++) {
                        int sum = bias != null ? (int) bias[oc] : 0;   // int arithmetic: wraps as an int32 accumulator does
                        for (int ic = 0; ic < cg; ic++) {
                            int cin = group * cg + ic;
                            for (int r = 0; r < kh; r++) {
                                int iy = y * p.strideH() - p.padTop() + r * p.dilationH();
                                if (iy < 0 || iy >= h) continue;
                                for (int s = 0; s < kw; s++) {
                                    int ix = xo * p.strideW() - p.padLeft() + s * p.dilationW();
                                    if (ix < 0 || ix >= wid) continue;
                                    long xv = x[((b * c + cin) * h + iy) * wid + ix] - xzp;
                                    long wv = w[((oc * cg + ic) * kh + r) * kw + s] - wz;
                                    sum += (int) (xv * wv);
                                }
                            }
                        }
                        acc[((b * m + oc) * oh + y) * ow + xo] = sum;
                    }
                }
            }
        }
        return acc;
    }
}
