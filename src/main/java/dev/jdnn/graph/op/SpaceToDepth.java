package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/**
 * SpaceToDepth (opset 1+), the inverse of DepthToSpace in DCR mode: N×C×H×W → N×(C·b²)×(H/b)×(W/b),
 * {@code out[n][(i·b+j)·C + c][h][w] = in[n][c][h·b+i][w·b+j]}. Any dtype, a fixed index map.
 */
public final class SpaceToDepth implements Op {
    static void register(Registry.Table t) {
        t.add("SpaceToDepth", 1, new SpaceToDepth());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "input");
        long bs = DepthToSpace.blocksize(node, x);
        if (x[2] % bs != 0 || x[3] % bs != 0) throw error(node, "spatial size " + x[2] + "×" + x[3] + " is not divisible by blocksize " + bs);
        long n = x[0], c = x[1], h = x[2] / bs, w = x[3] / bs;
        long[] out = {n, c * bs * bs, h, w};
        int[] index = new int[arraySize(out, node)];
        int at = 0;
        for (long b = 0; b < n; b++) {
            for (long oc = 0; oc < c * bs * bs; oc++) {
                long ic = oc % c, ij = oc / c, i = ij / bs, j = ij % bs;
                for (long y = 0; y < h; y++) {
                    for (long xx = 0; xx < w; xx++) {
                        index[at++] = (int) (((b * c + ic) * x[2] + y * bs + i) * x[3] + xx * bs + j);
                    }
                }
            }
        }
        return indexStep(node, out, in.type(0), index, 0);
    }
}
