package dev.jdnn.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A model file as it is on this JVM's disk now: a replaced file (other size or modification time) is another key. */
record ModelFile(Path path, long size, long modified) {

    /** @throws UncheckedIOException naming the file when it cannot be read here */
    static ModelFile of(Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        try {
            return new ModelFile(absolute, Files.size(absolute), Files.getLastModifiedTime(absolute).toMillis());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the model file " + absolute + " on this JVM: " + e.getMessage(), e);
        }
    }
}
