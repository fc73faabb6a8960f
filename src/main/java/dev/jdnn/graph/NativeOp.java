package dev.jdnn.graph;

import java.lang.foreign.MemorySegment;

/**
 * A node compiled for a {@link CompiledPlan}: a oneDNN primitive (or a plain copy) that reads its
 * runtime inputs and writes its output in memory layouts fixed at compile time. The plan reorders an
 * input whose layout differs from {@link #inputDesc}, and gives every frame its own buffers, scratchpad
 * and {@link Bound} argument list, so one compiled op serves concurrent runs.
 *
 * <p>Runtime inputs are the node's inputs that are not constants, in order; {@code i} below counts only those.
 */
public interface NativeOp extends AutoCloseable {
    /** The layout runtime input {@code i} must be in; null means dense row-major (plain). */
    MemorySegment inputDesc(int i);

    /** The layout of the output; null means dense row-major (plain). */
    MemorySegment outputDesc();

    /** Bytes of scratchpad one frame supplies (0 for none). */
    long scratchpadBytes();

    /** Native bytes of constant data this op reads (weights in its kernel's layout); possibly shared with other plans. */
    default long weightBytes() {
        return 0;
    }

    /**
     * Runtime input {@code i} whose buffer the output may take over (in-place execution) when nothing
     * reads that input afterwards; -1: none. With the sum post-op the output must start as that input,
     * so taking it over also saves the copy.
     */
    default int reusesInput() {
        return -1;
    }

    /**
     * The output is runtime input 0's bytes unchanged under other dimensions (a reshape of a plain tensor):
     * the plan may give the output input 0's buffer when nothing reads input 0 afterwards, although their
     * descriptors differ, and the op then copies nothing ({@link #bind} skips a copy onto itself).
     */
    default boolean sameBytesAsInput() {
        return false;
    }

    /** Binds one frame's buffers, once; the result runs the op on them with no allocation. */
    Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad);

    /** What it is, for messages and {@code explain}: op, shapes, chosen implementation. */
    String description();

    @Override
    void close();

    /** An op bound to one frame's buffers. */
    interface Bound extends AutoCloseable {
        void run();

        @Override
        default void close() {}
    }
}
