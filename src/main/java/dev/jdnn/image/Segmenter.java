package dev.jdnn.image;

import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A semantic segmenter: an ONNX model producing N×K×h×w class scores, images in, a class per pixel of
 * the original image out.
 *
 * <pre>{@code
 * try (Segmenter s = Segmenter.open(Path.of("deeplabv3.onnx"), Segmenter.Options.defaults())) {
 *     Segmenter.Segmentation m = s.segment(Path.of("street.jpg"));
 *     m.writePng(Path.of("street-mask.png"));      // PASCAL VOC colours, same size as street.jpg
 * }
 * }</pre>
 *
 * Each image is preprocessed (torchvision's segmentation eval transform by default: Resize(520),
 * ToTensor, Normalize(ImageNet)), run alone (images keep their aspect ratio, so sizes differ), the
 * argmax over K is taken per output pixel (the first maximum wins, as {@code torch.argmax}; a single
 * channel is thresholded at 0) and the h×w class map is resized back to the image's size with PIL's
 * NEAREST. Owns its model and session; {@link #close()} is idempotent and later use throws.
 */
public final class Segmenter implements AutoCloseable {
    /**
     * How to segment.
     *
     * @param preprocess decoding and transforms (must end in a float image)
     * @param session    backend and threads of the model's session
     * @param input      the model input (null: its only input)
     * @param output     the score output (null: the model's first output, "out" for torchvision's models)
     */
    public record Options(Preprocess preprocess, Session.Options session, String input, String output) {
        public Options {
            if (preprocess == null || session == null) throw new IllegalArgumentException("preprocess and session must not be null");
        }

        /** torchvision's semantic segmentation eval preset: Resize(520, bilinear), ToTensor, Normalize(ImageNet). */
        public static Options defaults() {
            return new Options(Preprocess.of(new Resize(520), new ToTensor(), Normalize.imagenet()), Session.Options.defaults(), null, null);
        }

        public Options withPreprocess(Preprocess p) {
            return new Options(p, session, input, output);
        }

        public Options withSession(Session.Options s) {
            return new Options(preprocess, s, input, output);
        }

        public Options withInput(String name) {
            return new Options(preprocess, session, name, output);
        }

        public Options withOutput(String name) {
            return new Options(preprocess, session, input, name);
        }
    }

    /**
     * One image's class map.
     *
     * @param file    the image file (null for an in-memory image)
     * @param width   the image's width
     * @param height  the image's height
     * @param classes K, the number of classes the model scores
     * @param mask    height×width class indices, row-major
     */
    public record Segmentation(Path file, int width, int height, int classes, int[] mask) {
        public Segmentation {
            if (mask.length != width * height) throw new IllegalArgumentException("mask holds " + mask.length + " pixels, not " + width + "×" + height);
            mask = mask.clone();
        }

        @Override
        public int[] mask() {
            return mask.clone();
        }

        public int classAt(int x, int y) {
            return mask[y * width + x];
        }

        /** Pixels per class, length K. */
        public long[] classCounts() {
            long[] counts = new long[classes];
            for (int c : mask) counts[c]++;
            return counts;
        }

        /** The class map coloured with {@link #palette(int)} (class 0, background, is black). */
        public BufferedImage colourMask() {
            int[] palette = palette(classes);
            BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            int[] row = new int[width];
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) row[x] = palette[mask[y * width + x]];
                image.setRGB(0, y, width, 1, row, 0, width);
            }
            return image;
        }

        /** Writes {@link #colourMask()} as a PNG. @throws UncheckedIOException naming the file on failure */
        public void writePng(Path file) {
            try {
                if (!ImageIO.write(colourMask(), "png", file.toFile())) throw new IOException("no PNG writer");
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot write the mask: " + e.getMessage(), e);
            }
        }
    }

    /**
     * The PASCAL VOC colour map (torchvision's and most segmentation tools' default): class c's RGB comes
     * from interleaving c's bits, most significant first, into the top bits of R, G and B.
     * Returned as 0xRRGGBB, one per class.
     */
    public static int[] palette(int classes) {
        int[] colours = new int[classes];
        for (int c = 0; c < classes; c++) {
            int r = 0, g = 0, b = 0, id = c;
            for (int j = 7; j >= 0; j--) {
                r |= (id & 1) << j;
                g |= (id >> 1 & 1) << j;
                b |= (id >> 2 & 1) << j;
                id >>= 3;
            }
            colours[c] = r << 16 | g << 8 | b;
        }
        return colours;
    }

    private final Options options;
    private final ImageModel model;

    private Segmenter(ImageModel model, Options options) {
        this.model = model;
        this.options = options;
    }

    /**
     * Loads an ONNX segmentation model.
     *
     * @throws dev.jdnn.onnx.OnnxFormatException if the model cannot be loaded
     * @throws IllegalArgumentException if the input or output cannot be determined
     */
    public static Segmenter open(Path modelFile, Options options) {
        return new Segmenter(ImageModel.open("Segmenter", modelFile, options.session(), options.input(), options.output()), options);
    }

    /** Segments a file. @throws ImageDecodeException naming the file if it cannot be decoded */
    public Segmentation segment(Path file) {
        ensureOpen();
        return segment(ImageDecoder.read(file, options.preprocess().decodeOptions()), file);
    }

    /** Segments an AWT image. */
    public Segmentation segment(BufferedImage image) {
        ensureOpen();
        return segment(ImageDecoder.fromBufferedImage(image), null);
    }

    /** Segments an already-decoded image. */
    public Segmentation segment(RgbImage image) {
        ensureOpen();
        return segment(image, null);
    }

    /** Segments files one by one, in order. */
    public List<Segmentation> segment(List<Path> files) {
        List<Segmentation> out = new ArrayList<>(files.size());
        for (Path f : files) out.add(segment(f));
        return out;
    }

    private Segmentation segment(RgbImage image, Path file) {
        FloatImage x = options.preprocess().transform(image);
        try (Tensor input = x.toTensor();
             Result r = model.run(input)) {
            Tensor scores = r.get(model.output);
            long[] s = scores.shape();
            if (s.length != 4 || s[0] != 1) {
                throw new IllegalStateException("output " + model.output + " is " + Tensor.format(s) + ", expected 1×K×h×w class scores");
            }
            int classes = (int) s[1], h = (int) s[2], w = (int) s[3];
            int[] labels = argmax(scores.toArray(), classes, h * w);
            int[] xs = PilResampler.nearestIndices(w, image.width()), ys = PilResampler.nearestIndices(h, image.height());
            int[] mask = new int[image.width() * image.height()];
            for (int y = 0; y < image.height(); y++) {
                for (int xx = 0; xx < image.width(); xx++) mask[y * image.width() + xx] = labels[ys[y] * w + xs[xx]];
            }
            return new Segmentation(file, image.width(), image.height(), Math.max(classes, 2), mask);
        }
    }

    /** K×P scores → P class indices (first maximum wins; one channel: score > 0). */
    static int[] argmax(float[] scores, int classes, int pixels) {
        int[] labels = new int[pixels];
        if (classes == 1) {
            for (int p = 0; p < pixels; p++) labels[p] = scores[p] > 0 ? 1 : 0;
            return labels;
        }
        float[] best = java.util.Arrays.copyOf(scores, pixels);
        for (int c = 1; c < classes; c++) {
            for (int p = 0, o = c * pixels; p < pixels; p++) {
                float v = scores[o + p];
                if (v > best[p] || (Float.isNaN(v) && !Float.isNaN(best[p]))) {
                    best[p] = v;
                    labels[p] = c;
                }
            }
        }
        return labels;
    }

    private void ensureOpen() {
        model.ensureOpen();
    }

    /** Frees the model and its session; idempotent. */
    @Override
    public void close() {
        model.close();
    }
}
