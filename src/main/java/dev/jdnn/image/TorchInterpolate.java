package dev.jdnn.image;

/**
 * What torchvision's {@code Resize(antialias=False)} does (on tensors; PIL always antialiases):
 * {@code torch.nn.functional.interpolate(mode, align_corners=False)} without support scaling, in float32
 * as PyTorch's CPU kernel computes it. Bilinear samples the source at {@code (i + 0.5)·scale − 0.5}
 * (clamped at 0) from the two neighbours; bicubic uses Keys' cubic with a = −0.75 over four neighbours
 * whose indices are clamped to the image. Each output is {@code Σ_h w_h·(Σ_w w_w·x)}. For 8-bit images
 * torchvision converts to float, interpolates, clamps (bicubic) and rounds half to even.
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
                float src = scale * (i + 0.5f) - 0.5f;
                if (src < 0) src = 0;
                int i0 = (int) src;
                int offset = i0 < in - 1 ? 1 : 0;
                float l1 = src - i0, l0 = 1f - l1;
                index[2 * i] = i0;
                index[2 * i + 1] = i0 + offset;
                weight[2 * i] = l0;
                weight[2 * i + 1] = l1;
            }
            return new Axis(2, index, weight);
        }
        final float a = -0.75f;
        int[] index = new int[out * 4];
        float[] weight = new float[out * 4];
        for (int i = 0; i < out; i++) {
            float src = scale * (i + 0.5f) - 0.5f;
            int i0 = (int) Math.floor(src);
            float t = src - i0;
            weight[4 * i] = cubic2(t + 1f, a);
            weight[4 * i + 1] = cubic1(t, a);
            float t2 = 1f - t;
            weight[4 * i + 2] = cubic1(t2, a);
            weight[4 * i + 3] = cubic2(t2 + 1f, a);
            for (int j = 0; j < 4; j++) index[4 * i + j] = Math.clamp(i0 - 1 + j, 0, in - 1);
        }
        return new Axis(4, index, weight);
    }

    private static float cubic1(float x, float a) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    private static float cubic2(float x, float a) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }

    private static void check(Interpolation mode) {
        if (mode != Interpolation.BILINEAR && mode != Interpolation.BICUBIC) {
            throw new IllegalArgumentException("antialias=false is defined (by torchvision's tensor Resize) for BILINEAR and BICUBIC only, not "
                    + mode + "; PIL always antialiases " + mode);
        }
    }

    /** One C×H×W plane set resized; {@code get} reads source value (c, y, x). */
    private static float[] interpolate(float[] src, int channels, int inH, int inW, int outH, int outW, Interpolation mode, int threads) {
        Axis ay = axis(inH, outH, mode), ax = axis(inW, outW, mode);
        float[] out = new float[channels * outH * outW];
        Parallel.forRange(threads, channels * outH, (from, to) -> {
            for (int r = from; r < to; r++) {
                int c = r / outH, y = r % outH;
                int plane = c * inH * inW;
                for (int x = 0; x < outW; x++) {
                    float output = 0;
                    for (int i = 0; i < ay.taps; i++) {
                        int row = plane + ay.index[y * ay.taps + i] * inW;
                        float t = src[row + ax.index[x * ax.taps]] * ax.weight[x * ax.taps];
                        for (int j = 1; j < ax.taps; j++) t += src[row + ax.index[x * ax.taps + j]] * ax.weight[x * ax.taps + j];
                        if (i == 0) output = t * ay.weight[y * ay.taps];
                        else output += t * ay.weight[y * ay.taps + i];
                    }
                    out[(c * outH + y) * outW + x] = output;
                }
            }
        });
        return out;
    }

    static FloatImage resize(FloatImage src, int outW, int outH, Interpolation mode, int threads) {
        check(mode);
        float[] out = interpolate(src.data, src.channels(), src.height(), src.width(), outH, outW, mode, threads);
        return new FloatImage(src.channels(), outH, outW, out);
    }

    static RgbImage resize(RgbImage src, int outW, int outH, Interpolation mode, int threads) {
        check(mode);
        RgbImage.checkSize(outW, outH);
        int inW = src.width(), inH = src.height(), plane = inW * inH;
        float[] chw = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) chw[c * plane + i] = src.pixels[3 * i + c] & 0xFF;
        }
        float[] out = interpolate(chw, 3, inH, inW, outH, outW, mode, threads);
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
