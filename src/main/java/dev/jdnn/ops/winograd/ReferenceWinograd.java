package dev.jdnn.ops.winograd;

import dev.jdnn.Tensor;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The Winograd convolution in plain Java, tile by tile, in double with the exact rational matrices of
 * {@link WinogradTile}: {@code N×C×H×W (x) K×C×3×3 [+ bias] → N×K×OH×OW} (stride 1, dilation 1, groups 1,
 * any padding). It shares no code with {@link NativeWinograd}'s transforms (different layout, loops and
 * arithmetic), so the two check each other; both are checked against the direct convolution.
 */
public final class ReferenceWinograd {
    private ReferenceWinograd() {}

    public static void run(Conv2d conv, WinogradTile tile, Tensor x, Tensor y) {
        Conv2dParams p = conv.params();
        if (!NativeWinograd.supports(p)) throw new IllegalArgumentException("Winograd needs a 3×3, stride 1, dilation 1, groups 1 convolution, got " + p);
        long[] in = x.shape();
        long[] expected = p.outputShape(in);
        if (!Arrays.equals(expected, y.shape())) {
            throw new IllegalArgumentException("output must be " + Tensor.format(expected) + ", got " + Tensor.format(y.shape()));
        }
        int n = (int) in[0], c = (int) in[1], h = (int) in[2], w = (int) in[3];
        int k = p.outChannels(), oh = (int) expected[2], ow = (int) expected[3];
        int m = tile.m, a = tile.alpha;
        float[] weights = conv.weights();
        float[] bias = conv.hasBias() ? conv.bias() : null;
        // U[k][c] = G g Gᵀ, α×α each.
        double[][] u = new double[k * c][];
        for (int oc = 0; oc < k; oc++) for (int ic = 0; ic < c; ic++) u[oc * c + ic] = tile.transformKernel(weights, (oc * c + ic) * 9);
        MemorySegment src = x.segment(), dst = y.segment();
        double[] d = new double[a * a], v = new double[c * a * a], prod = new double[a * a], out = new double[m * m];
        for (int img = 0; img < n; img++) {
            for (int ty = 0; ty < oh; ty += m) {
                for (int tx = 0; tx < ow; tx += m) {
                    // V[c] = Bᵀ d B of the α×α input patch at (ty - padTop, tx - padLeft), zero outside.
                    for (int ic = 0; ic < c; ic++) {
                        for (int i = 0; i < a; i++) {
                            for (int j = 0; j < a; j++) {
                                int iy = ty - p.padTop() + i, ix = tx - p.padLeft() + j;
                                d[i * a + j] = iy < 0 || iy >= h || ix < 0 || ix >= w ? 0
                                        : src.getAtIndex(ValueLayout.JAVA_FLOAT, (((long) img * c + ic) * h + iy) * w + ix);
                            }
                        }
                        for (int i = 0; i < a; i++) {
                            for (int j = 0; j < a; j++) {
                                double s = 0;
                                for (int r = 0; r < a; r++) for (int q = 0; q < a; q++) s += tile.bt(i, r) * d[r * a + q] * tile.bt(j, q);
                                v[(ic * a + i) * a + j] = s;
                            }
                        }
                    }
                    for (int oc = 0; oc < k; oc++) {
                        Arrays.fill(prod, 0);
                        for (int ic = 0; ic < c; ic++) {
                            double[] uk = u[oc * c + ic];
                            for (int e = 0; e < a * a; e++) prod[e] += uk[e] * v[ic * a * a + e];
                        }
                        // Y = Aᵀ prod A, m×m; only the part inside the output is written.
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < m; j++) {
                                double s = 0;
                                for (int r = 0; r < a; r++) for (int q = 0; q < a; q++) s += tile.at(i, r) * prod[r * a + q] * tile.at(j, q);
                                out[i * m + j] = s;
                            }
                        }
                        for (int i = 0; i < m && ty + i < oh; i++) {
                            for (int j = 0; j < m && tx + j < ow; j++) {
                                double value = out[i * m + j] + (bias == null ? 0 : bias[oc]);
                                dst.setAtIndex(ValueLayout.JAVA_FLOAT, (((long) img * k + oc) * oh + ty + i) * ow + tx + j, (float) value);
                            }
                        }
                    }
                }
            }
        }
    }
}
