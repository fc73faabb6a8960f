package dev.jdnn.ops.conv;

import java.util.Arrays;

/**
 * A convolution layer's parameters: geometry plus weights {@code K×C/g×R×S} (row-major) and an
 * optional bias of K values. Immutable: the arrays are copied in and out.
 */
public final class Conv2d {
    private final Conv2dParams params;
    private final float[] weights;
    private final float[] bias; // null: no bias

    public Conv2d(Conv2dParams params, float[] weights, float[] bias) {
        this.params = params;
        if (weights.length != params.weightCount()) {
            throw new IllegalArgumentException("weights for " + params + " must be " + Arrays.toString(params.weightShape())
                    + " = " + params.weightCount() + " values, got " + weights.length);
        }
        if (bias != null && bias.length != params.outChannels()) {
            throw new IllegalArgumentException("bias for " + params + " must have " + params.outChannels() + " values, got " + bias.length);
        }
        this.weights = weights.clone();
        this.bias = bias == null ? null : bias.clone();
    }

    public Conv2dParams params() {
        return params;
    }

    public float[] weights() {
        return weights.clone();
    }

    /** The bias, or null if the layer has none. */
    public float[] bias() {
        return bias == null ? null : bias.clone();
    }

    public boolean hasBias() {
        return bias != null;
    }

    float[] weightsView() {
        return weights;
    }

    float[] biasView() {
        return bias;
    }
}
