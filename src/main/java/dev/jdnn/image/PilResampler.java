package dev.jdnn.image;

/**
 * PIL's {@code Image.resize}, written from its algorithm: a separable convolution, horizontal pass first
 * (into an intermediate image of the source rows the vertical pass needs), then vertical.
 *
 * <p>For output pixel {@code i} of an axis scaled by {@code scale = in / out}, the kernel is centred at
 * {@code (i + 0.5)·scale} in source coordinates; when shrinking ({@code scale > 1}) the kernel is stretched
 * by {@code scale} (its support grows, which is the antialiasing), the taps are the source pixels whose
 * centres fall in {@code [centre − support, centre + support)} clipped to the image, and the weights are
 * normalised to sum to 1. For 8-bit images each weight becomes a 22-bit fixed-point integer
 * (rounded half away from zero), the sum starts at ½ (2^21) and the result is clipped to 0–255 and
 * shifted down, so every pass rounds to 8 bits; float images accumulate in double and store float.
 * NEAREST is not a filter in PIL: it is an affine scaling that picks {@code floor((i + 0.5)·scale)},
 * accumulated in double as PIL steps along the axis.
 */
final class PilResampler {
    static final int PRECISION_BITS = 32 - 8 - 2;

    private PilResampler() {}

    /** One axis' taps: output i reads {@code count[i]} source pixels from {@code first[i]} with weights {@code weights[i·taps ..]}. */
    record Coefficients(int taps, int[] first, int[] count, double[] weights) {
        /** The weights as PIL's 8-bit path stores them: ×2^22, rounded half away from zero. */
        int[] fixedPoint() {
            int[] k = new int[weights.length];
            for (int i = 0; i < k.length; i++) {
                double w = weights[i] * (1 << PRECISION_BITS);
                k[i] = (int) (w < 0 ? w - 0.5 : w + 0.5);
            }
            return k;
        }
    }

    /** The filter taps resizing an axis of {@code in} pixels to {@code out} (PIL's precompute_coeffs over the whole axis). */
    static Coefficients coefficients(int in, int out, Interpolation filter) {
        double scale = (double) in / out;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support() * filterScale;
        int taps = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[out], count = new int[out];
        double[] weights = new double[out * taps];
        double ss = 1.0 / filterScale;
        for (int i = 0; i < out; i++) {
            double center = (i + 0.5) * scale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), in) - xmin;
            double sum = 0;
            int base = i * taps;
            for (int x = 0; x < xmax; x++) {
                double w = filter.kernel((x + xmin - center + 0.5) * ss);
                weights[base + x] = w;
                sum += w;
            }
            if (sum != 0) {
                for (int x = 0; x < xmax; x++) weights[base + x] /= sum;
            }
            first[i] = xmin;
            count[i] = Math.max(xmax, 0);
        }
        return new Coefficients(taps, first, count, weights);
    }

    // ---- 8-bit, H×W×3 interleaved ----

    static RgbImage resize(RgbImage src, int outW, int outH, Interpolation filter, int threads) {
        RgbImage.checkSize(outW, outH);
        int inW = src.width(), inH = src.height();
        if (outW == inW && outH == inH) return src;
        if (filter == Interpolation.NEAREST) return nearest(src, outW, outH);
        Coefficients horizontal = coefficients(inW, outW, filter);
        Coefficients vertical = coefficients(inH, outH, filter);
        byte[] pixels = src.pixels;
        int rows = inH, rowFirst = 0;
        if (outW != inW) {
            // Only the source rows some output row reads go through the horizontal pass.
            rowFirst = vertical.first[0];
            int rowLast = vertical.first[outH - 1] + vertical.count[outH - 1];
            if (outH == inH) {
                rowFirst = 0;
                rowLast = inH;
            }
            rows = rowLast - rowFirst;
            pixels = horizontal8(pixels, inW, rowFirst, rows, outW, horizontal, threads);
        }
        if (outH != inH) {
            int width = outW;
            pixels = vertical8(pixels, width, rowFirst, outH, vertical, threads);
        }
        return new RgbImage(outW, outH, pixels);
    }

    private static byte[] horizontal8(byte[] in, int inW, int rowFirst, int rows, int outW, Coefficients c, int threads) {
        byte[] out = new byte[rows * outW * 3];
        int[] k = c.fixedPoint();
        int taps = c.taps, half = 1 << (PRECISION_BITS - 1);
        int[] first = c.first, count = c.count;
        Parallel.forRange(threads, rows, (from, to) -> {
            for (int y = from; y < to; y++) {
                int inRow = (y + rowFirst) * inW * 3, outPos = y * outW * 3;
                for (int x = 0; x < outW; x++) {
                    int r = half, g = half, b = half;
                    int p = inRow + first[x] * 3, kb = x * taps;
                    for (int t = 0, n = count[x]; t < n; t++, p += 3) {
                        int w = k[kb + t];
                        r += (in[p] & 0xFF) * w;
                        g += (in[p + 1] & 0xFF) * w;
                        b += (in[p + 2] & 0xFF) * w;
                    }
                    out[outPos++] = clip8(r);
                    out[outPos++] = clip8(g);
                    out[outPos++] = clip8(b);
                }
            }
        });
        return out;
    }

    /** {@code in} holds the source rows from {@code rowFirst} on (all rows when the horizontal pass was skipped). */
    private static byte[] vertical8(byte[] in, int width, int rowFirst, int outH, Coefficients c, int threads) {
        int rowLen = width * 3;
        byte[] out = new byte[outH * rowLen];
        int[] k = c.fixedPoint();
        int taps = c.taps, half = 1 << (PRECISION_BITS - 1);
        Parallel.forRange(threads, outH, (from, to) -> {
            int[] acc = new int[rowLen];
            for (int y = from; y < to; y++) {
                java.util.Arrays.fill(acc, half);
                int kb = y * taps, row = (c.first[y] - rowFirst) * rowLen;
                // Row-at-a-time accumulation: each tap streams one contiguous source row.
                for (int t = 0, n = c.count[y]; t < n; t++, row += rowLen) {
                    int w = k[kb + t];
                    for (int j = 0; j < rowLen; j++) acc[j] += (in[row + j] & 0xFF) * w;
                }
                int o = y * rowLen;
                for (int j = 0; j < rowLen; j++) out[o + j] = clip8(acc[j]);
            }
        });
        return out;
    }

    private static byte clip8(int v) {
        if (v >= 1 << (PRECISION_BITS + 8)) return (byte) 255;
        if (v <= 0) return 0;
        return (byte) (v >> PRECISION_BITS);
    }

    /** Source index for each output index, as PIL's affine NEAREST scaling steps along the axis. */
    static int[] nearestIndices(int in, int out) {
        double step = (double) in / out;
        double pos = step * 0.5;
        int[] idx = new int[out];
        for (int i = 0; i < out; i++) {
            idx[i] = Math.min(pos < 0 ? 0 : (int) pos, in - 1);
            pos += step;
        }
        return idx;
    }

    private static RgbImage nearest(RgbImage src, int outW, int outH) {
        int[] xs = nearestIndices(src.width(), outW), ys = nearestIndices(src.height(), outH);
        byte[] out = new byte[outW * outH * 3];
        int inW = src.width();
        for (int y = 0; y < outH; y++) {
            int inRow = ys[y] * inW;
            for (int x = 0, o = y * outW * 3; x < outW; x++, o += 3) System.arraycopy(src.pixels, (inRow + xs[x]) * 3, out, o, 3);
        }
        return new RgbImage(outW, outH, out);
    }

    // ---- float (PIL mode "F"), C×H×W planar ----

    static FloatImage resize(FloatImage src, int outW, int outH, Interpolation filter, int threads) {
        int inW = src.width(), inH = src.height(), channels = src.channels();
        if (outW == inW && outH == inH) return src;
        float[] out = new float[Math.multiplyExact(channels, Math.multiplyExact(outW, outH))];
        if (filter == Interpolation.NEAREST) {
            int[] xs = nearestIndices(inW, outW), ys = nearestIndices(inH, outH);
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < outH; y++) {
                    for (int x = 0; x < outW; x++) out[(c * outH + y) * outW + x] = src.data[(c * inH + ys[y]) * inW + xs[x]];
                }
            }
            return new FloatImage(channels, outH, outW, out);
        }
        Coefficients horizontal = coefficients(inW, outW, filter), vertical = coefficients(inH, outH, filter);
        for (int c = 0; c < channels; c++) {
            float[] plane = java.util.Arrays.copyOfRange(src.data, c * inH * inW, (c + 1) * inH * inW);
            int rowFirst = 0;
            if (outW != inW) {
                int rowLast = inH;
                if (outH != inH) {
                    rowFirst = vertical.first[0];
                    rowLast = vertical.first[outH - 1] + vertical.count[outH - 1];
                }
                plane = horizontalFloat(plane, inW, rowFirst, rowLast - rowFirst, outW, horizontal, threads);
            }
            if (outH != inH) plane = verticalFloat(plane, outW, rowFirst, outH, vertical, threads);
            System.arraycopy(plane, 0, out, c * outH * outW, outH * outW);
        }
        return new FloatImage(channels, outH, outW, out);
    }

    private static float[] horizontalFloat(float[] in, int inW, int rowFirst, int rows, int outW, Coefficients c, int threads) {
        float[] out = new float[rows * outW];
        Parallel.forRange(threads, rows, (from, to) -> {
            for (int y = from; y < to; y++) {
                int inRow = (y + rowFirst) * inW;
                for (int x = 0; x < outW; x++) {
                    double s = 0;
                    int p = inRow + c.first[x], kb = x * c.taps;
                    for (int t = 0, n = c.count[x]; t < n; t++) s += in[p + t] * c.weights[kb + t];
                    out[y * outW + x] = (float) s;
                }
            }
        });
        return out;
    }

    private static float[] verticalFloat(float[] in, int width, int rowFirst, int outH, Coefficients c, int threads) {
        float[] out = new float[outH * width];
        Parallel.forRange(threads, outH, (from, to) -> {
            double[] acc = new double[width];
            for (int y = from; y < to; y++) {
                java.util.Arrays.fill(acc, 0);
                int kb = y * c.taps, row = (c.first[y] - rowFirst) * width;
                for (int t = 0, n = c.count[y]; t < n; t++, row += width) {
                    double w = c.weights[kb + t];
                    for (int j = 0; j < width; j++) acc[j] += in[row + j] * w;
                }
                for (int j = 0; j < width; j++) out[y * width + j] = (float) acc[j];
            }
        });
        return out;
    }
}
