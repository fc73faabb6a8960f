package dev.jdnn.image;

/**
 * What torchvision's {@code Resize(antialias=False)} does (on tensors; PIL always antialiases):
 * {@code torch.nn.functional.interpolate(mode, align_corners=False)} without scale factors, in float32,
 * bit for bit as PyTorch 1.13's CPU kernels compute it on an x86-64 CPU with AVX2 and FMA (the kernel
 * torch dispatches to there; with {@code ATEN_CPU_CAPABILITY=default} torch's float results differ in the
 * last bit where its compiler did not fuse a multiply-add). Found by probing torch with impulse images and
 * random data ({@code src/test/python/gen_image_fixtures.py} writes the fixtures the tests compare with):
 * <ul>
 * <li>Source position {@code s = scale·(i + 0.5) − 0.5} in double, with {@code scale = (float) in / out}.
 * Bilinear: {@code s} clamped at 0, neighbours {@code ⌊s⌋} and the next one (the last index repeats),
 * {@code λ1 = (float) (s − ⌊s⌋)}, {@code λ0 = 1 − λ1} in float; an unchanged axis copies. Bicubic: Keys'
 * cubic with a = −0.75 at {@code t = (float) (s − i0)} where {@code i0 = ⌊(float) s⌋}, over four
 * neighbours whose indices are clamped to the image; torch's compiler fused some of the polynomial's
 * multiply-adds, so {@link #cubicNear} and {@link #cubicFar} do too.</li>
 * <li>Pixel-interleaved input (torch's channels-last kernel, bilinear only): torchvision's
 * {@code pil_to_tensor} gives uint8 tensors in that layout, as does a one-channel or 1×1 float tensor.
 * Each output is the four products {@code x·(float) (λh·λw)} summed in double, rounded to float once.</li>
 * <li>Otherwise (torch's generic kernel, C×H×W): along width, then along height, {@code Σ x_k·w_k} as
 * {@code fma(x0, w0, x1·w1)} and then {@code fma(x_k, w_k, sum)} for the further bicubic taps.</li>
 * </ul>
 * For 8-bit images torchvision then clamps (bicubic) and rounds half to even.
 */
final class TorchInterpolate {
    private TorchInterpolate() {}

    /** Per output index: {@code taps} source indices and float weights. */
    private record Axis(int taps, int[] index, float[] weight) {}

    private static Axis axis(int in, int out, Interpolation mode) {
        float scale = (float) in / out;
        if (mode == Interpolation.BILINEAR) {
            int[] index = new int[out * 2];
            float[] weight = new float[out * 2];
            for (int i = 0; i < out; i++) {
                int i0 = i, i1 = i;
                float l1 = 0f;
                if (in != out) {
                    double src = Math.max(0, sourcePosition(scale, i));
                    i0 = (int) src;
                    i1 = i0 < in - 1 ? i0 + 1 : i0;
                    l1 = (float) (src - i0);
                }
                index[2 * i] = i0;
                index[2 * i + 1] = i1;
                weight[2 * i] = 1f - l1;
                weight[2 * i + 1] = l1;
            }
            return new Axis(2, index, weight);
        }
        int[] index = new int[out * 4];
        float[] weight = new float[out * 4];
        for (int i = 0; i < out; i++) {
            double src = sourcePosition(scale, i);
            int i0 = (int) Math.floor((float) src); // torch floors the float (floorf), so t can be just below 0
            float t = (float) (src - i0), t2 = 1f - t;
            weight[4 * i] = cubicFar(t + 1f);
            weight[4 * i + 1] = cubicNear(t);
            weight[4 * i + 2] = cubicNear(t2);
            weight[4 * i + 3] = cubicFar(t2 + 1f);
            for (int j = 0; j < 4; j++) index[4 * i + j] = Math.clamp(i0 - 1 + j, 0, in - 1);
        }
        return new Axis(4, index, weight);
    }

    /** {@code scale·(i + 0.5) − 0.5} in double: the product is exact, so fused or not gives the same. */
    private static double sourcePosition(float scale, int i) {
        return scale * (i + 0.5) - 0.5;
    }

    /** Keys' cubic for |x| ≤ 1, a = −0.75: {@code ((a + 2)·x − (a + 3))·x·x + 1}, first step fused as in torch. */
    private static float cubicNear(float x) {
        return Math.fma(1.25f, x, -2.25f) * x * x + 1f;
    }

    /** Keys' cubic for 1 ≤ |x| ≤ 2, a = −0.75: {@code ((a·x − 5a)·x + 8a)·x − 4a}, first two steps fused as in torch. */
    private static float cubicFar(float x) {
        return Math.fma(Math.fma(-0.75f, x, 3.75f), x, -6f) * x + 3f;
    }

    private static void check(Interpolation mode) {
        if (mode != Interpolation.BILINEAR && mode != Interpolation.BICUBIC) {
            throw new IllegalArgumentException("antialias=false is defined (by torchvision's tensor Resize) for BILINEAR and BICUBIC only, not "
                    + mode + "; PIL always antialiases " + mode);
        }
    }

    /**
     * C×H×W planes resized. {@code channelsLast}: the source tensor torch would see is pixel-interleaved,
     * which for bilinear selects its channels-last kernel (it sums in double; bicubic has no such kernel).
     */
    private static float[] interpolate(float[] src, int channels, int inH, int inW, int outH, int outW, Interpolation mode,
            boolean channelsLast, int threads) {
        Axis ay = axis(inH, outH, mode), ax = axis(inW, outW, mode);
        boolean sumInDouble = channelsLast && mode == Interpolation.BILINEAR;
        float[] out = new float[channels * outH * outW];
        Parallel.forRange(threads, channels * outH, (from, to) -> {
            for (int r = from; r < to; r++) {
                int c = r / outH, y = r % outH, o = (c * outH + y) * outW;
                int plane = c * inH * inW, k = y * ay.taps;
                int row0 = plane + ay.index[k] * inW, row1 = plane + ay.index[k + 1] * inW;
                if (sumInDouble) {
                    float h0 = ay.weight[k], h1 = ay.weight[k + 1];
                    for (int x = 0; x < outW; x++) {
                        int x0 = ax.index[2 * x], x1 = ax.index[2 * x + 1];
                        float w0 = ax.weight[2 * x], w1 = ax.weight[2 * x + 1];
                        double sum = src[row0 + x0] * (double) (h0 * w0) + src[row0 + x1] * (double) (h0 * w1);
                        sum += src[row1 + x0] * (double) (h1 * w0);
                        sum += src[row1 + x1] * (double) (h1 * w1);
                        out[o + x] = (float) sum;
                    }
                    continue;
                }
                for (int x = 0; x < outW; x++) {
                    // the same combination along height as along width (weightedSum), over the width sums
                    float sum = Math.fma(weightedSum(src, row0, ax, x), ay.weight[k], weightedSum(src, row1, ax, x) * ay.weight[k + 1]);
                    for (int i = 2; i < ay.taps; i++) sum = Math.fma(weightedSum(src, plane + ay.index[k + i] * inW, ax, x), ay.weight[k + i], sum);
                    out[o + x] = sum;
                }
            }
        });
        return out;
    }

    /** Along width at output column {@code x}: {@code fma(x0, w0, x1·w1)}, then {@code fma(x_j, w_j, sum)}. */
    private static float weightedSum(float[] src, int row, Axis ax, int x) {
        int k = x * ax.taps;
        float sum = Math.fma(src[row + ax.index[k]], ax.weight[k], src[row + ax.index[k + 1]] * ax.weight[k + 1]);
        for (int j = 2; j < ax.taps; j++) sum = Math.fma(src[row + ax.index[k + j]], ax.weight[k + j], sum);
        return sum;
    }

    static FloatImage resize(FloatImage src, int outW, int outH, Interpolation mode, int threads) {
        check(mode);
        // A contiguous 1×C×H×W tensor is also channels-last contiguous when C = 1 or H = W = 1, and torch then takes that kernel.
        boolean channelsLast = src.channels() == 1 || src.height() * src.width() == 1;
        float[] out = interpolate(src.data, src.channels(), src.height(), src.width(), outH, outW, mode, channelsLast, threads);
        return new FloatImage(src.channels(), outH, outW, out);
    }

    /** As torchvision on {@code pil_to_tensor(image)}: uint8, pixel-interleaved (channels-last), 3 channels. */
    static RgbImage resize(RgbImage src, int outW, int outH, Interpolation mode, int threads) {
        check(mode);
        RgbImage.checkSize(outW, outH);
        int inW = src.width(), inH = src.height(), plane = inW * inH;
        float[] chw = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) chw[c * plane + i] = src.pixels[3 * i + c] & 0xFF;
        }
        float[] out = interpolate(chw, 3, inH, inW, outH, outW, mode, true, threads);
        int outPlane = outW * outH;
        byte[] px = new byte[3 * outPlane];
        for (int i = 0; i < outPlane; i++) {
            for (int c = 0; c < 3; c++) {
                float v = out[c * outPlane + i];
                if (mode == Interpolation.BICUBIC) v = Math.clamp(v, 0f, 255f);
                px[3 * i + c] = (byte) (int) Math.rint(v);
            }
        }
        return new RgbImage(outW, outH, px);
    }
}
