package dev.jdnn.image;

/**
 * The resampling filters of torchvision's {@code InterpolationMode}, each as PIL's {@code Image.resize}
 * defines it (the kernel and its support in source pixels before support scaling).
 */
public enum Interpolation {
    /** PIL's NEAREST: the source pixel whose cell holds the output pixel's centre; no filtering. */
    NEAREST(0),
    /** A 1-pixel box (PIL's BOX): on downsampling, the average of the source cells the output cell covers. */
    BOX(0.5),
    /** The triangle (tent) filter (PIL's BILINEAR), support 1. */
    BILINEAR(1),
    /** Hamming-windowed sinc (PIL's HAMMING), support 1. */
    HAMMING(1),
    /** Keys' cubic with a = -0.5 (PIL's BICUBIC), support 2. */
    BICUBIC(2),
    /** Lanczos-3 windowed sinc (PIL's LANCZOS), support 3. */
    LANCZOS(3);

    private final double support;

    Interpolation(double support) {
        this.support = support;
    }

    /** Half-width of the kernel in source pixels at scale 1 (PIL widens it by the scale when shrinking). */
    public double support() {
        return support;
    }

    /** The kernel's value at {@code x} source pixels from the sample centre. */
    double kernel(double x) {
        return switch (this) {
            case NEAREST -> x == 0 ? 1 : 0;
            case BOX -> (x > -0.5 && x <= 0.5) ? 1 : 0;
            case BILINEAR -> {
                double a = Math.abs(x);
                yield a < 1 ? 1 - a : 0;
            }
            case HAMMING -> {
                double a = Math.abs(x);
                if (a == 0) yield 1;
                if (a >= 1) yield 0;
                a *= Math.PI;
                yield Math.sin(a) / a * (0.54 + 0.46 * Math.cos(a));
            }
            case BICUBIC -> {
                final double k = -0.5;
                double a = Math.abs(x);
                if (a < 1) yield ((k + 2) * a - (k + 3)) * a * a + 1;
                if (a < 2) yield (((a - 5) * a + 8) * a - 4) * k;
                yield 0;
            }
            case LANCZOS -> (x > -3 && x < 3) ? sinc(x) * sinc(x / 3) : 0;
        };
    }

    private static double sinc(double x) {
        if (x == 0) return 1;
        x *= Math.PI;
        return Math.sin(x) / x;
    }
}
