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

    WinogradTile(int m, long[][] bt, long btDen, long[][] g, long gDen, long[][] at, long atDen) {
        this.m = m;
        this.alpha = m + 2;
        this.bt = bt;
        this.btDen = btDen;
        this.g = g;
        this.gDen = gDen;
        this.at = at;
        this.atDen = atDen;
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
        double[] gk = new double[alpha * 3];
        for (int i = 0; i < alpha; i++) {
            for (int kx = 0; kx < 3; kx++) {
                double s = 0;
                for (int ky = 0; ky < 3; ky++) s += g(i, ky) * k[offset + ky * 3 + kx];
                gk[i * 3 + kx] = s;
            }
        }
        double[] u = new double[alpha * alpha];
        for (int i = 0; i < alpha; i++) {
            for (int j = 0; j < alpha; j++) {
                double s = 0;
                for (int kx = 0; kx < 3; kx++) s += gk[i * 3 + kx] * g(j, kx);
                u[i * alpha + j] = s;
            }
        }
        return u;
    }
}
