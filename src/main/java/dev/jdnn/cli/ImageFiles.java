package dev.jdnn.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/** The images named on a command line: files as given, directories walked (sorted) for image files by extension. */
final class ImageFiles {
    /** What ImageIO (with TwelveMonkeys' JPEG reader) decodes, by file name extension. */
    static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "jpe", "jfif", "png", "bmp", "gif", "wbmp");

    private ImageFiles() {}

    /**
     * Files in command-line order; a directory contributes its image files (recursively, sorted by path).
     * A named file is used whatever its extension (the decoder names it if it is no image).
     *
     * @throws Main.CliException naming a path that does not exist, or a directory without images
     */
    static List<Path> expand(List<Path> paths) {
        List<Path> files = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> walk = Files.walk(p)) {
                    List<Path> images = walk.filter(Files::isRegularFile).filter(ImageFiles::looksLikeImage).sorted().toList();
                    if (images.isEmpty()) throw new Main.CliException("directory " + p + " holds no image files (" + String.join(", ", EXTENSIONS.stream().sorted().toList()) + ")");
                    files.addAll(images);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot list " + p + ": " + e.getMessage(), e);
                }
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            } else {
                throw new Main.CliException("image " + p + " does not exist");
            }
        }
        return files;
    }

    static boolean looksLikeImage(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }
}
