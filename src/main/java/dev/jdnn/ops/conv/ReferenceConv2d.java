package dev.jdnn.ops.conv;

import dev.jdnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Plain-loop twin of {@link NativeConv2d}: {@code N×C×H×W (x) K×C/g×R×S → N×K×OH×OW}, accumulating
 * each output in double. Positions that fall in the padding contribute zero.
 */
public final class ReferenceConv2d {
    private ReferenceConv2d() {}

    public static void run(Conv2d conv, Tensor x, Tensor y) {
        Conv2dParams p = conv.params();
        long[] in = x.shape();
        long[] expected = p.outputShape(in);
        if (!Arrays.equals(expected, y.shape())) {
            throw new IllegalArgumentException("output must be " + Tensor.format(expected) + ", got " + Tensor.format(y.shape()));
        }
        MemorySegment src = x.segment();
        MemorySegment dst = y.segment();
        float[] w = conv.weightsView();
        float[] b = conv.biasView();
        int n = (int) in[0], c = (int) in[1], h = (int) in[2], wd = (int) in[3];
        int k = p.outChannels(), oh = (int) expected[2], ow = (int) expected[3];
        int cg = c / p.groups(), kg = k / p.groups();
        int r = p.kernelH(), s = p.kernelW();
        for (int img = 0; img < n; img++) {
            for (int oc = 0; oc < k; oc++) {
                int group = oc / kg;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double acc = b == null ? 0 : b[oc];
                        for (int icg = 0; icg < cg; icg++) {
                            int ic = group * cg + icg;
                            for (int ky = 0; ky < r; ky++) {
                                int iy = oy * p.strideH() - p.padTop() + ky * p.dilationH();
                                if (iy < 0 || iy >= h) continue;
                                for (int kx = 0; kx < s; kx++) {
                                    int ix = ox * p.strideW() - p.padLeft() + kx * p.dilationW();
                                    if (ix < 0 || ix >= wd) continue;
                                    float v = src.getAtIndex(ValueLayout.JAVA_FLOAT, (((long) img * c + ic) * h + iy) * wd + ix);
                                    acc += (double) v * w[((oc * cg + icg) * r + ky) * s + kx];
                                }
                            }
                        }
                        dst.setAtIndex(ValueLayout.JAVA_FLOAT, (((long) img * k + oc) * oh + oy) * ow + ox, (float) acc);
                    }
                }
            }
        }
    }
}
