package dev.jdnn.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MemoryDescsTest {
    @Test
    void dimsArePrintedAsOneDnnDoes() {
        assertEquals("1x3x224x224", MemoryDescs.dims(new long[] {1, 3, 224, 224}));
        assertEquals("1000", MemoryDescs.dims(new long[] {1000}));
        assertEquals("", MemoryDescs.dims(new long[0]));
    }
}
