package dev.jdnn.image;

import dev.jdnn.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole preprocessing pipeline, file or {@link BufferedImage} in, jdnn {@link Tensor} out: decoding
 * (see {@link ImageDecoder}) then torchvision-style {@link Transform}s ending in a float image.
 *
 * <pre>{@code
 * Preprocess pre = Preprocess.imagenet();                 // Resize(256) CenterCrop(224) ToTensor Normalize(ImageNet)
 * try (Tensor x = pre.apply(Path.of("cat.jpg"))) { }        // 1×3×224×224
 * try (Tensor b = pre.batch(List.of(a, b, c))) { }         // 3×3×224×224
 * }</pre>
 *
 * Immutable and thread-safe; it owns no native memory (the tensors it returns do: close them). Serializable,
 * so it can be shipped to other JVMs (jdnn-spark sends it to executors with each task).
 */
public final class Preprocess implements java.io.Serializable {
    private final Compose steps;
    private final ImageDecoder.Options decode;
    private final int threads;

    private Preprocess(Compose steps, ImageDecoder.Options decode, int threads) {
        this.steps = steps;
        this.decode = decode;
        this.threads = threads;
    }

    /** torchvision's ImageNet eval transform: Resize(256, bilinear), CenterCrop(224), ToTensor, Normalize(ImageNet mean/std). */
    public static Preprocess imagenet() {
        return imagenet(256, 224, Normalize.IMAGENET_MEAN, Normalize.IMAGENET_STD);
    }

    /** Resize(resize, bilinear), CenterCrop(crop), ToTensor, Normalize(mean, std). */
    public static Preprocess imagenet(int resize, int crop, float[] mean, float[] std) {
        return of(new Resize(resize), new CenterCrop(crop), new ToTensor(), new Normalize(mean, std));
    }

    /** Any chain of transforms; it must end with a float image (ToTensor somewhere), which {@link #apply} checks. */
    public static Preprocess of(Transform... steps) {
        return new Preprocess(Compose.of(steps), ImageDecoder.Options.defaults(), 1);
    }

    /** The same pipeline with its Resize split over {@code n} threads (per image). */
    public Preprocess withThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        return new Preprocess(steps.withThreads(n), decode, n);
    }

    /** The same pipeline decoding files with these options (e.g. EXIF orientation). */
    public Preprocess withDecodeOptions(ImageDecoder.Options options) {
        return new Preprocess(steps, options, threads);
    }

    public List<Transform> steps() {
        return steps.steps();
    }

    public ImageDecoder.Options decodeOptions() {
        return decode;
    }

    public int threads() {
        return threads;
    }

    /** The decoded, transformed image as a float C×H×W image. */
    public FloatImage transform(ImageData image) {
        ImageData out = steps.apply(image);
        if (!(out instanceof FloatImage f)) {
            throw new IllegalStateException("the preprocessing steps " + steps.steps() + " end with an 8-bit image; add ToTensor()");
        }
        return f;
    }

    /** 1×C×H×W. */
    public Tensor apply(ImageData image) {
        return transform(image).toTensor();
    }

    /** 1×C×H×W from an AWT image (converted as {@link ImageDecoder#fromBufferedImage} does). */
    public Tensor apply(BufferedImage image) {
        return apply(ImageDecoder.fromBufferedImage(image));
    }

    /**
     * 1×C×H×W from an image file.
     *
     * @throws ImageDecodeException naming the file if it cannot be read or decoded
     */
    public Tensor apply(Path file) {
        return apply(ImageDecoder.read(file, decode));
    }

    /**
     * N×C×H×W from image files, in order. All must come out the same size (a CenterCrop or a two-number
     * Resize ensures it).
     *
     * @throws ImageDecodeException naming the first file that cannot be decoded (no tensor is returned)
     * @throws IllegalArgumentException if the list is empty or the images come out in different sizes
     */
    public Tensor batch(List<Path> files) {
        List<FloatImage> images = new ArrayList<>(files.size());
        for (Path f : files) images.add(transform(ImageDecoder.read(f, decode)));
        return stack(images, files);
    }

    /** N×C×H×W from already-decoded images, in order; same rules as {@link #batch(List)}. */
    public Tensor batchImages(List<? extends ImageData> imagesIn) {
        List<FloatImage> images = new ArrayList<>(imagesIn.size());
        for (ImageData im : imagesIn) images.add(transform(im));
        return stack(images, null);
    }

    /** Stacks C×H×W images into one N×C×H×W tensor. */
    public static Tensor stack(List<FloatImage> images, List<?> names) {
        if (images.isEmpty()) throw new IllegalArgumentException("no images to batch");
        FloatImage first = images.get(0);
        for (int i = 1; i < images.size(); i++) {
            FloatImage im = images.get(i);
            if (im.channels() != first.channels() || im.height() != first.height() || im.width() != first.width()) {
                throw new IllegalArgumentException("cannot batch " + (names == null ? "image " + i : names.get(i)) + " (" + im.channels() + "×"
                        + im.height() + "×" + im.width() + ") with " + (names == null ? "image 0" : names.get(0)) + " (" + first.channels()
                        + "×" + first.height() + "×" + first.width() + "): add a CenterCrop or a fixed-size Resize");
            }
        }
        Tensor batch = Tensor.zeros(images.size(), first.channels(), first.height(), first.width());
        for (int i = 0; i < images.size(); i++) images.get(i).copyInto(batch, i);
        return batch;
    }

    @Override
    public String toString() {
        return "Preprocess" + steps.steps();
    }
}
