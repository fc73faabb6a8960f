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
     * F(2×2,3×3): Bᵀ rows (1 0 −1 0 | 0 1 1 0 | 0 −1 1 0 | 0 1 0 −1), Aᵀ rows (1 1 1 0 | 0 1 −1 −1). The 4×4 tile
     * of a chunk is small enough to stay in vector registers through both passes (no scratch round trip).
     */
    static final class F2 implements Transforms {
        @Override public String kind() {
            return "vector";
        }

        @Override
        public void input(MemorySegment src, long base, long col, long row, int chunks, MemorySegment v, long vBase, long vPlane) {
            for (int ch = 0; ch < chunks; ch++) {
                long c = 32L * ch, r0 = base + c, r1 = r0 + row, r2 = r1 + row, r3 = r2 + row;
                // Row pass (d Bᵀ... per row i: d0 − d2, d1 + d2, d2 − d1, d1 − d3), one row of 4 vectors at a time.
                FloatVector a0 = fromMemorySegment(S, src, r0, ORDER), a1 = fromMemorySegment(S, src, r0 + col, ORDER),
                        a2 = fromMemorySegment(S, src, r0 + 2 * col, ORDER), a3 = fromMemorySegment(S, src, r0 + 3 * col, ORDER);
                FloatVector p00 = a0.sub(a2), p01 = a1.add(a2), p02 = a2.sub(a1), p03 = a1.sub(a3);
                a0 = fromMemorySegment(S, src, r1, ORDER); a1 = fromMemorySegment(S, src, r1 + col, ORDER);
                a2 = fromMemorySegment(S, src, r1 + 2 * col, ORDER); a3 = fromMemorySegment(S, src, r1 + 3 * col, ORDER);
                FloatVector p10 = a0.sub(a2), p11 = a1.add(a2), p12 = a2.sub(a1), p13 = a1.sub(a3);
                a0 = fromMemorySegment(S, src, r2, ORDER); a1 = fromMemorySegment(S, src, r2 + col, ORDER);
                a2 = fromMemorySegment(S, src, r2 + 2 * col, ORDER); a3 = fromMemorySegment(S, src, r2 + 3 * col, ORDER);
                FloatVector p20 = a0.sub(a2), p21 = a1.add(a2), p22 = a2.sub(a1), p23 = a1.sub(a3);
                a0 = fromMemorySegment(S, src, r3, ORDER); a1 = fromMemorySegment(S, src, r3 + col, ORDER);
                a2 = fromMemorySegment(S, src, r3 + 2 * col, ORDER); a3 = fromMemorySegment(S, src, r3 + 3 * col, ORDER);
                FloatVector p30 = a0.sub(a2), p31 = a1.add(a2), p32 = a2.sub(a1), p33 = a1.sub(a3);
                // Column pass, element (i, k) to plane 4·i + k: rows combine as the columns did.
                long o = vBase + c, p4 = 4 * vPlane;
                p00.sub(p20).intoMemorySegment(v, o, ORDER);
                p01.sub(p21).intoMemorySegment(v, o + vPlane, ORDER);
                p02.sub(p22).intoMemorySegment(v, o + 2 * vPlane, ORDER);
                p03.sub(p23).intoMemorySegment(v, o + 3 * vPlane, ORDER);
                o += p4;
                p10.add(p20).intoMemorySegment(v, o, ORDER);
                p11.add(p21).intoMemorySegment(v, o + vPlane, ORDER);
                p12.add(p22).intoMemorySegment(v, o + 2 * vPlane, ORDER);
                p13.add(p23).intoMemorySegment(v, o + 3 * vPlane, ORDER);
                o += p4;
                p20.sub(p10).intoMemorySegment(v, o, ORDER);
                p21.sub(p11).intoMemorySegment(v, o + vPlane, ORDER);
                p22.sub(p12).intoMemorySegment(v, o + 2 * vPlane, ORDER);
                p23.sub(p13).intoMemorySegment(v, o + 3 * vPlane, ORDER);
                o += p4;
                p10.sub(p30).intoMemorySegment(v, o, ORDER);
                p11.sub(p31).intoMemorySegment(v, o + vPlane, ORDER);
                p12.sub(p32).intoMemorySegment(v, o + 2 * vPlane, ORDER);
                p13.sub(p33).intoMemorySegment(v, o + 3 * vPlane, ORDER);
            }
        }

        @Override
        public void output(MemorySegment mm, long mBase, long mPlane, int chunks, float[] bias, float lo, float hi,
                           MemorySegment res, long rBase, long rCol, long rRow, MemorySegment dst, long dBase, long dCol, long dRow) {
            for (int ch = 0; ch < chunks; ch++) {
                long c = 32L * ch;
                // Row pass: row i of M (planes 4i..4i+3) → (m0 + m1 + m2, m1 − m2 − m3).
                long r = mBase + c;
                FloatVector m0 = fromMemorySegment(S, mm, r, ORDER), m1 = fromMemorySegment(S, mm, r + mPlane, ORDER),
                        m2 = fromMemorySegment(S, mm, r + 2 * mPlane, ORDER), m3 = fromMemorySegment(S, mm, r + 3 * mPlane, ORDER);
                FloatVector q00 = m0.add(m1).add(m2), q01 = m1.sub(m2).sub(m3);
                r += 4 * mPlane;
                m0 = fromMemorySegment(S, mm, r, ORDER); m1 = fromMemorySegment(S, mm, r + mPlane, ORDER);
                m2 = fromMemorySegment(S, mm, r + 2 * mPlane, ORDER); m3 = fromMemorySegment(S, mm, r + 3 * mPlane, ORDER);
                FloatVector q10 = m0.add(m1).add(m2), q11 = m1.sub(m2).sub(m3);
                r += 4 * mPlane;
                m0 = fromMemorySegment(S, mm, r, ORDER); m1 = fromMemorySegment(S, mm, r + mPlane, ORDER);
                m2 = fromMemorySegment(S, mm, r + 2 * mPlane, ORDER); m3 = fromMemorySegment(S, mm, r + 3 * mPlane, ORDER);
                FloatVector q20 = m0.add(m1).add(m2), q21 = m1.sub(m2).sub(m3);
                r += 4 * mPlane;
                m0 = fromMemorySegment(S, mm, r, ORDER); m1 = fromMemorySegment(S, mm, r + mPlane, ORDER);
                m2 = fromMemorySegment(S, mm, r + 2 * mPlane, ORDER); m3 = fromMemorySegment(S, mm, r + 3 * mPlane, ORDER);
                FloatVector q30 = m0.add(m1).add(m2), q31 = m1.sub(m2).sub(m3);
                // Column pass with bias: y(p, q) at dBase + p·dRow + q·dCol.
                FloatVector b = FloatVector.fromArray(S, bias, ch * 8);
                FloatVector y00 = q00.add(q10).add(q20).add(b), y01 = q01.add(q11).add(q21).add(b);
                FloatVector y10 = q10.sub(q20).sub(q30).add(b), y11 = q11.sub(q21).sub(q31).add(b);
                long o = dBase + c;
                if (res != null) {
                    long ro = rBase + c;
                    y00 = y00.add(fromMemorySegment(S, res, ro, ORDER));
                    y01 = y01.add(fromMemorySegment(S, res, ro + rCol, ORDER));
                    y10 = y10.add(fromMemorySegment(S, res, ro + rRow, ORDER));
                    y11 = y11.add(fromMemorySegment(S, res, ro + rRow + rCol, ORDER));
                }
                y00.max(lo).min(hi).intoMemorySegment(dst, o, ORDER);
                y01.max(lo).min(hi).intoMemorySegment(dst, o + dCol, ORDER);
                y10.max(lo).min(hi).intoMemorySegment(dst, o + dRow, ORDER);
                y11.max(lo).min(hi).intoMemorySegment(dst, o + dRow + dCol, ORDER);
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
