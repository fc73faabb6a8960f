package dev.jdnn;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class TensorTest {

    @Test
    void zerosAreZeroAndAligned() {
        try (Tensor t = Tensor.zeros(2, 3, 5)) {
            assertEquals(30, t.elementCount());
            assertEquals(30 * 4, t.segment().byteSize());
            assertEquals(0, t.segment().address() % Tensor.ALIGNMENT);
            for (float v : t.toArray()) assertEquals(0f, v);
        }
    }

    @Test
    void indexingIsRowMajor() {
        float[] v = new float[24];
        for (int i = 0; i < v.length; i++) v[i] = i;
        try (Tensor t = Tensor.of(v, 2, 3, 4)) {
            assertEquals(1 * 12 + 2 * 4 + 3, t.get(1, 2, 3));
            t.set(-1f, 0, 1, 2);
            assertEquals(-1f, t.getFlat(6));
            assertThrows(IndexOutOfBoundsException.class, () -> t.get(2, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> t.get(0, 0));
        }
    }

    @Test
    void ofRejectsWrongLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("[2, 3] holds 6 elements, got 5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -1));
    }

    @Test
    void reshapeAndSliceAreViewsSharingMemory() {
        float[] v = new float[12];
        for (int i = 0; i < v.length; i++) v[i] = i;
        try (Tensor t = Tensor.of(v, 3, 4)) {
            Tensor flat = t.reshape(-1);
            assertArrayEquals(new long[] {12}, flat.shape());
            flat.setFlat(5, 100f);
            assertEquals(100f, t.get(1, 1));
            Tensor rows = t.sliceBatch(1, 3);
            assertArrayEquals(new long[] {2, 4}, rows.shape());
            assertEquals(4f, rows.get(0, 0));
            assertEquals(100f, rows.get(0, 1));
            assertThrows(IllegalArgumentException.class, () -> t.reshape(5, -1));
            assertThrows(IllegalArgumentException.class, () -> t.reshape(5, 3));
            assertThrows(IllegalArgumentException.class, () -> t.sliceBatch(2, 4));
            rows.close();
            assertThrows(IllegalStateException.class, rows::toArray);
            assertEquals(4f, t.get(1, 0), "closing a view leaves the owner usable");
        }
    }

    @Test
    void closedTensorAndItsViewsThrowAndCloseIsIdempotent() {
        Tensor t = Tensor.zeros(2, 2);
        Tensor view = t.reshape(4);
        t.close();
        t.close();
        assertTrue(t.isClosed());
        assertTrue(view.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, t::segment);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> t.get(0, 0));
        assertThrows(IllegalStateException.class, () -> t.copyFrom(new float[4]));
        assertThrows(IllegalStateException.class, view::toArray);
        assertThrows(IllegalStateException.class, () -> Tensor.copyOf(t));
    }

    @Test
    void wrapBorrowsWithoutCopyAndChecksSizeAndAlignment() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = arena.allocate(6 * 4, 64);
            segment.setAtIndex(ValueLayout.JAVA_FLOAT, 4, 7f);
            Tensor t = Tensor.wrap(segment, 2, 3);
            assertEquals(7f, t.get(1, 1));
            t.set(9f, 0, 0);
            assertEquals(9f, segment.getAtIndex(ValueLayout.JAVA_FLOAT, 0), "no copy: writes reach the segment");
            t.close();
            assertEquals(9f, segment.getAtIndex(ValueLayout.JAVA_FLOAT, 0), "closing a wrap frees nothing");

            IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(segment, 2, 4));
            assertTrue(small.getMessage().contains("needs 32 bytes, segment has 24"), small.getMessage());
            IllegalArgumentException misaligned = assertThrows(IllegalArgumentException.class,
                    () -> Tensor.wrap(segment.asSlice(1, 20), 5));
            assertTrue(misaligned.getMessage().contains("not 4-byte aligned"), misaligned.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(MemorySegment.ofArray(new float[6]), 2, 3));
        }
    }

    @Test
    void copyFromChecksShapes() {
        try (Tensor a = Tensor.zeros(2, 3); Tensor b = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2)) {
            assertThrows(IllegalArgumentException.class, () -> a.copyFrom(b));
            assertThrows(IllegalArgumentException.class, () -> a.copyFrom(new float[5]));
            a.copyFrom(b.reshape(2, 3));
            assertArrayEquals(b.toArray(), a.toArray());
        }
    }
}
