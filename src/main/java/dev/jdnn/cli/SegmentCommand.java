package dev.jdnn.cli;

import dev.jdnn.Backend;
import dev.jdnn.Session;
import dev.jdnn.image.Classifier;
import dev.jdnn.image.ImageDecodeException;
import dev.jdnn.image.Preprocess;
import dev.jdnn.image.Resize;
import dev.jdnn.image.Segmenter;
import dev.jdnn.image.ToTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./jdnn segment}: a semantic segmentation model over images through {@link Segmenter}: per pixel
 * the argmax class, resized back to the image's size, written as a PNG in the PASCAL VOC colours
 * ({@code OUT/<image name>.mask.png}). One line per image on stdout: the image, the mask and the classes
 * present with their share of the pixels (named with {@code --labels}). An undecodable image is reported
 * on stderr and skipped; the exit code is then 1.
 */
@Command(name = "segment", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Segments images with an ONNX model (N×3×H×W in, N×K×h×w class scores out, as torchvision's FCN/DeepLabV3/LRASPP): "
                + "writes a colour-mapped PNG mask per image, the size of the image."})
final class SegmentCommand extends Subcommand {
    @Option(names = "--model", required = true, paramLabel = "M.onnx", description = "the ONNX segmentation model")
    Path model;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = ".", description = "where the masks go (created if missing); default the current directory")
    Path outDir;

    @Option(names = "--labels", paramLabel = "labels.txt", description = "class names, one a line, for the summary printed per image (e.g. voc_classes.txt)")
    Path labels;

    @Option(names = "--size", paramLabel = "S", defaultValue = "520", description = "shorter side after the resize (torchvision's segmentation preset); default ${DEFAULT-VALUE}")
    int size;

    @Mixin
    NormalizeOptions normalize;

    @Option(names = "--output", paramLabel = "NAME", description = "the model output holding the class scores; default its first ('out' for torchvision's)")
    String output;

    @Parameters(paramLabel = "IMAGE|DIR", arity = "1..*", description = "image files or directories of them (searched recursively, sorted)")
    List<Path> images = new ArrayList<>();

    @Mixin
    BackendOption backendOption;

    @Mixin
    ThreadsOption threadsOption;

    @Override
    public Integer call() {
        atLeast(size, 1, "--size");
        int threads = threadsOption.resolve(this);
        Backend backend = backendOption.backend;
        normalize.check(this);
        existing(model, "model");
        List<String> names = labels == null ? null : Classifier.readLabels(existing(labels, "labels"));
        List<Path> files = ImageFiles.expand(images);
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + outDir + ": " + e.getMessage(), e);
        }
        Segmenter.Options options = Segmenter.Options.defaults()
                .withPreprocess(Preprocess.of(new Resize(size), new ToTensor(), normalize.normalize()))
                .withSession(new Session.Options(backend, threads));
        if (output != null) options = options.withOutput(output);
        int skipped = 0;
        Set<String> used = new HashSet<>();
        try (Segmenter segmenter = Segmenter.open(model, options);
             Progress progress = files.size() > 1 ? progress("segment", files.size()) : null) {
            for (Path file : files) {
                try {
                    Segmenter.Segmentation s = segmenter.segment(file);
                    Path mask = outDir.resolve(unique(maskName(file), used));
                    s.writePng(mask);
                    out.println(file + "\t" + mask + "\t" + summary(s, names));
                    out.flush();
                } catch (ImageDecodeException e) {
                    skipped++;
                    err.println("jdnn segment: skipped " + e.getMessage());
                }
                if (progress != null) progress.advance(1);
            }
        }
        if (skipped > 0) {
            err.println("jdnn segment: " + skipped + " of " + files.size() + " images could not be decoded (see above)");
            return Main.FAILURE;
        }
        return Main.OK;
    }

    /** {@code photo.jpg → photo.mask.png}. */
    static String maskName(Path image) {
        String name = image.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return (dot > 0 ? name.substring(0, dot) : name) + ".mask.png";
    }

    /** Two images with the same name from different directories get photo.mask.png and photo_2.mask.png. */
    private static String unique(String name, Set<String> used) {
        String base = name.substring(0, name.length() - ".mask.png".length());
        String candidate = name;
        for (int i = 2; !used.add(candidate); i++) candidate = base + "_" + i + ".mask.png";
        return candidate;
    }

    /** The classes present, largest share first: {@code "classes 0:71.2% 15:28.8%"}, or with labels {@code "classes background:71.2% person:28.8%"}. */
    static String summary(Segmenter.Segmentation s, List<String> labels) {
        long[] counts = s.classCounts();
        long total = (long) s.width() * s.height();
        StringBuilder b = new StringBuilder("classes");
        java.util.stream.IntStream.range(0, counts.length).boxed().filter(c -> counts[c] > 0)
                .sorted((a, c) -> Long.compare(counts[c], counts[a]))
                .forEach(c -> b.append(String.format(java.util.Locale.ROOT, " %s:%.1f%%",
                        labels != null && c < labels.size() ? labels.get(c) : Integer.toString(c), 100.0 * counts[c] / total)));
        return b.toString();
    }
}
