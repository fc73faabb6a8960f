package dev.jdnn.image;

/**
 * torchvision's {@code Pad(padding, fill, padding_mode)}: adds {@code left, top, right, bottom} pixels.
 * Modes as numpy's {@code np.pad} (which torchvision uses for PIL images): {@code CONSTANT} (the fill
 * value; 0–255 for 8-bit images, the float itself for float images), {@code EDGE} (repeat the border),
 * {@code REFLECT} (mirror without repeating the border: … 2 1 | 0 1 2 …) and {@code SYMMETRIC} (mirror
 * with it: … 1 0 | 0 1 2 …).
 */
public record Pad(int left, int top, int right, int bottom, Mode mode, float fill) implements Transform {
    public enum Mode { CONSTANT, EDGE, REFLECT, SYMMETRIC }

    public Pad {
        if (left < 0 || top < 0 || right < 0 || bottom < 0) {
            throw new IllegalArgumentException("Pad: padding must be >= 0, got left " + left + ", top " + top + ", right " + right + ", bottom " + bottom);
        }
        if (mode == null) throw new IllegalArgumentException("Pad: mode must not be null");
    }

    /** The same padding on all four sides, zero fill. */
    public Pad(int padding) {
        this(padding, padding, padding, padding, Mode.CONSTANT, 0);
    }

    /** {@code horizontal} on the left and right, {@code vertical} on top and bottom, zero fill. */
    public Pad(int horizontal, int vertical) {
        this(horizontal, vertical, horizontal, vertical, Mode.CONSTANT, 0);
    }

    public Pad withMode(Mode m) {
        return new Pad(left, top, right, bottom, m, fill);
    }

    public Pad withFill(float f) {
        return new Pad(left, top, right, bottom, mode, f);
    }

    @Override
    public ImageData apply(ImageData image) {
        int w = image.width(), h = image.height();
        int ow = w + left + right, oh = h + top + bottom;
        int[] xs = sourceIndices(w, left, ow), ys = sourceIndices(h, top, oh);
        if (image instanceof RgbImage rgb) {
            if (mode == Mode.CONSTANT && (fill < 0 || fill > 255 || fill != Math.rint(fill))) {
                throw new IllegalArgumentException("Pad: the fill of an 8-bit image must be an integer 0-255, got " + fill);
            }
            RgbImage.checkSize(ow, oh);
            byte[] out = new byte[ow * oh * 3];
            byte f = (byte) (int) fill;
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    int o = (y * ow + x) * 3;
                    if (ys[y] < 0 || xs[x] < 0) {
                        out[o] = out[o + 1] = out[o + 2] = f;
                    } else {
                        System.arraycopy(rgb.pixels, (ys[y] * w + xs[x]) * 3, out, o, 3);
                    }
                }
            }
            return new RgbImage(ow, oh, out);
        }
        FloatImage in = (FloatImage) image;
        int c = in.channels();
        float[] out = new float[Math.multiplyExact(c, Math.multiplyExact(ow, oh))];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    out[(ch * oh + y) * ow + x] = ys[y] < 0 || xs[x] < 0 ? fill : in.data[(ch * h + ys[y]) * w + xs[x]];
                }
            }
        }
        return new FloatImage(c, oh, ow, out);
    }

    /** For each output index along an axis of length n padded by {@code before}: the source index, or -1 for the fill. */
    private int[] sourceIndices(int n, int before, int outLength) {
        int[] src = new int[outLength];
        for (int o = 0; o < outLength; o++) {
            int i = o - before;
            src[o] = switch (mode) {
                case CONSTANT -> i >= 0 && i < n ? i : -1;
                case EDGE -> Math.clamp(i, 0, n - 1);
                case REFLECT -> n == 1 ? 0 : mirror(i, 2 * (n - 1), n, false);
                case SYMMETRIC -> mirror(i, 2 * n, n, true);
            };
        }
        return src;
    }

    // numpy's reflect/symmetric padding repeats the mirrored image periodically when the pad exceeds the size.
    private static int mirror(int i, int period, int n, boolean symmetric) {
        int m = Math.floorMod(i, period);
        if (m < n) return m;
        return symmetric ? period - 1 - m : period - m;
    }
}
