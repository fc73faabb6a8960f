package dev.jdnn.ops;

import dev.jdnn.Tensor;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.ops.eltwise.NativeEltwise;
import org.junit.jupiter.api.Test;

class EltwiseProbeTest {
    @Test
    void probe() {
        int n = 200001;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -20f + 40f * i / (n - 1);
        Object[][] cases = {
            {EltwiseAlgorithm.TANH, 0f, 0f}, {EltwiseAlgorithm.ELU, 1f, 0f}, {EltwiseAlgorithm.ELU, 0.5f, 0f},
            {EltwiseAlgorithm.SQRT, 0f, 0f}, {EltwiseAlgorithm.SOFT_RELU, 1f, 0f}, {EltwiseAlgorithm.SOFT_RELU, 2f, 0f},
            {EltwiseAlgorithm.HARDSIGMOID, 0.2f, 0.5f}, {EltwiseAlgorithm.HARDSWISH, 1f / 6, 0.5f}, {EltwiseAlgorithm.HARDSWISH, 0.5f, 0.25f},
            {EltwiseAlgorithm.LOGISTIC, 0f, 0f}, {EltwiseAlgorithm.EXP, 0f, 0f}, {EltwiseAlgorithm.LOG, 0f, 0f},
            {EltwiseAlgorithm.GELU_TANH, 0f, 0f}, {EltwiseAlgorithm.GELU_ERF, 0f, 0f}, {EltwiseAlgorithm.SWISH, 1f, 0f},
            {EltwiseAlgorithm.MISH, 0f, 0f}, {EltwiseAlgorithm.POW, 1f, -1f}, {EltwiseAlgorithm.POW, 1f, 2f}, {EltwiseAlgorithm.POW, 1f, 3f},
            {EltwiseAlgorithm.POW, 1f, 0.5f}, {EltwiseAlgorithm.POW, 1f, 1.7f}, {EltwiseAlgorithm.POW, 1f, -2.5f},
            {EltwiseAlgorithm.ROUND, 0f, 0f}, {EltwiseAlgorithm.ABS, 0f, 0f}, {EltwiseAlgorithm.SQUARE, 0f, 0f},
        };
        for (Object[] c : cases) {
            EltwiseAlgorithm a = (EltwiseAlgorithm) c[0];
            float al = (float) c[1], be = (float) c[2];
            try (Tensor s = Tensor.of(x, n); Tensor d = Tensor.zeros(n); NativeEltwise e = new NativeEltwise(a, al, be, n)) {
                e.run(s, d);
                float[] g = d.toArray();
                double maxRel = 0, maxAbs = 0, rel3 = 0, rel6 = 0, rel1 = 0, rel2 = 0; int worst = -1, nanMismatch = 0; float worstAbsX = 0;
                for (int i = 0; i < n; i++) {
                    float r = a.apply(x[i], al, be);
                    if (Float.isNaN(r) || Float.isNaN(g[i])) { if (Float.isNaN(r) != Float.isNaN(g[i])) nanMismatch++; continue; }
                    if (Float.isInfinite(r) || Float.isInfinite(g[i])) { if (r != g[i]) nanMismatch++; continue; }
                    double abs = Math.abs(g[i] - r);
                    double rel = abs / Math.max(Math.abs(r), 1e-30);
                    if (Math.abs(r) > 1e-30 && rel > maxRel) { maxRel = rel; worst = i; }
                    if (abs > maxAbs) { maxAbs = abs; worstAbsX = x[i]; }
                    if (Math.abs(r) >= 1e-3) rel3 = Math.max(rel3, rel);
                    if (Math.abs(r) >= 1e-6) rel6 = Math.max(rel6, rel);
                    if (Math.abs(r) >= 1e-1) rel1 = Math.max(rel1, rel);
                    if (Math.abs(r) >= 1e-2) rel2 = Math.max(rel2, rel);
                }
                System.out.printf("PROBE %-12s a=%g b=%g maxRel=%.3g at x=%s (ref %s got %s)%n      maxAbs=%.3g at %s rel>.1 %.2g >.01 %.2g >1e-3 %.2g >1e-6 %.2g nan=%d%n", a, al, be, maxRel,
                        worst < 0 ? "-" : x[worst], worst < 0 ? "-" : a.apply(x[worst], al, be), worst < 0 ? "-" : g[worst], maxAbs, worstAbsX, rel1, rel2, rel3, rel6, nanMismatch);
            }
        }
        // round ties
        float[] t = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f};
        try (Tensor s = Tensor.of(t, t.length); Tensor d = Tensor.zeros(t.length); NativeEltwise e = new NativeEltwise(EltwiseAlgorithm.ROUND, 0, 0, t.length)) {
            e.run(s, d);
            System.out.println("PROBE round ties " + java.util.Arrays.toString(d.toArray()));
        }
    }
}
