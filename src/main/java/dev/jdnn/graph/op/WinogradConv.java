package dev.jdnn.graph.op;

import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.ops.winograd.NativeWinograd;
import dev.jdnn.ops.winograd.WinogradTile;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A conv chain of a compiled plan run as a {@link NativeWinograd} (chosen by timing in
 * {@link Conv#lowerChain}): the same runtime inputs (x, then the residual) and output as the direct
 * convolution it replaces, all channels-last (NHWC).
 */
final class WinogradConv {
    private WinogradConv() {}

    /** The tile sizes {@code mode} lets a layer choose from (empty: direct only). */
    static List<WinogradTile> tiles(Optimizations.Winograd mode) {
        return switch (mode) {
            case OFF -> List.of();
            case EXACT -> List.of(WinogradTile.F2X2);
            case FAST -> List.of(WinogradTile.F2X2, WinogradTile.F4X4);
        };
    }

    /** {@code conv} as a plan op, owning it; with {@code residual}, runtime input 1 is added in the output transform. */
    static NativeOp op(NativeWinograd conv, boolean residual, String description) {
        return new NativeOp() {
            @Override public MemorySegment inputDesc(int i) { return i == 0 ? conv.srcDesc() : conv.dstDesc(); }
            @Override public MemorySegment outputDesc() { return conv.dstDesc(); }
            @Override public long scratchpadBytes() { return 0; }
            // Each tile reads its residual before writing its output, so the output may take over the residual's buffer.
            @Override public int reusesInput() { return residual ? 1 : -1; }
            @Override public String description() { return description; }

            @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                NativeWinograd.Bound bound = conv.bind(inputs[0], output, residual ? inputs[1] : null);
                return new Bound() {
                    @Override public void run() { bound.run(); }
                    @Override public void close() { bound.close(); }
                };
            }

            @Override public void close() { conv.close(); }
        };
    }
}
