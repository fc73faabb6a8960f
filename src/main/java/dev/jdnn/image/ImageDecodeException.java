package dev.jdnn.image;

import java.nio.file.Path;

/** An image file that could not be read or decoded; the message names the file and what went wrong. */
public final class ImageDecodeException extends RuntimeException {
    private final Path file;

    public ImageDecodeException(Path file, String message, Throwable cause) {
        super((file == null ? "image" : file.toString()) + ": " + message, cause);
        this.file = file;
    }

    public ImageDecodeException(Path file, String message) {
        this(file, message, null);
    }

    /** An image that is not a file (bytes in memory): {@code source} says what it is, e.g. a URI or a column. */
    public ImageDecodeException(String source, String message, Throwable cause) {
        super((source == null ? "image" : source) + ": " + message, cause);
        this.file = null;
    }

    /** The file that failed, or null when the image did not come from a file. */
    public Path file() {
        return file;
    }
}
