package dev.jdnn.ops.winograd;

import static jdk.incubator.vector.FloatVector.fromMemorySegment;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Transforms} on the Vector API: each channel chunk is one 8-lane float vector, and the 1-D
 * transforms are the factored add/sub/FMA sequences below (the same coefficients as
 * {@link WinogradTile}'s matrices). A 2-D transform is a row pass into a small on-heap scratch (α×α
 * vectors, L1-resident) and a column pass out of it, so each pass keeps only α vectors live.
 * Only loaded when {@code jdk.incubator.vector} is present.
 *
 * <p>Every vector is read by calling {@code FloatVector.fromMemorySegment} right here, never through a
 * helper of ours that returns a {@code FloatVector}: the Vector API's own methods are force-inlined, but a
 * helper is an ordinary call that C2 stops inlining once a big method like {@code F4.output} passes its
 * node budget ({@code NodeCountInliningCutoff}); the helper then runs out of line and must return its
 * vector boxed on the heap (a {@code Float256Vector} and its {@code float[]}, 64 bytes a load), which cost
 * 96 KB per ResNet-fixture run before ({@code WinogradPlanTest} now checks that a run allocates nothing).
 */
final class VectorTransforms {
    private VectorTransforms() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    static final ByteOrder ORDER = ByteOrder.nativeOrder();

    static Transforms create(WinogradTile tile) {
        return switch (tile) {
            case F2X2 -> new F2();
            case F4X4 -> new F4();
        };
    }

    /**
     * F(2×2,3×3): Bᵀ rows (1 0 −1 0 | 0 1 1 0 | 0 −1 1 0 | 0 1 0 −1), Aᵀ rows (1 1 1 0 | 0 1 −1 −1). Written as
     * loops over the tile's rows and columns through a small scratch (4×4 vectors, L1-resident), as F4 is:
     * fully unrolled, with 16 loads and 16 stores in one straight line, C2 took about a second to compile each
     * method (about 4 s of a ResNet-50's first result), and the Winograd layers cannot run before C2 has.
     */
    static final class F2 implements Transforms {
        private final float[] tmp = new float[16 * 8];

        @Override public String kind() {
            return "vector";
        }

        @Override
        public void input(MemorySegment src, long base, long col, long row, int chunks, MemorySegment v, long vBase, long vPlane) {
            for (int ch = 0; ch < chunks; ch++) {
                long c = 32L * ch;
                // Row pass, row i: (d0 − d2, d1 + d2, d2 − d1, d1 − d3) into tmp[i][0..3].
                for (int i = 0; i < 4; i++) {
                    long r = base + i * row + c;
                    FloatVector d0 = fromMemorySegment(S, src, r, ORDER), d1 = fromMemorySegment(S, src, r + col, ORDER),
                            d2 = fromMemorySegment(S, src, r + 2 * col, ORDER), d3 = fromMemorySegment(S, src, r + 3 * col, ORDER);
                    int t = i * 32;
                    d0.sub(d2).intoArray(tmp, t);
                    d1.add(d2).intoArray(tmp, t + 8);
                    d2.sub(d1).intoArray(tmp, t + 16);
                    d1.sub(d3).intoArray(tmp, t + 24);
                }
                // Column pass, column k: the rows combine as the columns did; element (i, k) goes to plane 4·i + k.
                for (int k = 0; k < 4; k++) {
                    FloatVector d0 = FloatVector.fromArray(S, tmp, k * 8), d1 = FloatVector.fromArray(S, tmp, 32 + k * 8),
                            d2 = FloatVector.fromArray(S, tmp, 64 + k * 8), d3 = FloatVector.fromArray(S, tmp, 96 + k * 8);
                    long o = vBase + k * vPlane + c;
                    d0.sub(d2).intoMemorySegment(v, o, ORDER);
                    d1.add(d2).intoMemorySegment(v, o + 4 * vPlane, ORDER);
                    d2.sub(d1).intoMemorySegment(v, o + 8 * vPlane, ORDER);
                    d1.sub(d3).intoMemorySegment(v, o + 12 * vPlane, ORDER);
                }
            }
        }

        @Override
        public void output(MemorySegment mm, long mBase, long mPlane, int chunks, float[] bias, float lo, float hi,
                           MemorySegment res, long rBase, long rCol, long rRow, MemorySegment dst, long dBase, long dCol, long dRow) {
            for (int ch = 0; ch < chunks; ch++) {
                long c = 32L * ch;
                // Row pass: row i of M (planes 4i..4i+3) → (m0 + m1 + m2, m1 − m2 − m3) into tmp[i][0..1].
                for (int i = 0; i < 4; i++) {
                    long r = mBase + 4 * i * mPlane + c;
                    FloatVector m0 = fromMemorySegment(S, mm, r, ORDER), m1 = fromMemorySegment(S, mm, r + mPlane, ORDER),
                            m2 = fromMemorySegment(S, mm, r + 2 * mPlane, ORDER), m3 = fromMemorySegment(S, mm, r + 3 * mPlane, ORDER);
                    int t = i * 16;
                    m0.add(m1).add(m2).intoArray(tmp, t);
                    m1.sub(m2).sub(m3).intoArray(tmp, t + 8);
                }
                // Column pass with bias, column q: y(p, q) at dBase + p·dRow + q·dCol.
                FloatVector b = FloatVector.fromArray(S, bias, ch * 8);
                for (int q = 0; q < 2; q++) {
                    FloatVector q0 = FloatVector.fromArray(S, tmp, q * 8), q1 = FloatVector.fromArray(S, tmp, 16 + q * 8),
                            q2 = FloatVector.fromArray(S, tmp, 32 + q * 8), q3 = FloatVector.fromArray(S, tmp, 48 + q * 8);
                    FloatVector y0 = q0.add(q1).add(q2).add(b), y1 = q1.sub(q2).sub(q3).add(b);
                    long o = dBase + q * dCol + c;
                    if (res != null) {
                        long ro = rBase + q * rCol + c;
                        y0 = y0.add(fromMemorySegment(S, res, ro, ORDER));
                        y1 = y1.add(fromMemorySegment(S, res, ro + rRow, ORDER));
                    }
                    y0.max(lo).min(hi).intoMemorySegment(dst, o, ORDER);
                    y1.max(lo).min(hi).intoMemorySegment(dst, o + dRow, ORDER);
                }
            }
        }
    }

    /**
     * F(4×4,3×3): Bᵀ rows (4 0 −5 0 1 0 | 0 −4 −4 1 1 0 | 0 4 −4 −1 1 0 | 0 −2 −1 2 1 0 | 0 2 −1 −2 1 0 | 0 4 0 −5 0 1),
     * Aᵀ rows (1 1 1 1 1 0 | 0 1 −1 2 −2 0 | 0 1 1 4 4 0 | 0 1 −1 8 −8 1).
     */
    static final class F4 implements Transforms {
        private final float[] tmp = new float[36 * 8];

        @Override public String kind() {
            return "vector";
        }

        @Override
        public void input(MemorySegment src, long base, long col, long row, int chunks, MemorySegment v, long vBase, long vPlane) {
            FloatVector four = FloatVector.broadcast(S, 4f), minusFour = FloatVector.broadcast(S, -4f), minusFive = FloatVector.broadcast(S, -5f);
            for (int ch = 0; ch < chunks; ch++) {
                long c = 32L * ch;
                for (int i = 0; i < 6; i++) {
                    long r = base + i * row + c;
                    FloatVector d0 = fromMemorySegment(S, src, r, ORDER), d1 = fromMemorySegment(S, src, r + col, ORDER),
                            d2 = fromMemorySegment(S, src, r + 2 * col, ORDER), d3 = fromMemorySegment(S, src, r + 3 * col, ORDER),
                            d4 = fromMemorySegment(S, src, r + 4 * col, ORDER), d5 = fromMemorySegment(S, src, r + 5 * col, ORDER);
                    int t = i * 48;
                    FloatVector t0 = d2.fma(minusFour, d4), t1 = d1.fma(minusFour, d3);
                    FloatVector t2 = d4.sub(d2), t3 = d3.sub(d1).mul(2f);
                    d0.fma(four, d2.fma(minusFive, d4)).intoArray(tmp, t);
                    t0.add(t1).intoArray(tmp, t + 8);
                    t0.sub(t1).intoArray(tmp, t + 16);
                    t2.add(t3).intoArray(tmp, t + 24);
                    t2.sub(t3).intoArray(tmp, t + 32);
                    d1.fma(four, d3.fma(minusFive, d5)).intoArray(tmp, t + 40);
                }
                for (int k = 0; k < 6; k++) {
                    FloatVector d0 = FloatVector.fromArray(S, tmp, k * 8), d1 = FloatVector.fromArray(S, tmp, 48 + k * 8),
                            d2 = FloatVector.fromArray(S, tmp, 96 + k * 8), d3 = FloatVector.fromArray(S, tmp, 144 + k * 8),
                            d4 = FloatVector.fromArray(S, tmp, 192 + k * 8), d5 = FloatVector.fromArray(S, tmp, 240 + k * 8);
                    long o = vBase + k * vPlane + c;
                    FloatVector t0 = d2.fma(minusFour, d4), t1 = d1.fma(minusFour, d3);
                    FloatVector t2 = d4.sub(d2), t3 = d3.sub(d1).mul(2f);
                    d0.fma(four, d2.fma(minusFive, d4)).intoMemorySegment(v, o, ORDER);
                    t0.add(t1).intoMemorySegment(v, o + 6 * vPlane, ORDER);
                    t0.sub(t1).intoMemorySegment(v, o + 12 * vPlane, ORDER);
                    t2.add(t3).intoMemorySegment(v, o + 18 * vPlane, ORDER);
                    t2.sub(t3).intoMemorySegment(v, o + 24 * vPlane, ORDER);
                    d1.fma(four, d3.fma(minusFive, d5)).intoMemorySegment(v, o + 30 * vPlane, ORDER);
                }
            }
        }

        @Override
        public void output(MemorySegment mm, long mBase, long mPlane, int chunks, float[] bias, float lo, float hi,
                           MemorySegment res, long rBase, long rCol, long rRow, MemorySegment dst, long dBase, long dCol, long dRow) {
            FloatVector two = FloatVector.broadcast(S, 2f), four = FloatVector.broadcast(S, 4f), eight = FloatVector.broadcast(S, 8f);
            for (int ch = 0; ch < chunks; ch++) {
                long c = 32L * ch;
                for (int i = 0; i < 6; i++) {
                    long r = mBase + 6 * i * mPlane + c;
                    FloatVector m0 = fromMemorySegment(S, mm, r, ORDER), m1 = fromMemorySegment(S, mm, r + mPlane, ORDER),
                            m2 = fromMemorySegment(S, mm, r + 2 * mPlane, ORDER), m3 = fromMemorySegment(S, mm, r + 3 * mPlane, ORDER),
                            m4 = fromMemorySegment(S, mm, r + 4 * mPlane, ORDER), m5 = fromMemorySegment(S, mm, r + 5 * mPlane, ORDER);
                    FloatVector a = m1.add(m2), b = m1.sub(m2), cc = m3.add(m4), d = m3.sub(m4);
                    int t = i * 32;
                    m0.add(a).add(cc).intoArray(tmp, t);
                    d.fma(two, b).intoArray(tmp, t + 8);
                    cc.fma(four, a).intoArray(tmp, t + 16);
                    d.fma(eight, b).add(m5).intoArray(tmp, t + 24);
                }
                FloatVector bv = FloatVector.fromArray(S, bias, ch * 8);
                for (int q = 0; q < 4; q++) {
                    FloatVector m0 = FloatVector.fromArray(S, tmp, q * 8), m1 = FloatVector.fromArray(S, tmp, 32 + q * 8),
                            m2 = FloatVector.fromArray(S, tmp, 64 + q * 8), m3 = FloatVector.fromArray(S, tmp, 96 + q * 8),
                            m4 = FloatVector.fromArray(S, tmp, 128 + q * 8), m5 = FloatVector.fromArray(S, tmp, 160 + q * 8);
                    FloatVector a = m1.add(m2), b = m1.sub(m2), cc = m3.add(m4), d = m3.sub(m4);
                    FloatVector y0 = m0.add(a).add(cc).add(bv), y1 = d.fma(two, b).add(bv), y2 = cc.fma(four, a).add(bv), y3 = d.fma(eight, b).add(m5).add(bv);
                    long o = dBase + q * dCol + c;
                    if (res != null) {
                        long ro = rBase + q * rCol + c;
                        y0 = y0.add(fromMemorySegment(S, res, ro, ORDER));
                        y1 = y1.add(fromMemorySegment(S, res, ro + rRow, ORDER));
                        y2 = y2.add(fromMemorySegment(S, res, ro + 2 * rRow, ORDER));
                        y3 = y3.add(fromMemorySegment(S, res, ro + 3 * rRow, ORDER));
                    }
                    y0.max(lo).min(hi).intoMemorySegment(dst, o, ORDER);
                    y1.max(lo).min(hi).intoMemorySegment(dst, o + dRow, ORDER);
                    y2.max(lo).min(hi).intoMemorySegment(dst, o + 2 * dRow, ORDER);
                    y3.max(lo).min(hi).intoMemorySegment(dst, o + 3 * dRow, ORDER);
                }
            }
        }
    }
}
