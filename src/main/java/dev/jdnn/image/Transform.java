package dev.jdnn.image;

/**
 * One preprocessing step, named and behaving like its torchvision counterpart: {@link Resize},
 * {@link CenterCrop}, {@link Pad}, {@link ToTensor}, {@link Normalize}, chained by {@link Compose}.
 * Transforms are immutable and safe to share between threads, and serializable (so a {@link Preprocess} travels
 * with a task to Spark executors; a lambda transform serializes when what it captures does).
 */
@FunctionalInterface
public interface Transform extends java.io.Serializable {
    /**
     * Applies the step.
     *
     * @throws IllegalArgumentException if the step does not accept this kind of image (e.g. {@link Normalize}
     *         before {@link ToTensor}, or a channel count that differs from the mean's length)
     */
    ImageData apply(ImageData image);

    /** This step using {@code threads} threads where it can split its work (only {@link Resize} does). */
    default Transform withThreads(int threads) {
        return this;
    }
}
