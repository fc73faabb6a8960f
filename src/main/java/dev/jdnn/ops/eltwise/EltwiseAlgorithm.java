package dev.jdnn.ops.eltwise;

import static dev.jdnn.bindings.dnnl_h.*;

/**
 * Element-wise functions with their oneDNN algorithm and the scalar definition the reference uses,
 * as oneDNN 3.x defines them ({@code alg(x; alpha, beta)}, doc/primitives/eltwise.md). The reference
 * computes in double and rounds once to float.
 */
public enum EltwiseAlgorithm {
    /** {@code max(x, 0)}; with alpha != 0, leaky ReLU {@code x > 0 ? x : alpha·x}. */
    RELU {
        // Plain ReLU maps -Inf to 0 (not 0·-Inf = NaN) and keeps NaN, as PyTorch does.
        @Override public float apply(float x, float alpha, float beta) { return x > 0 || x != x ? x : alpha == 0 ? 0f : alpha * x; }
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
    },
    /** {@code tanh(x)}. */
    TANH {
        @Override public float apply(float x, float alpha, float beta) { return (float) Math.tanh(x); }
        @Override public int dnnl() { return dnnl_eltwise_tanh(); }
    },
    /** {@code x > 0 ? x : alpha·(eˣ − 1)}. */
    ELU {
        @Override public float apply(float x, float alpha, float beta) { return x > 0 ? x : (float) (alpha * Math.expm1(x)); }
        @Override public int dnnl() { return dnnl_eltwise_elu(); }
    },
    /** {@code x²}. */
    SQUARE {
        @Override public float apply(float x, float alpha, float beta) { return x * x; }
        @Override public int dnnl() { return dnnl_eltwise_square(); }
    },
    /** {@code |x|}. */
    ABS {
        @Override public float apply(float x, float alpha, float beta) { return Math.abs(x); }
        @Override public int dnnl() { return dnnl_eltwise_abs(); }
    },
    /** {@code √x} (NaN below 0). */
    SQRT {
        @Override public float apply(float x, float alpha, float beta) { return (float) Math.sqrt(x); }
        @Override public int dnnl() { return dnnl_eltwise_sqrt(); }
    },
    /** Softplus with a sharpness: {@code ln(1 + e^(alpha·x)) / alpha} (ONNX Softplus: alpha = 1). */
    SOFT_RELU {
        @Override public float apply(float x, float alpha, float beta) { return (float) (softplus((double) alpha * x) / alpha); }
        @Override public int dnnl() { return dnnl_eltwise_soft_relu(); }
    },
    /** {@code max(0, min(1, alpha·x + beta))}. */
    HARDSIGMOID {
        @Override public float apply(float x, float alpha, float beta) { return (float) hardSigmoid(x, alpha, beta); }
        @Override public int dnnl() { return dnnl_eltwise_hardsigmoid(); }
    },
    /** {@code x · max(0, min(1, alpha·x + beta))} (ONNX HardSwish: alpha = 1/6, beta = 0.5). */
    HARDSWISH {
        @Override public float apply(float x, float alpha, float beta) { return (float) (x * hardSigmoid(x, alpha, beta)); }
        @Override public int dnnl() { return dnnl_eltwise_hardswish(); }
    },
    /** The sigmoid {@code 1 / (1 + e^(−x))}. */
    LOGISTIC {
        @Override public float apply(float x, float alpha, float beta) { return (float) (1 / (1 + Math.exp(-(double) x))); }
        @Override public int dnnl() { return dnnl_eltwise_logistic(); }
    },
    /** {@code eˣ}. */
    EXP {
        @Override public float apply(float x, float alpha, float beta) { return (float) Math.exp(x); }
        @Override public int dnnl() { return dnnl_eltwise_exp(); }
    },
    /** {@code ln x} (NaN below 0, −∞ at 0). */
    LOG {
        @Override public float apply(float x, float alpha, float beta) { return (float) Math.log(x); }
        @Override public int dnnl() { return dnnl_eltwise_log(); }
    },
    /** GELU's tanh approximation {@code x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))}. */
    GELU_TANH {
        @Override public float apply(float x, float alpha, float beta) {
            double t = Math.sqrt(2 / Math.PI) * (x + 0.044715 * (double) x * x * x);
            return (float) (0.5 * x * (1 + Math.tanh(t)));
        }
        @Override public int dnnl() { return dnnl_eltwise_gelu_tanh(); }
    },
    /** Exact GELU {@code x/2 · (1 + erf(x/√2))} (computed as {@code x/2 · erfc(−x/√2)} to keep the negative tail). */
    GELU_ERF {
        @Override public float apply(float x, float alpha, float beta) { return (float) (0.5 * x * Erf.erfc(-x / Math.sqrt(2))); }
        @Override public int dnnl() { return dnnl_eltwise_gelu_erf(); }
    },
    /** Swish / SiLU {@code x / (1 + e^(−alpha·x))} (SiLU: alpha = 1). */
    SWISH {
        @Override public float apply(float x, float alpha, float beta) { return (float) (x / (1 + Math.exp(-(double) alpha * x))); }
        @Override public int dnnl() { return dnnl_eltwise_swish(); }
    },
    /** {@code x · tanh(ln(1 + eˣ))}. */
    MISH {
        @Override public float apply(float x, float alpha, float beta) { return (float) (x * Math.tanh(softplus(x))); }
        @Override public int dnnl() { return dnnl_eltwise_mish(); }
    },
    /** {@code alpha · x^beta}. */
    POW {
        @Override public float apply(float x, float alpha, float beta) { return (float) (alpha * Math.pow(x, beta)); }
        @Override public int dnnl() { return dnnl_eltwise_pow(); }
    },
    /** Round to nearest, ties to even. */
    ROUND {
        @Override public float apply(float x, float alpha, float beta) { return (float) Math.rint(x); }
        @Override public int dnnl() { return dnnl_eltwise_round(); }
    };

    /** The function on one element. */
    public abstract float apply(float x, float alpha, float beta);

    /** The oneDNN {@code dnnl_alg_kind_t}. */
    public abstract int dnnl();

    /** {@code ln(1 + eᵗ)} without overflow for large t. */
    static double softplus(double t) {
        return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
    }

    static double hardSigmoid(double x, double alpha, double beta) {
        return Math.max(0, Math.min(1, alpha * x + beta));
    }
}
