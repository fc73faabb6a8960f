package dev.jdnn.onnx;

/** The file is not a model jdnn can load: unreadable, malformed, an unsupported opset or operators. The message says which. */
public class OnnxFormatException extends RuntimeException {
    public OnnxFormatException(String message) {
        super(message);
    }

    public OnnxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
