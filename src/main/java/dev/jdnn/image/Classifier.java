package dev.jdnn.image;

import dev.jdnn.Scores;

import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An image classifier: an ONNX model plus its preprocessing, images in, top-k labels and probabilities out.
 *
 * <pre>{@code
 * try (Classifier c = Classifier.open(Path.of("resnet50.onnx"),
 *         Classifier.Options.defaults().withLabels(Path.of("imagenet_classes.txt")))) {
 *     for (Classifier.Prediction p : c.classify(List.of(Path.of("cat.jpg"), Path.of("dog.png")))) {
 *         System.out.println(p.file() + " " + p.labels().get(0) + " " + p.probabilities()[0]);
 *     }
 * }
 * }</pre>
 *
 * Files are decoded and preprocessed ({@link Preprocess#imagenet()} unless the options say otherwise),
 * stacked into N×3×H×W batches of {@link Options#batchSize()} and run through the model; each row of the
 * N×K output becomes a {@link Prediction}. When the outputs are logits (a row is not already a
 * probability distribution) softmax is applied ({@link Softmax#AUTO}). The classifier owns its model and
 * session; {@link #close()} frees them (idempotent; later use throws {@link IllegalStateException}).
 * Safe to use from several threads.
 */
public final class Classifier implements AutoCloseable {
    /** When to turn the model's outputs into probabilities. */
    public enum Softmax {
        /** Softmax a row unless it already is a distribution (all values in [0, 1], summing to 1 ± 1e-3). */
        AUTO,
        /** Always softmax (the model outputs logits). */
        ALWAYS,
        /** Never (the model ends in a softmax, or scores are wanted as they are). */
        NEVER
    }

    /**
     * The result for one image.
     *
     * @param file          the image file, or null for an in-memory image
     * @param indices       the top-k class indices, most probable first
     * @param labels        their labels (the index as text when the classifier has no labels)
     * @param probabilities their probabilities (or raw scores with {@link Softmax#NEVER})
     */
    public record Prediction(Path file, int[] indices, List<String> labels, float[] probabilities) {
        public Prediction {
            indices = indices.clone();
            labels = List.copyOf(labels);
            probabilities = probabilities.clone();
        }

        @Override
        public int[] indices() {
            return indices.clone();
        }

        @Override
        public float[] probabilities() {
            return probabilities.clone();
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder(file == null ? "image" : file.toString()).append(':');
            for (int i = 0; i < indices.length; i++) s.append(' ').append(labels.get(i)).append('=').append(probabilities[i]);
            return s.toString();
        }
    }

    /** Receives results while {@link #classify(List, Listener)} runs (on the calling thread). */
    public interface Listener {
        /** After each batch: how many of the files are done. */
        default void progress(int done, int total) {}

        /** A file that could not be decoded; the default rethrows, ending the run. Return to skip the file. */
        default void failed(Path file, ImageDecodeException error) {
            throw error;
        }
    }

    /**
     * How to classify.
     *
     * @param preprocess  decoding and transforms (torchvision's ImageNet eval transform by default)
     * @param labels      class labels, index i on line i; null prints indices
     * @param topK        how many classes per image (5)
     * @param batchSize   images per model run (8); a model with a fixed batch dimension uses that instead
     * @param threads     threads for decoding and preprocessing the images of a batch (1)
     * @param session     backend and threads of the model's session
     * @param softmax     when to apply softmax ({@link Softmax#AUTO})
     * @param input       the model input to feed (null: the model's only input)
     * @param output      the output to read (null: the model's first output)
     */
    public record Options(Preprocess preprocess, List<String> labels, int topK, int batchSize, int threads, Session.Options session,
                          Softmax softmax, String input, String output) {
        public Options {
            if (preprocess == null || session == null || softmax == null) throw new IllegalArgumentException("preprocess, session and softmax must not be null");
            if (topK < 1) throw new IllegalArgumentException("top-k must be >= 1, got " + topK);
            if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            labels = labels == null ? null : List.copyOf(labels);
        }

        public static Options defaults() {
            return new Options(Preprocess.imagenet(), null, 5, 8, 1, Session.Options.defaults(), Softmax.AUTO, null, null);
        }

        public Options withPreprocess(Preprocess p) {
            return new Options(p, labels, topK, batchSize, threads, session, softmax, input, output);
        }

        public Options withLabels(List<String> l) {
            return new Options(preprocess, l, topK, batchSize, threads, session, softmax, input, output);
        }

        /**
         * Labels from a text file, one a line (trailing empty lines ignored).
         *
         * @throws UncheckedIOException naming the file if it cannot be read
         */
        public Options withLabels(Path file) {
            return withLabels(readLabels(file));
        }

        public Options withTopK(int k) {
            return new Options(preprocess, labels, k, batchSize, threads, session, softmax, input, output);
        }

        public Options withBatchSize(int n) {
            return new Options(preprocess, labels, topK, n, threads, session, softmax, input, output);
        }

        public Options withThreads(int n) {
            return new Options(preprocess, labels, topK, batchSize, n, session, softmax, input, output);
        }

        public Options withSession(Session.Options s) {
            return new Options(preprocess, labels, topK, batchSize, threads, s, softmax, input, output);
        }

        public Options withSoftmax(Softmax s) {
            return new Options(preprocess, labels, topK, batchSize, threads, session, s, input, output);
        }

        public Options withInput(String name) {
            return new Options(preprocess, labels, topK, batchSize, threads, session, softmax, name, output);
        }

        public Options withOutput(String name) {
            return new Options(preprocess, labels, topK, batchSize, threads, session, softmax, input, name);
        }
    }

    /** One label a line; trailing empty lines dropped. */
    public static List<String> readLabels(Path file) {
        try {
            List<String> lines = new ArrayList<>(Files.readAllLines(file));
            while (!lines.isEmpty() && lines.getLast().isBlank()) lines.removeLast();
            if (lines.isEmpty()) throw new IllegalArgumentException(file + ": the labels file is empty");
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the labels file: " + e.getMessage(), e);
        }
    }

    private final Options options;
    private final ImageModel model;

    private Classifier(ImageModel model, Options options) {
        this.model = model;
        this.options = options;
    }

    /**
     * Loads an ONNX classifier.
     *
     * @throws dev.jdnn.onnx.OnnxFormatException if the model cannot be loaded
     * @throws IllegalArgumentException if the model has several inputs and none is named, or a named input/output does not exist
     */
    public static Classifier open(Path modelFile, Options options) {
        return new Classifier(ImageModel.open("Classifier", modelFile, options.session(), options.input(), options.output()), options);
    }

    public Options options() {
        return options;
    }

    /** Classifies one file. @throws ImageDecodeException naming the file if it cannot be decoded */
    public Prediction classify(Path file) {
        return classify(List.of(file)).getFirst();
    }

    /** Classifies an AWT image (the prediction's file is null). */
    public Prediction classify(BufferedImage image) {
        ensureOpen();
        FloatImage x = options.preprocess().transform(ImageDecoder.fromBufferedImage(image));
        return run(List.of(x), Arrays.asList((Path) null)).getFirst();
    }

    /**
     * Classifies files in batches, results in the same order.
     *
     * @throws ImageDecodeException naming the first file that cannot be decoded
     */
    public List<Prediction> classify(List<Path> files) {
        return classify(files, new Listener() {});
    }

    /** As {@link #classify(List)}, reporting progress and letting the listener skip undecodable files. */
    public List<Prediction> classify(List<Path> files, Listener listener) {
        ensureOpen();
        List<Prediction> out = new ArrayList<>(files.size());
        int batch = model.fixedBatch() > 0 ? (int) model.fixedBatch() : options.batchSize();
        for (int start = 0; start < files.size(); start += batch) {
            List<Path> chunk = files.subList(start, Math.min(files.size(), start + batch));
            List<FloatImage> images = new ArrayList<>();
            List<Path> decoded = new ArrayList<>();
            FloatImage[] prepared = new FloatImage[chunk.size()];
            ImageDecodeException[] errors = new ImageDecodeException[chunk.size()];
            Preprocess pre = options.preprocess();
            Parallel.forRange(options.threads(), chunk.size(), 1, (from, to) -> {
                for (int i = from; i < to; i++) {
                    try {
                        prepared[i] = pre.transform(ImageDecoder.read(chunk.get(i), pre.decodeOptions()));
                    } catch (ImageDecodeException e) {
                        errors[i] = e;
                    }
                }
            });
            for (int i = 0; i < chunk.size(); i++) {
                if (errors[i] != null) {
                    listener.failed(chunk.get(i), errors[i]);
                } else {
                    images.add(prepared[i]);
                    decoded.add(chunk.get(i));
                }
            }
            if (!images.isEmpty()) out.addAll(run(images, decoded));
            listener.progress(Math.min(files.size(), start + batch), files.size());
        }
        return out;
    }

    /**
     * Predictions for an already preprocessed N×C×H×W batch (files null).
     *
     * @throws IllegalArgumentException if the tensor does not fit the model's input
     */
    public List<Prediction> classify(Tensor batch) {
        ensureOpen();
        try (Result r = model.run(batch)) {
            return predictions(r.get(model.output), Arrays.asList(new Path[(int) batch.dim(0)]), (int) batch.dim(0));
        }
    }

    private List<Prediction> run(List<FloatImage> images, List<Path> files) {
        int n = images.size();
        List<FloatImage> padded = new ArrayList<>(images);
        // A model exported with a fixed batch size gets its batch filled up with copies of the first image.
        while (model.fixedBatch() > 0 && padded.size() < model.fixedBatch()) padded.add(images.getFirst());
        try (Tensor x = Preprocess.stack(padded, files);
             Result r = model.run(x)) {
            return predictions(r.get(model.output), files, n);
        }
    }

    private List<Prediction> predictions(Tensor output, List<Path> files, int n) {
        long[] s = output.shape();
        if (s.length < 2 || s[0] < n) throw new IllegalStateException("output " + model.output + " is " + Tensor.format(s) + ", expected N×K scores");
        int k = (int) (output.elementCount() / s[0]);
        if (options.labels() != null && options.labels().size() != k) {
            throw new IllegalArgumentException("the labels file has " + options.labels().size() + " labels, the model scores " + k + " classes");
        }
        float[] all = output.toArray();
        List<Prediction> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] row = Arrays.copyOfRange(all, i * k, (i + 1) * k);
            float[] p = switch (options.softmax()) {
                case ALWAYS -> Scores.softmax(row);
                case NEVER -> row;
                case AUTO -> isDistribution(row) ? row : Scores.softmax(row);
            };
            int[] top = Scores.topK(p, options.topK());
            float[] probs = new float[top.length];
            List<String> labels = new ArrayList<>(top.length);
            for (int j = 0; j < top.length; j++) {
                probs[j] = p[top[j]];
                labels.add(options.labels() == null ? Integer.toString(top[j]) : options.labels().get(top[j]));
            }
            out.add(new Prediction(files.get(i), top, labels, probs));
        }
        return out;
    }

    /** True when every value is in [0, 1] and they sum to 1 within 1e-3 (the model already ends in a softmax). */
    static boolean isDistribution(float[] row) {
        double sum = 0;
        for (float v : row) {
            if (!(v >= 0 && v <= 1)) return false;
            sum += v;
        }
        return Math.abs(sum - 1) <= 1e-3;
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
