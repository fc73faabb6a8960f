package dev.jdnn.ops;

import static dev.jdnn.bindings.dnnl_h.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Tensor;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.ops.eltwise.NativeEltwise;
import dev.jdnn.ops.eltwise.ReferenceEltwise;
import dev.jdnn.ops.reorder.NativeReorder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real oneDNN primitives through the bindings, checked against plain Java loops. */
class EltwiseAndReorderTest {

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 64, 1000, 4097})
    void nativeReluMatchesJavaLoop(int n) {
        float[] x = random(n, n);
        try (Tensor src = Tensor.of(x, 1, n); Tensor dst = Tensor.zeros(1, n); Tensor ref = Tensor.zeros(1, n);
             NativeEltwise relu = new NativeEltwise(EltwiseAlgorithm.RELU, 0f, 0f, 1, n)) {
            relu.run(src, dst);
            ReferenceEltwise.run(EltwiseAlgorithm.RELU, 0f, 0f, src, ref);
            float[] got = dst.toArray();
            for (int i = 0; i < n; i++) {
                assertEquals(Math.max(x[i], 0f), got[i], 0f, "element " + i);
            }
            assertArrayEquals(ref.toArray(), got, 0f);
        }
    }

    @Test
    void nativeClipInPlace() {
        float[] x = random(2 * 3 * 4 * 5, 3);
        try (Tensor t = Tensor.of(x, 2, 3, 4, 5);
             NativeEltwise clip = new NativeEltwise(EltwiseAlgorithm.CLIP, -0.5f, 0.25f, 2, 3, 4, 5)) {
            clip.run(t, t);
            float[] got = t.toArray();
            for (int i = 0; i < x.length; i++) assertEquals(Math.min(Math.max(x[i], -0.5f), 0.25f), got[i], 0f);
        }
    }

    @Test
    void reorderNchwToNhwcMatchesJavaTranspose() {
        int n = 2, c = 3, h = 4, w = 5;
        float[] x = random(n * c * h * w, 11);
        try (Tensor src = Tensor.of(x, n, c, h, w); Tensor dst = Tensor.zeros(n, h, w, c);
             NativeReorder reorder = NativeReorder.between(new long[] {n, c, h, w}, dnnl_nchw(), dnnl_nhwc())) {
            reorder.run(src.segment(), dst.segment());
            for (int in = 0; in < n; in++)
                for (int ic = 0; ic < c; ic++)
                    for (int ih = 0; ih < h; ih++)
                        for (int iw = 0; iw < w; iw++)
                            assertEquals(x[((in * c + ic) * h + ih) * w + iw], dst.get(in, ih, iw, ic), 0f);
        }
    }

    @Test
    void reorderToBlockedLayoutAndBackIsIdentity() {
        long[] dims = {1, 19, 3, 3}; // 19 channels: the 8-blocked layout pads to 24
        float[] x = random(19 * 9, 5);
        try (Tensor src = Tensor.of(x, dims); Tensor back = Tensor.zeros(dims);
             NativeReorder toBlocked = NativeReorder.between(dims, dnnl_nchw(), dnnl_aBcd8b());
             NativeReorder toPlain = NativeReorder.between(dims, dnnl_aBcd8b(), dnnl_nchw());
             Tensor blocked = Tensor.zeros(toBlocked.dstBytes() / Float.BYTES)) {
            assertTrue(toBlocked.dstBytes() > src.segment().byteSize(), "blocked layout pads channels");
            toBlocked.run(src.segment(), blocked.segment());
            toPlain.run(blocked.segment(), back.segment());
            assertArrayEquals(x, back.toArray(), 0f);
        }
    }

    @Test
    void wrongShapeIsRejectedBeforeNativeCall() {
        try (Tensor src = Tensor.zeros(1, 8); Tensor dst = Tensor.zeros(1, 9);
             NativeEltwise relu = new NativeEltwise(EltwiseAlgorithm.RELU, 0f, 0f, 1, 8)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> relu.run(src, dst));
            assertTrue(e.getMessage().contains("[1, 9]"), e.getMessage());
        }
    }

    @Test
    void closedTensorIsRejected() {
        Tensor src = Tensor.zeros(1, 8);
        src.close();
        try (Tensor dst = Tensor.zeros(1, 8); NativeEltwise relu = new NativeEltwise(EltwiseAlgorithm.RELU, 0f, 0f, 1, 8)) {
            assertThrows(IllegalStateException.class, () -> relu.run(src, dst));
        }
    }
}
