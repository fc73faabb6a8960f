package dev.jdnn.image;

/**
 * What the transforms pass along: an 8-bit {@link RgbImage} (PIL's "RGB" image, before {@link ToTensor})
 * or a float {@link FloatImage} (torchvision's C×H×W tensor, after it, or already-decoded float data).
 */
public sealed interface ImageData permits RgbImage, FloatImage {
    int width();

    int height();

    int channels();
}
