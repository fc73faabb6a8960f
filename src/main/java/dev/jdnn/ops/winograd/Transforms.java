package dev.jdnn.ops.winograd;

import java.lang.foreign.MemorySegment;

/**
 * The input and output transforms of one tile, over channels innermost: every offset and stride is in
 * bytes, and a "chunk" is 8 consecutive channels (32 bytes), the unit the inner loops run over with the
 * same scalar coefficients for every lane. One instance per worker thread (it owns its scratch).
 *
 * <p>Two implementations: {@link VectorTransforms} (the Vector API, 8-lane float vectors, coefficients
 * hard-coded as adds, subtracts and FMAs) when {@code jdk.incubator.vector} is in the boot layer, else
 * {@link ScalarTransforms} (plain loops over the matrices of {@link WinogradTile}).
 */
interface Transforms {
    /** Whether the Vector API is there ({@code --add-modules jdk.incubator.vector}). */
    boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !Boolean.getBoolean("jdnn.winograd.scalar");

    static Transforms create(WinogradTile tile) {
        return VECTOR_API ? VectorTransforms.create(tile) : new ScalarTransforms(tile);
    }

    /**
     * {@code V = Bᵀ d B} of the α×α patch {@code d} at {@code src + base} (pixel j of row i at
     * {@code base + i·row + j·col}, its channel chunk ch at {@code + 32·ch}); element ξ = (i, j) of the
     * result goes to {@code v + vBase + ξ·vPlane + 32·ch}.
     */
    void input(MemorySegment src, long base, long col, long row, int chunks, MemorySegment v, long vBase, long vPlane);

    /**
     * {@code Y = clamp(Aᵀ M A + bias [+ residual], lo, hi)} of one tile: {@code M} element ξ at
     * {@code mm + mBase + ξ·mPlane}, the m×m result (and the residual, when {@code res} is not null) at
     * {@code dBase + p·dRow + q·dCol} (residual at {@code rBase + p·rRow + q·rCol}), 8 channels a chunk;
     * {@code bias} holds at least 8·chunks values.
     */
    void output(MemorySegment mm, long mBase, long mPlane, int chunks, float[] bias, float lo, float hi,
                MemorySegment res, long rBase, long rCol, long rRow, MemorySegment dst, long dBase, long dCol, long dRow);

    /** For explain: "vector" or "scalar". */
    String kind();
}
