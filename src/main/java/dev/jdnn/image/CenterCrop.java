package dev.jdnn.image;

/**
 * torchvision's {@code CenterCrop(size)}: the {@code height×width} window whose top-left corner is at
 * {@code round((H − height) / 2), round((W − width) / 2)} (Python's round: halves to even). An image
 * smaller than the window is first zero-padded as torchvision does ({@code (width − W) // 2} on the left,
 * the rest on the right; likewise top and bottom).
 */
public record CenterCrop(int height, int width) implements Transform {
    public CenterCrop {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("CenterCrop size must be positive, got " + height + "×" + width);
    }

    /** A square crop. */
    public CenterCrop(int size) {
        this(size, size);
    }

    @Override
    public ImageData apply(ImageData image) {
        int w = image.width(), h = image.height();
        if (width > w || height > h) {
            int padL = width > w ? (width - w) / 2 : 0, padT = height > h ? (height - h) / 2 : 0;
            int padR = width > w ? (width - w + 1) / 2 : 0, padB = height > h ? (height - h + 1) / 2 : 0;
            image = new Pad(padL, padT, padR, padB, Pad.Mode.CONSTANT, 0).apply(image);
            w = image.width();
            h = image.height();
        }
        int top = (int) Math.rint((h - height) / 2.0), left = (int) Math.rint((w - width) / 2.0);
        return crop(image, top, left, height, width);
    }

    /** The {@code height×width} window at (top, left), which must lie inside the image. */
    static ImageData crop(ImageData image, int top, int left, int height, int width) {
        int w = image.width(), h = image.height();
        if (image instanceof RgbImage rgb) {
            byte[] out = new byte[height * width * 3];
            for (int y = 0; y < height; y++) System.arraycopy(rgb.pixels, ((top + y) * w + left) * 3, out, y * width * 3, width * 3);
            return new RgbImage(width, height, out);
        }
        FloatImage f = (FloatImage) image;
        float[] out = new float[f.channels() * height * width];
        for (int c = 0; c < f.channels(); c++) {
            for (int y = 0; y < height; y++) System.arraycopy(f.data, (c * h + top + y) * w + left, out, (c * height + y) * width, width);
        }
        return new FloatImage(f.channels(), height, width, out);
    }
}
