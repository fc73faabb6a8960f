package dev.jdnn.cli;

import dev.jdnn.Backend;
import dev.jdnn.Session;
import dev.jdnn.image.Classifier;
import dev.jdnn.image.ImageDecodeException;
import dev.jdnn.image.Preprocess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./jdnn classify}: images in, top-k labels out, through {@link Classifier} (torchvision's ImageNet
 * eval transform by default, batched, softmax when the model outputs logits). Results stream per batch:
 * {@code file<TAB>label<TAB>probability} rows, k per image, or one JSON object per image with {@code --json}.
 * An image that cannot be decoded is reported on stderr and skipped; the exit code is then 1.
 */
@Command(name = "classify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Classifies images with an ONNX model: torchvision's ImageNet eval preprocessing (Resize 256, CenterCrop 224, "
                + "ImageNet mean/std) by default, batched; prints file, label and probability rows (softmax applied to logits) or JSON lines."})
final class ClassifyCommand extends Subcommand {
    @Option(names = "--model", required = true, paramLabel = "M.onnx", description = "the ONNX classifier (N×3×H×W in, N×K scores out)")
    Path model;

    @Option(names = "--labels", paramLabel = "labels.txt", description = "class labels, one a line (line i is class i); without it, class indices are printed")
    Path labels;

    @Option(names = "--top", paramLabel = "K", defaultValue = "5", description = "classes per image; default ${DEFAULT-VALUE}")
    int top;

    @Option(names = "--size", paramLabel = "S", defaultValue = "224", description = "center crop side (the model's input size); default ${DEFAULT-VALUE}")
    int size;

    @Option(names = "--resize", paramLabel = "R", defaultValue = "256", description = "shorter side after the resize (bilinear, antialiased like PIL); default ${DEFAULT-VALUE}")
    int resize;

    @Mixin
    NormalizeOptions normalize;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", description = "images per model run; default ${DEFAULT-VALUE}")
    int batch;

    @Option(names = "--json", description = "one JSON object per image: {\"file\", \"top\": [{\"index\", \"label\", \"probability\"}]}")
    boolean json;

    @Parameters(paramLabel = "IMAGE|DIR", arity = "1..*", description = "image files (PNG, JPEG, BMP, GIF) or directories of them (searched recursively, sorted)")
    List<Path> images = new ArrayList<>();

    @Mixin
    BackendOption backendOption;

    @Mixin
    ThreadsOption threadsOption;

    @Override
    public Integer call() {
        atLeast(top, 1, "--top");
        atLeast(size, 1, "--size");
        atLeast(resize, 1, "--resize");
        atLeast(batch, 1, "--batch");
        int threads = threadsOption.resolve(this);
        Backend backend = backendOption.backend;
        normalize.check(this);
        existing(model, "model");
        if (labels != null) existing(labels, "labels");
        List<Path> files = ImageFiles.expand(images);
        Classifier.Options options = Classifier.Options.defaults()
                .withPreprocess(Preprocess.imagenet(resize, size, normalize.mean, normalize.std))
                .withTopK(top).withBatchSize(batch).withThreads(threads)
                .withSession(new Session.Options(backend, threads));
        if (labels != null) options = options.withLabels(labels);
        int skipped = 0;
        try (Classifier classifier = Classifier.open(model, options);
             Progress progress = files.size() > batch ? progress("classify", files.size()) : null) {
            Skipper skipper = new Skipper();
            for (int start = 0; start < files.size(); start += batch) {
                List<Path> chunk = files.subList(start, Math.min(files.size(), start + batch));
                for (Classifier.Prediction p : classifier.classify(chunk, skipper)) print(p);
                out.flush();
                if (progress != null) progress.advance(chunk.size());
            }
            skipped = skipper.skipped;
        }
        if (skipped > 0) {
            err.println("jdnn classify: " + skipped + " of " + files.size() + " images could not be decoded (see above)");
            return Main.FAILURE;
        }
        return Main.OK;
    }

    /** Undecodable files: one line each on stderr, then carry on with the rest. */
    private final class Skipper implements Classifier.Listener {
        int skipped;

        @Override
        public void failed(Path file, ImageDecodeException error) {
            skipped++;
            err.println("jdnn classify: skipped " + error.getMessage());
        }
    }

    private void print(Classifier.Prediction p) {
        int[] indices = p.indices();
        float[] probabilities = p.probabilities();
        if (json) {
            StringBuilder s = new StringBuilder("{\"file\": ").append(Json.string(p.file().toString())).append(", \"top\": [");
            for (int i = 0; i < indices.length; i++) {
                if (i > 0) s.append(", ");
                s.append("{\"index\": ").append(indices[i]).append(", \"label\": ").append(Json.string(p.labels().get(i)))
                        .append(", \"probability\": ").append(Json.number(probabilities[i])).append('}');
            }
            out.println(s.append("]}"));
        } else {
            for (int i = 0; i < indices.length; i++) {
                out.printf(Locale.ROOT, "%s\t%s\t%.6f%n", p.file(), p.labels().get(i), probabilities[i]);
            }
        }
    }
}
