package dev.jdnn.image;

/**
 * torchvision's {@code Resize(size, interpolation, max_size, antialias)} on an image.
 *
 * <p><b>Size.</b> One number resizes the shorter edge to it and the longer to
 * {@code int(size · long / short)} (truncated, as torchvision computes it), then, with a max size, shrinks
 * both so the longer edge is at most that. Two numbers are the exact {@code height × width}.
 *
 * <p><b>Antialias on</b> (the default, and the only behaviour of torchvision on PIL images): PIL's
 * {@code Image.resize} reproduced bit for bit on 8-bit images — separable filters stretched by the
 * scale when shrinking, 22-bit fixed-point weights, each pass rounded to 8 bits (see
 * {@link PilResampler}); float images are resampled as PIL resamples its 32-bit float images (double
 * accumulation), which is also what {@code torch.nn.functional.interpolate(antialias=True)} computes.
 * <b>Antialias off</b>: torchvision's tensor path, {@code interpolate(mode, align_corners=False)}
 * without support scaling, defined for {@code BILINEAR} and {@code BICUBIC} (a = −0.75 there); 8-bit
 * images go through float and are rounded as torchvision does. {@code NEAREST} is PIL's nearest either way.
 */
public record Resize(int height, int width, int size, Interpolation interpolation, int maxSize, boolean antialias, int threads)
        implements Transform {
    public Resize {
        if (interpolation == null) throw new IllegalArgumentException("Resize: interpolation must not be null");
        if (size <= 0 && (height <= 0 || width <= 0)) {
            throw new IllegalArgumentException("Resize: size must be positive, got " + (size != 0 ? size : height + "×" + width));
        }
        if (maxSize != 0 && (size <= 0 || maxSize <= size)) {
            throw new IllegalArgumentException("Resize: max_size (" + maxSize + ") needs a single size smaller than it (size " + size + ")");
        }
        if (threads < 1) throw new IllegalArgumentException("Resize: threads must be >= 1, got " + threads);
        if (!antialias && interpolation != Interpolation.NEAREST && interpolation != Interpolation.BILINEAR
                && interpolation != Interpolation.BICUBIC) {
            throw new IllegalArgumentException("Resize: antialias=false is defined (by torchvision's tensor Resize) for BILINEAR and BICUBIC only, not "
                    + interpolation + " (PIL always antialiases it)");
        }
    }

    /** Shorter edge to {@code size}, bilinear, antialiased (torchvision's defaults). */
    public Resize(int size) {
        this(0, 0, size, Interpolation.BILINEAR, 0, true, 1);
    }

    /** Shorter edge to {@code size} with the given filter, antialiased. */
    public Resize(int size, Interpolation interpolation) {
        this(0, 0, size, interpolation, 0, true, 1);
    }

    /** Exactly {@code height × width} with the given filter, antialiased. */
    public Resize(int height, int width, Interpolation interpolation) {
        this(height, width, 0, interpolation, 0, true, 1);
    }

    public Resize withAntialias(boolean on) {
        return new Resize(height, width, size, interpolation, maxSize, on, threads);
    }

    public Resize withMaxSize(int max) {
        return new Resize(height, width, size, interpolation, max, antialias, threads);
    }

    @Override
    public Resize withThreads(int n) {
        return new Resize(height, width, size, interpolation, maxSize, antialias, n);
    }

    /** The output {height, width} for an image of {@code inHeight × inWidth} (torchvision's _compute_resized_output_size). */
    public int[] outputSize(int inHeight, int inWidth) {
        if (size <= 0) return new int[] {height, width};
        boolean wide = inWidth > inHeight;
        int shortSide = wide ? inHeight : inWidth, longSide = wide ? inWidth : inHeight;
        long newShort = size, newLong = (long) ((double) ((long) size * longSide) / shortSide);
        if (maxSize != 0 && newLong > maxSize) {
            newShort = (long) ((double) ((long) maxSize * newShort) / newLong);
            newLong = maxSize;
        }
        if (newShort < 1 || newLong > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Resize(" + size + ") of a " + inWidth + "×" + inHeight + " image gives "
                    + (wide ? newLong + "×" + newShort : newShort + "×" + newLong) + ", not a valid image size");
        }
        return wide ? new int[] {(int) newShort, (int) newLong} : new int[] {(int) newLong, (int) newShort};
    }

    @Override
    public ImageData apply(ImageData image) {
        return switch (image) {
            case RgbImage rgb -> apply(rgb);
            case FloatImage f -> apply(f);
        };
    }

    public RgbImage apply(RgbImage image) {
        int[] hw = outputSize(image.height(), image.width());
        if (!antialias && interpolation != Interpolation.NEAREST) return TorchInterpolate.resize(image, hw[1], hw[0], interpolation, threads);
        return PilResampler.resize(image, hw[1], hw[0], interpolation, threads);
    }

    public FloatImage apply(FloatImage image) {
        int[] hw = outputSize(image.height(), image.width());
        if (!antialias && interpolation != Interpolation.NEAREST) return TorchInterpolate.resize(image, hw[1], hw[0], interpolation, threads);
        return PilResampler.resize(image, hw[1], hw[0], interpolation, threads);
    }
}
