package dev.jdnn.spark;

/**
 * A row (or an output) jdnn could not turn into a prediction, under {@link JdnnInference.OnError#FAIL}: the
 * message names where ({@code partition 3, row 17 of the partition}) and why ({@code column 'features' has
 * 5 floats, the model's input needs 12288 (shape [3, 64, 64])}). Spark reports it as the task's failure.
 */
public final class JdnnRowException extends RuntimeException {
    private final String reason;

    public JdnnRowException(String where, String reason) {
        super(where + ": " + reason);
        this.reason = reason;
    }

    /** Why the row failed, without where. */
    public String reason() {
        return reason;
    }
}
