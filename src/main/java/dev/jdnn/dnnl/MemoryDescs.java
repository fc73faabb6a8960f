package dev.jdnn.dnnl;

import static dev.jdnn.bindings.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Helpers for {@code dnnl_memory_desc_t}: every descriptor created here is owned by the arena
 * passed in and destroyed when it closes.
 */
public final class MemoryDescs {
    private MemoryDescs() {}

    /** Dimensions as oneDNN prints them, e.g. {@code 1x3x224x224}. */
    public static String dims(long[] dims) {
        return Arrays.stream(dims).mapToObj(Long::toString).collect(Collectors.joining("x"));
    }

    /** The row-major (C order) tag for a rank: {@code a}, {@code ab}, {@code abc}, ... */
    public static int plainTag(int rank) {
        return switch (rank) {
            case 1 -> dnnl_a();
            case 2 -> dnnl_ab();
            case 3 -> dnnl_abc();
            case 4 -> dnnl_abcd();
            case 5 -> dnnl_abcde();
            case 6 -> dnnl_abcdef();
            default -> throw new IllegalArgumentException("oneDNN plain layouts cover rank 1..6, got rank " + rank);
        };
    }

    /** f32 descriptor in the given format tag ({@code dnnl_format_tag_any} lets a primitive choose). */
    public static MemorySegment create(Arena owner, long[] dims, int tag) {
        if (dims.length < 1 || dims.length > DNNL_MAX_NDIMS()) {
            throw new IllegalArgumentException("rank must be 1.." + DNNL_MAX_NDIMS() + ", got " + dims.length);
        }
        for (long d : dims) {
            if (d <= 0) throw new IllegalArgumentException("dimensions must be positive, got " + dims(dims));
        }
        MemorySegment dimsSegment = owner.allocateFrom(C_LONG, dims);
        return Dnnl.create(owner, "dnnl_memory_desc_create_with_tag", "f32 " + dims(dims) + " tag " + tag,
                out -> dnnl_memory_desc_create_with_tag(out, dims.length, dimsSegment, dnnl_f32(), tag),
                md -> dnnl_memory_desc_destroy(md));
    }

    /** f32 descriptor for a dense row-major tensor of these dimensions. */
    public static MemorySegment plain(Arena owner, long[] dims) {
        return create(owner, dims, plainTag(dims.length));
    }

    /** A strided f32 descriptor: {@code dims} with element {@code strides}, owned by {@code owner}. */
    public static MemorySegment strided(Arena owner, long[] dims, long[] strides) {
        MemorySegment d = owner.allocateFrom(C_LONG, dims), s = owner.allocateFrom(C_LONG, strides);
        return Dnnl.create(owner, "dnnl_memory_desc_create_with_strides", "f32 " + dims(dims) + " strides " + dims(strides),
                out -> dnnl_memory_desc_create_with_strides(out, dims.length, d, dnnl_f32(), s), m -> dnnl_memory_desc_destroy(m));
    }

    /** f32 descriptor that lets the primitive pick the layout. */
    public static MemorySegment any(Arena owner, long[] dims) {
        return create(owner, dims, dnnl_format_tag_any());
    }

    /** A copy of {@code md} owned by {@code owner} (a queried descriptor lives only as long as its primitive). */
    public static MemorySegment clone(Arena owner, MemorySegment md) {
        return Dnnl.create(owner, "dnnl_memory_desc_clone", "memory desc", out -> dnnl_memory_desc_clone(out, md),
                m -> dnnl_memory_desc_destroy(m));
    }

    /** Bytes a buffer in this layout needs (blocked layouts may pad). */
    public static long size(MemorySegment md) {
        return dnnl_memory_desc_get_size(md);
    }

    public static boolean equal(MemorySegment a, MemorySegment b) {
        return dnnl_memory_desc_equal(a, b) != 0;
    }

    /** A descriptor a primitive desc reports (source, weights, destination, scratchpad...); owned by the primitive desc. */
    public static MemorySegment query(MemorySegment primitiveDesc, int what, int index) {
        MemorySegment md = dnnl_primitive_desc_query_md(primitiveDesc, what, index);
        if (md.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("primitive desc has no memory desc for query " + what + " index " + index);
        }
        return md;
    }
}
