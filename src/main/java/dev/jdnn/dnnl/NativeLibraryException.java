package dev.jdnn.dnnl;

/** oneDNN could not be found or loaded; the message says why and what to do. */
public final class NativeLibraryException extends RuntimeException {
    public NativeLibraryException(String message) {
        super(message);
    }

    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
