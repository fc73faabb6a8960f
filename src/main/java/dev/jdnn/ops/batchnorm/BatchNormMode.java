package dev.jdnn.ops.batchnorm;

/**
 * How a batch norm normalises, always passed explicitly (there is no hidden training flag).
 * <ul>
 *   <li>{@link #EVAL}: with the running statistics, {@code y = γ·(x − running_mean)/√(running_var + ε) + β};
 *       the layer does not change.</li>
 *   <li>{@link #TRAIN}: with the batch's own mean and <em>biased</em> variance, and the running statistics
 *       are updated with the <em>unbiased</em> variance (PyTorch's {@code nn.BatchNorm*} in {@code train()}).</li>
 * </ul>
 */
public enum BatchNormMode {
    TRAIN,
    EVAL
}
