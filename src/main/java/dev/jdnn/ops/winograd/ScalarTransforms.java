package dev.jdnn.ops.winograd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link Transforms} as plain loops over the matrices of {@link WinogradTile} (float coefficients), for
 * JVMs started without {@code jdk.incubator.vector}: correct for every tile, not tuned.
 */
final class ScalarTransforms implements Transforms {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private final int m, a;
    private final float[] bt, at;
    private final float[] tmp, tile;

    ScalarTransforms(WinogradTile t) {
        m = t.m;
        a = t.alpha;
        bt = new float[a * a];
        at = new float[m * a];
        for (int i = 0; i < a; i++) for (int j = 0; j < a; j++) bt[i * a + j] = (float) t.bt(i, j);
        for (int i = 0; i < m; i++) for (int j = 0; j < a; j++) at[i * a + j] = (float) t.at(i, j);
        tmp = new float[a * a];
        tile = new float[a * a];
    }

    @Override public String kind() {
        return "scalar";
    }

    @Override
    public void input(MemorySegment src, long base, long col, long row, int chunks, MemorySegment v, long vBase, long vPlane) {
        for (int c = 0; c < chunks * 8; c++) {
            long off = 4L * c;
            for (int i = 0; i < a; i++) for (int j = 0; j < a; j++) tile[i * a + j] = src.get(F, base + i * row + j * col + off);
            // tmp = d B (rows), then Bᵀ tmp (columns).
            for (int i = 0; i < a; i++) {
                for (int k = 0; k < a; k++) {
                    float s = 0;
                    for (int j = 0; j < a; j++) s += tile[i * a + j] * bt[k * a + j];
                    tmp[i * a + k] = s;
                }
            }
            for (int i = 0; i < a; i++) {
                for (int k = 0; k < a; k++) {
                    float s = 0;
                    for (int j = 0; j < a; j++) s += bt[i * a + j] * tmp[j * a + k];
                    v.set(F, vBase + (i * a + k) * vPlane + off, s);
                }
            }
        }
    }

    @Override
    public void output(MemorySegment mm, long mBase, long mPlane, int chunks, float[] bias, float lo, float hi,
                       MemorySegment res, long rBase, long rCol, long rRow, MemorySegment dst, long dBase, long dCol, long dRow) {
        for (int c = 0; c < chunks * 8; c++) {
            long off = 4L * c;
            for (int e = 0; e < a * a; e++) tile[e] = mm.get(F, mBase + e * mPlane + off);
            for (int i = 0; i < a; i++) {
                for (int q = 0; q < m; q++) {
                    float s = 0;
                    for (int j = 0; j < a; j++) s += tile[i * a + j] * at[q * a + j];
                    tmp[i * m + q] = s;
                }
            }
            for (int p = 0; p < m; p++) {
                for (int q = 0; q < m; q++) {
                    float s = 0;
                    for (int i = 0; i < a; i++) s += at[p * a + i] * tmp[i * m + q];
                    s += bias[c];
                    if (res != null) s += res.get(F, rBase + p * rRow + q * rCol + off);
                    dst.set(F, dBase + p * dRow + q * dCol + off, Math.min(Math.max(s, lo), hi));
                }
            }
        }
    }
}
