package dev.jdnn.image;

/**
 * torchvision's {@code ToTensor}: an 8-bit H×W×3 image becomes a float 3×H×W image with values ÷ 255
 * (in float, as {@code img.float().div(255)}). A {@link FloatImage} is refused (torchvision's ToTensor
 * takes PIL images and arrays only).
 */
public record ToTensor() implements Transform {
    @Override
    public FloatImage apply(ImageData image) {
        if (!(image instanceof RgbImage rgb)) {
            throw new IllegalArgumentException("ToTensor takes an 8-bit RGB image, got " + image + " (already a tensor)");
        }
        return apply(rgb);
    }

    public FloatImage apply(RgbImage rgb) {
        int plane = rgb.width() * rgb.height();
        float[] out = new float[3 * plane];
        byte[] px = rgb.pixels;
        for (int i = 0; i < plane; i++) {
            out[i] = (px[3 * i] & 0xFF) / 255f;
            out[plane + i] = (px[3 * i + 1] & 0xFF) / 255f;
            out[2 * plane + i] = (px[3 * i + 2] & 0xFF) / 255f;
        }
        return new FloatImage(3, rgb.height(), rgb.width(), out);
    }
}
