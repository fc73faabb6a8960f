package dev.jdnn.image;

import java.util.Arrays;

/**
 * An 8-bit RGB image, H×W×3 interleaved (row-major, the layout of PIL's "RGB" mode and of a numpy
 * {@code uint8} array {@code np.asarray(img)}). Immutable: {@link #toArray()} returns a copy.
 */
public final class RgbImage implements ImageData {
    private final int width;
    private final int height;
    final byte[] pixels; // H×W×3, package-private so the transforms read it without copying

    RgbImage(int width, int height, byte[] pixels) {
        this.width = width;
        this.height = height;
        this.pixels = pixels;
    }

    /**
     * An image from H×W×3 interleaved bytes (unsigned 0–255), copied.
     *
     * @throws IllegalArgumentException if a size is not positive or the array length is not width·height·3
     */
    public static RgbImage of(byte[] hwc, int width, int height) {
        checkSize(width, height);
        if (hwc.length != (long) width * height * 3) {
            throw new IllegalArgumentException("an RGB image of " + width + "×" + height + " needs " + (long) width * height * 3
                    + " bytes (H×W×3), got " + hwc.length);
        }
        return new RgbImage(width, height, hwc.clone());
    }

    static void checkSize(int width, int height) {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("image size must be positive, got " + width + "×" + height);
        if ((long) width * height * 3 > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("image of " + width + "×" + height + " is too large (more than 2^31 bytes)");
        }
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int height() {
        return height;
    }

    @Override
    public int channels() {
        return 3;
    }

    /** The sample at row y, column x, channel c (0 = R) as 0–255. */
    public int get(int y, int x, int c) {
        return pixels[(y * width + x) * 3 + c] & 0xFF;
    }

    /** A copy of the H×W×3 bytes. */
    public byte[] toArray() {
        return pixels.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RgbImage r && r.width == width && r.height == height && Arrays.equals(r.pixels, pixels);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(pixels);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "×" + height + "]";
    }
}
