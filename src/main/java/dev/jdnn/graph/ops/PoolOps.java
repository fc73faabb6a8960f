package dev.jdnn.graph.ops;

import static dev.jdnn.graph.ops.Ops.*;

import dev.jdnn.graph.Kernel;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.List;
import java.util.Map;

/**
 * MaxPool, AveragePool (1-D and 2-D; pads, strides, dilations for max, ceil_mode, count_include_pad),
 * GlobalAveragePool, GlobalMaxPool and LRN, in plain loops over N×C×H×W (a 1-D pool runs with H = 1).
 */
final class PoolOps {
    private PoolOps() {}

    static void register(Map<String, Kernel> k) {
        k.put("MaxPool", (node, shapes, constants, ctx) -> pool(node, shapes.get(0), true));
        k.put("AveragePool", (node, shapes, constants, ctx) -> pool(node, shapes.get(0), false));
        k.put("GlobalAveragePool", (node, shapes, constants, ctx) -> global(node, shapes.get(0), false));
        k.put("GlobalMaxPool", (node, shapes, constants, ctx) -> global(node, shapes.get(0), true));
        k.put("LRN", (node, shapes, constants, ctx) -> lrn(node, shapes.get(0)));
    }

    /** Pool geometry in 2-D: kernel, stride, dilation, pads (top, left, bottom, right), output size. */
    record Geometry(int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl, int pb, int pr, int oh, int ow) {}

    static Kernel.Step pool(Node node, long[] x, boolean max) {
        if (x.length != 3 && x.length != 4) throw error(node, "jdnn pools 1-D and 2-D inputs; got " + format(x));
        if (node.outputs().size() > 1 && !node.outputs().get(1).isEmpty()) throw error(node, "the Indices output is not supported");
        int spatial = x.length - 2;
        long[] kernel = node.attributes().getInts("kernel_shape", null);
        if (kernel == null || kernel.length != spatial) throw error(node, "kernel_shape must have " + spatial + " values");
        long[] strides = ConvOps.ints(node, "strides", spatial, 1);
        long[] dilations = ConvOps.ints(node, "dilations", spatial, 1);
        if (!max && (dilations[0] != 1 || dilations[spatial - 1] != 1)) throw error(node, "AveragePool dilations are not supported");
        long[] pads = ConvOps.pads(node, x, kernel, strides, dilations);
        boolean ceil = node.attributes().getInt("ceil_mode", 0) == 1;
        boolean includePad = node.attributes().getInt("count_include_pad", 0) == 1;
        if (node.attributes().getInt("storage_order", 0) != 0) throw error(node, "storage_order=1 is not supported");
        long h = spatial == 2 ? x[2] : 1, w = x[x.length - 1];
        Geometry g = spatial == 2
                ? geometry(node, h, w, kernel[0], kernel[1], strides[0], strides[1], dilations[0], dilations[1], pads[0], pads[1], pads[2], pads[3], ceil)
                : geometry(node, 1, w, 1, kernel[0], 1, strides[0], 1, dilations[0], 0, pads[0], 0, pads[1], ceil);
        long[] out = spatial == 2 ? new long[] {x[0], x[1], g.oh(), g.ow()} : new long[] {x[0], x[1], g.ow()};
        int planes = (int) (x[0] * x[1]);
        int ih = (int) h, iw = (int) w;
        return step(out, in -> {
            float[] src = floats(in, 0, node).toArray();
            float[] dst = new float[planes * g.oh() * g.ow()];
            for (int p = 0; p < planes; p++) {
                int base = p * ih * iw;
                for (int oy = 0; oy < g.oh(); oy++) {
                    for (int ox = 0; ox < g.ow(); ox++) {
                        int y0 = oy * g.sh() - g.pt(), x0 = ox * g.sw() - g.pl();
                        double acc = max ? Double.NEGATIVE_INFINITY : 0;
                        int valid = 0;
                        for (int ky = 0; ky < g.kh(); ky++) {
                            int yy = y0 + ky * g.dh();
                            if (yy < 0 || yy >= ih) continue;
                            for (int kx = 0; kx < g.kw(); kx++) {
                                int xx = x0 + kx * g.dw();
                                if (xx < 0 || xx >= iw) continue;
                                float v = src[base + yy * iw + xx];
                                if (max) acc = Math.max(acc, v); else acc += v;
                                valid++;
                            }
                        }
                        if (!max) {
                            // count_include_pad counts padding cells, but not the overhang that ceil_mode adds past the padding
                            int divisor = valid;
                            if (includePad) {
                                int yEnd = Math.min(y0 + g.kh(), ih + g.pb()), xEnd = Math.min(x0 + g.kw(), iw + g.pr());
                                divisor = (yEnd - y0) * (xEnd - x0);
                            }
                            acc = divisor == 0 ? 0 : acc / divisor;
                        }
                        dst[(p * g.oh() + oy) * g.ow() + ox] = (float) acc;
                    }
                }
            }
            return result(dst, out);
        });
    }

    static Geometry geometry(Node node, long h, long w, long kh, long kw, long sh, long sw, long dh, long dw,
                             long pt, long pl, long pb, long pr, boolean ceil) {
        long oh = outSize(node, "height", h, kh, sh, dh, pt, pb, ceil);
        long ow = outSize(node, "width", w, kw, sw, dw, pl, pr, ceil);
        return new Geometry((int) kh, (int) kw, (int) sh, (int) sw, (int) dh, (int) dw, (int) pt, (int) pl, (int) pb, (int) pr, (int) oh, (int) ow);
    }

    static long outSize(Node node, String axis, long size, long k, long s, long d, long pBegin, long pEnd, boolean ceil) {
        long extent = (k - 1) * d + 1;
        long span = size + pBegin + pEnd - extent;
        if (span < 0) throw error(node, "kernel " + axis + " " + k + " is larger than the padded input " + (size + pBegin + pEnd));
        long out = (ceil ? Math.ceilDiv(span, s) : Math.floorDiv(span, s)) + 1;
        // As PyTorch and ONNX Runtime: the last window must start inside the input or the begin padding.
        if (ceil && (out - 1) * s >= size + pBegin) out--;
        return out;
    }

    static Kernel.Step global(Node node, long[] x, boolean max) {
        if (x.length < 3) throw error(node, "input " + format(x) + " must be N×C×spatial...");
        long[] out = x.clone();
        for (int i = 2; i < out.length; i++) out[i] = 1;
        int planes = (int) (x[0] * x[1]);
        int spatial = (int) (count(x) / Math.max(1, planes));
        return step(out, in -> {
            float[] src = floats(in, 0, node).toArray();
            float[] dst = new float[planes];
            for (int p = 0; p < planes; p++) {
                double acc = max ? Double.NEGATIVE_INFINITY : 0;
                for (int i = 0; i < spatial; i++) {
                    float v = src[p * spatial + i];
                    acc = max ? Math.max(acc, v) : acc + v;
                }
                dst[p] = (float) (max ? acc : acc / spatial);
            }
            return result(dst, out);
        });
    }

    /** LRN across channels: {@code y = x / (bias + alpha/size · Σ x²)^beta} over [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]. */
    static Kernel.Step lrn(Node node, long[] x) {
        if (x.length < 3) throw error(node, "input " + format(x) + " must be N×C×spatial...");
        long size = node.attributes().getInt("size", -1);
        if (size < 1) throw error(node, "size must be given and >= 1");
        double alpha = node.attributes().getFloat("alpha", 1e-4f);
        double beta = node.attributes().getFloat("beta", 0.75f);
        double bias = node.attributes().getFloat("bias", 1f);
        int n = (int) x[0], c = (int) x[1];
        int spatial = (int) (count(x) / ((long) n * c));
        int before = (int) ((size - 1) / 2), after = (int) (size - 1 - before);
        return step(x, in -> {
            float[] src = floats(in, 0, node).toArray();
            float[] dst = new float[src.length];
            for (int b = 0; b < n; b++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < spatial; i++) {
                        double sum = 0;
                        for (int j = Math.max(0, ch - before); j <= Math.min(c - 1, ch + after); j++) {
                            double v = src[(b * c + j) * spatial + i];
                            sum += v * v;
                        }
                        int at = (b * c + ch) * spatial + i;
                        dst[at] = (float) (src[at] / Math.pow(bias + alpha / size * sum, beta));
                    }
                }
            }
            return result(dst, x);
        });
    }

}
