package dev.jdnn.ops.eltwise;

import static dev.jdnn.bindings.dnnl_h.*;

/** Element-wise functions with their oneDNN algorithm and the scalar definition the reference uses. */
public enum EltwiseAlgorithm {
    /** {@code max(x, 0)}; with alpha != 0, leaky ReLU {@code x > 0 ? x : alpha·x}. */
    RELU {
        @Override public float apply(float x, float alpha, float beta) { return x > 0 ? x : alpha * x; }
        @Override public int dnnl() { return dnnl_eltwise_relu(); }
    },
    /** {@code min(max(x, alpha), beta)}, ONNX Clip and ReLU6. */
    CLIP {
        @Override public float apply(float x, float alpha, float beta) { return Math.min(Math.max(x, alpha), beta); }
        @Override public int dnnl() { return dnnl_eltwise_clip_v2(); }
    },

    /** {@code alpha·x + beta}. */
    LINEAR {
        @Override public float apply(float x, float alpha, float beta) { return alpha * x + beta; }
        @Override public int dnnl() { return dnnl_eltwise_linear(); }
    };

    /** The function on one element. */
    public abstract float apply(float x, float alpha, float beta);

    /** The oneDNN {@code dnnl_alg_kind_t}. */
    public abstract int dnnl();
}
