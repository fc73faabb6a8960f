package dev.jdnn.ops.winograd;

/**
 * The two Winograd algorithms jdnn runs for 3×3 convolutions (Lavin and Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2016): {@code F(m×m, 3×3)} computes an m×m output tile from an
 * α×α input tile (α = m + 2) with α² multiplications per channel pair instead of 9m²:
 * {@code Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A}.
 *
 * <p>The matrices are kept as exact rationals (numerator, denominator): the weight transform and the
 * reference evaluate them in double; the fast transforms hard-code the same coefficients.
 *
 * <ul>
 *   <li>{@link #F2X2}: 16 products for 36 (2.25× fewer); only ±1 and ½ in the transforms, so it is as
 *       exact as a direct convolution.</li>
 *   <li>{@link #F4X4}: 36 products for 144 (4× fewer); coefficients up to 8 in {@code A} and 5 in
 *       {@code B} lose ~10× more float precision (~1e-5 relative to the output range).</li>
 * </ul>
 */
public enum WinogradTile {
    F2X2(2,
            new long[][] {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}, 1,
            new long[][] {{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}}, 2,
            new long[][] {{1, 1, 1, 0}, {0, 1, -1, -1}}, 1),
    F4X4(4,
            new long[][] {{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0},
                    {0, 4, 0, -5, 0, 1}}, 1,
            // G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1] = this / 24
            new long[][] {{6, 0, 0}, {-4, -4, -4}, {-4, 4, -4}, {1, 2, 4}, {1, -2, 4}, {0, 0, 24}}, 24,
            new long[][] {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}, 1);

    /** Output tile side m. */
    public final int m;
    /** Input tile side α = m + 2. */
    public final int alpha;
    private final long[][] bt, g, at;
    private final long btDen, gDen, atDen;
    private final double[] gDouble;   // G (α×3) row-major, each entry the exact rational rounded once to double

    WinogradTile(int m, long[][] bt, long btDen, long[][] g, long gDen, long[][] at, long atDen) {
        this.m = m;
        this.alpha = m + 2;
        this.bt = bt;
        this.btDen = btDen;
        this.g = g;
        this.gDen = gDen;
        this.at = at;
        this.atDen = atDen;
        gDouble = new double[alpha * 3];
        for (int i = 0; i < alpha; i++) for (int j = 0; j < 3; j++) gDouble[i * 3 + j] = (double) g[i][j] / gDen;
    }

    /** Bᵀ[i][j] (α×α): input transform. */
    public double bt(int i, int j) {
        return (double) bt[i][j] / btDen;
    }

    /** G[i][j] (α×3): weight transform. */
    public double g(int i, int j) {
        return (double) g[i][j] / gDen;
    }

    /** Aᵀ[i][j] (m×α): output transform. */
    public double at(int i, int j) {
        return (double) at[i][j] / atDen;
    }

    /** "F(2×2,3×3)". */
    public String label() {
        return "F(" + m + "×" + m + ",3×3)";
    }

    /**
     * The weight transform {@code U = G g Gᵀ} of one 3×3 kernel {@code k[ky*3+kx]}, in double: α×α values, row-major.
     */
    public double[] transformKernel(float[] k, int offset) {
        double[] u = new double[alpha * alpha];
        transformKernel(k, offset, new double[alpha * 3], u);
        return u;
    }

    /**
     * {@link #transformKernel(float[], int)} into {@code u} (α² values), with {@code gk} (3α values) as scratch:
     * nothing allocated, for the millions of kernels of a big layer's weights (512→512: 262,144 kernels).
     */
    public void transformKernel(float[] k, int offset, double[] gk, double[] u) {
        double[] gm = gDouble;
        for (int i = 0; i < alpha; i++) {
            double g0 = gm[i * 3], g1 = gm[i * 3 + 1], g2 = gm[i * 3 + 2];
            for (int kx = 0; kx < 3; kx++) gk[i * 3 + kx] = g0 * k[offset + kx] + g1 * k[offset + 3 + kx] + g2 * k[offset + 6 + kx];
        }
        for (int i = 0; i < alpha; i++) {
            double a0 = gk[i * 3], a1 = gk[i * 3 + 1], a2 = gk[i * 3 + 2];
            for (int j = 0; j < alpha; j++) u[i * alpha + j] = a0 * gm[j * 3] + a1 * gm[j * 3 + 1] + a2 * gm[j * 3 + 2];
        }
    }
}
