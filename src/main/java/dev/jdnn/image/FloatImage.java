package dev.jdnn.image;

import dev.jdnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A float image, C×H×W planar (torchvision's image tensor layout), any number of channels. It is what
 * {@link ToTensor} produces and {@link Normalize} works on, and the entry point for data that is already
 * decoded (from another decoder, a camera, a video frame): {@link Resize}, {@link CenterCrop} and
 * {@link Pad} accept it too, resampling in float as PIL does for its 32-bit float ("F") images.
 * Immutable: {@link #toArray()} returns a copy.
 */
public final class FloatImage implements ImageData {
    private final int channels;
    private final int height;
    private final int width;
    final float[] data; // C×H×W

    FloatImage(int channels, int height, int width, float[] data) {
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.data = data;
    }

    /**
     * A float image from C×H×W planar values, copied.
     *
     * @throws IllegalArgumentException if a dimension is not positive or the length is not C·H·W
     */
    public static FloatImage of(float[] chw, int channels, int height, int width) {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("C×H×W must be positive, got " + channels + "×" + height + "×" + width);
        }
        if (chw.length != (long) channels * height * width) {
            throw new IllegalArgumentException("a " + channels + "×" + height + "×" + width + " image needs "
                    + (long) channels * height * width + " floats, got " + chw.length);
        }
        return new FloatImage(channels, height, width, chw.clone());
    }

    /**
     * A float image from a C×H×W tensor or a 1×C×H×W batch of one, copied.
     *
     * @throws IllegalArgumentException for any other shape or a non-float tensor
     */
    public static FloatImage of(Tensor chw) {
        long[] s = chw.shape();
        if (!chw.dtype().isFloat() || !(s.length == 3 || (s.length == 4 && s[0] == 1))) {
            throw new IllegalArgumentException("expected a float C×H×W or 1×C×H×W tensor, got " + chw);
        }
        int o = s.length - 3;
        return new FloatImage((int) s[o], (int) s[o + 1], (int) s[o + 2], chw.toArray());
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
        return channels;
    }

    /** The value at channel c, row y, column x. */
    public float get(int c, int y, int x) {
        return data[(c * height + y) * width + x];
    }

    /** A copy of the C×H×W values. */
    public float[] toArray() {
        return data.clone();
    }

    /** A new 1×C×H×W tensor holding these values. */
    public Tensor toTensor() {
        return Tensor.of(data, 1, channels, height, width);
    }

    /** Copies the C×H×W values into {@code batch} (N×C×H×W) at index {@code n}. */
    void copyInto(Tensor batch, int n) {
        copyTo(batch.segment(), (long) n * data.length * Float.BYTES);
    }

    /** Copies the C×H×W values, as floats in native order, into {@code destination} from byte {@code offset} on. */
    public void copyTo(MemorySegment destination, long offset) {
        MemorySegment.copy(data, 0, destination, ValueLayout.JAVA_FLOAT_UNALIGNED, offset, data.length);
    }

    @Override
    public String toString() {
        return "FloatImage[" + channels + "×" + height + "×" + width + "]";
    }
}
