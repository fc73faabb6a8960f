package dev.jdnn.image;

/**
 * torchvision's {@code Normalize(mean, std)}: per channel {@code (x − mean[c]) / std[c]} in float, on a
 * {@link FloatImage} (after {@link ToTensor}).
 */
public record Normalize(float[] mean, float[] std) implements Transform {
    /** ImageNet's channel means and standard deviations, as torchvision's classification models expect. */
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    public Normalize {
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("Normalize needs as many means as stds, at least one; got " + mean.length + " and " + std.length);
        }
        for (float s : std) {
            if (!(s != 0) || !Float.isFinite(s)) throw new IllegalArgumentException("Normalize: std must be finite and non-zero, got " + s);
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** ImageNet normalisation. */
    public static Normalize imagenet() {
        return new Normalize(IMAGENET_MEAN, IMAGENET_STD);
    }

    @Override
    public FloatImage apply(ImageData image) {
        if (!(image instanceof FloatImage f)) {
            throw new IllegalArgumentException("Normalize takes a float image (apply ToTensor first), got " + image);
        }
        if (f.channels() != mean.length) {
            throw new IllegalArgumentException("Normalize has " + mean.length + " channel means, the image has " + f.channels() + " channels");
        }
        int plane = f.width() * f.height();
        float[] out = new float[f.data.length];
        for (int c = 0; c < f.channels(); c++) {
            float m = mean[c], s = std[c];
            for (int i = c * plane, end = i + plane; i < end; i++) out[i] = (f.data[i] - m) / s;
        }
        return new FloatImage(f.channels(), f.height(), f.width(), out);
    }
}
