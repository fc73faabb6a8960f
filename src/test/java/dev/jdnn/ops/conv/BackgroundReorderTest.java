package dev.jdnn.ops.conv;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Tensor;
import java.lang.foreign.MemorySegment;
import dev.jdnn.dnnl.BackgroundWork;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Convolution weights reordered on a background thread ({@link NativeConv2d.Weights#reorderOn()}, what a plan's
 * preparation does): the convolution computes what the Java reference does, a failed reorder is reported by
 * whoever needs the weights and is not handed out again, and closing never frees memory a reorder still writes.
 */
class BackgroundReorderTest {
    static final Conv2dParams PARAMS = AutotuneCacheTest.PARAMS;
    static final long[] INPUT = AutotuneCacheTest.INPUT;

    final BackgroundWork background = new BackgroundWork();
    final SharedWeights shared = new SharedWeights();

    @AfterEach
    void stop() {
        background.close();
    }

    /** {@code conv}'s weights, written by {@code write} on the test's background thread; one source for sharing. */
    NativeConv2d.Weights weights(Conv2d conv, Runnable beforeWrite) {
        NativeConv2d.Weights plain = NativeConv2d.Weights.of(conv);
        SharedWeights.Source source = new SharedWeights.Source() {};
        return new NativeConv2d.Weights() {
            @Override public void writePlain(MemorySegment oihw) {
                beforeWrite.run();
                plain.writePlain(oihw);
            }
            @Override public float[] bias() { return plain.bias(); }
            @Override public SharedWeights.Source source() { return source; }
            @Override public BackgroundWork reorderOn() { return background; }
        };
    }

    @Test
    void backgroundWeightsComputeTheReferenceConvolution() {
        Conv2d conv = AutotuneCacheTest.conv();
        try (NativeConv2d c = new NativeConv2d(PARAMS, weights(conv, () -> {}), INPUT, NativeConv2d.PostOps.NONE, 0, shared);
             Tensor x = Tensor.zeros(INPUT); Tensor y = Tensor.zeros(PARAMS.outputShape(INPUT)); Tensor want = Tensor.zeros(PARAMS.outputShape(INPUT))) {
            assertEquals(PARAMS.weightCount() * Float.BYTES, c.weightBytes(), 4096, "the size is known before the bytes are written");
            for (long i = 0; i < x.elementCount(); i++) x.setFlat(i, (float) Math.sin(i));
            c.run(x, null, y);
            ReferenceConv2d.run(conv, x, want);
            assertArrayEquals(want.toArray(), y.toArray(), 1e-4f);
        }
        assertEquals(0, shared.bytes(), "closing the only user freed the weights");
    }

    @Test
    void aFailedReorderIsReportedWhereTheWeightsAreNeededAndNotReused() {
        Conv2d conv = AutotuneCacheTest.conv();
        IllegalStateException planted = new IllegalStateException("planted failure while writing weights");
        NativeConv2d.Weights failing = weights(conv, () -> { throw planted; });
        NativeConv2d first = new NativeConv2d(PARAMS, failing, INPUT, NativeConv2d.PostOps.NONE, 0, shared);
        assertSame(planted, assertThrows(IllegalStateException.class, first::awaitWeights));
        // The same source again: the failed entry is not handed out; this time the write fails again, reported again.
        try (NativeConv2d second = new NativeConv2d(PARAMS, failing, INPUT, NativeConv2d.PostOps.NONE, 0, shared)) {
            assertFalse(second.sharedWeights(), "a failed entry is not shared");
            assertThrows(IllegalStateException.class, second::awaitWeights);
        }
        first.close();
        assertThrows(IllegalStateException.class, () -> first.run(null, null, null), "closed");
        assertEquals(0, shared.bytes(), "closing the failed users freed their entries");
    }

    @Test
    void closingWaitsForAReorderStillRunning() throws Exception {
        CountDownLatch writing = new CountDownLatch(1), release = new CountDownLatch(1);
        NativeConv2d c = new NativeConv2d(PARAMS, weights(AutotuneCacheTest.conv(), () -> {
            writing.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }), INPUT, NativeConv2d.PostOps.NONE, 0, shared);
        assertTrue(writing.await(1, TimeUnit.MINUTES));
        Thread closer = Thread.ofPlatform().start(c::close);
        closer.join(300);
        assertTrue(closer.isAlive(), "close waits while the background thread writes the weights");
        release.countDown();
        closer.join(60_000);
        assertFalse(closer.isAlive());
        assertEquals(0, shared.bytes());
    }
}
