package dev.jdnn.ops.winograd;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.dnnl.BackgroundWork;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link NativeWinograd}'s weights transformed and packed on a plan's {@link BackgroundWork} thread: the same bits
 * as packed in place, also when the background thread's scratch buffer was left full of another layer's weights
 * (a layer with padding channels must not see them), and closing before the packing ran is safe.
 */
class WinogradPackingTest {
    private static Conv2d layer(int c, int k, long seed) {
        Random r = new Random(seed);
        return new Conv2d(Conv2dParams.of(c, k, 3, 3).withPadding(1, 1, 1, 1), WinogradConvTest.random(r, k * c * 9, 0.3),
                WinogradConvTest.random(r, k, 1));
    }

    /** The layer run in place (no background work bound) and run after packing on {@code background}, bit for bit. */
    private static void assertSameBits(Conv2d conv, long[] input, BackgroundWork background, List<NativeWinograd> madeThere) {
        float[] x = WinogradConvTest.random(new Random(7), (int) (input[0] * input[1] * input[2] * input[3]), 1);
        float[] inPlace = WinogradConvTest.nativeWinograd(conv, x, input, NativeConv2d.PostOps.NONE, null, WinogradTile.F2X2, 1,
                NativeWinograd.DEFAULT_BLOCK_TILES);
        NativeWinograd packedThere = ScopedValue.where(BackgroundWork.CURRENT, background)
                .call(() -> new NativeWinograd(conv, input, NativeConv2d.PostOps.NONE, WinogradTile.F2X2, 1));
        madeThere.add(packedThere);
        float[] expected = WinogradConvTest.direct(conv, x, input);
        assertTrue(WinogradConvTest.relativeError(expected, inPlace) < WinogradConvTest.bound(WinogradTile.F2X2));
        assertArrayEquals(inPlace, WinogradConvTest.run(packedThere, conv, x, input), "packed on the background thread: other bits than packed in place");
    }

    @Test
    void packingOnTheBackgroundThreadGivesTheSameBits() {
        List<NativeWinograd> made = new ArrayList<>();
        try (BackgroundWork background = new BackgroundWork()) {
            // First a layer that fills the shared scratch with nonzero U, then ones with padding channels (C, K not multiples of 8).
            assertSameBits(layer(32, 40, 1), new long[] {1, 32, 9, 10}, background, made);
            assertSameBits(layer(5, 7, 2), new long[] {2, 5, 11, 8}, background, made);
            assertSameBits(layer(13, 3, 3), new long[] {1, 13, 6, 7}, background, made);
            background.await();
        } finally {
            for (NativeWinograd w : made) w.close();
        }
    }

    @Test
    void closingBeforeThePackingRanIsSafe() {
        try (BackgroundWork background = new BackgroundWork()) {
            List<NativeWinograd> made = new ArrayList<>();
            ScopedValue.where(BackgroundWork.CURRENT, background).run(() -> {
                for (int i = 0; i < 4; i++) made.add(new NativeWinograd(layer(64, 64, 10 + i), new long[] {1, 64, 28, 28}, NativeConv2d.PostOps.NONE,
                        WinogradTile.F2X2, 1));
            });
            for (NativeWinograd w : made) w.close();   // some packings are still queued or running: dropped or waited for
            for (NativeWinograd w : made) {
                w.close();   // idempotent
                assertThrows(IllegalStateException.class, () -> w.bind(java.lang.foreign.MemorySegment.NULL, null, null));
            }
        }
    }
}
