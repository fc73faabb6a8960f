package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/**
 * DepthToSpace (opset 1+; {@code mode} from 11): N×C×H×W → N×(C/b²)×(H·b)×(W·b), b = blocksize.
 * {@code out[n][c][h·b+i][w·b+j] = in[n][(i·b+j)·C/b² + c][h][w]} in DCR mode (depth-column-row, the
 * default and the only mode before opset 11), {@code in[n][c·b² + i·b + j][h][w]} in CRD mode. Any dtype,
 * a fixed index map.
 */
public final class DepthToSpace implements Op {
    static void register(Registry.Table t) {
        t.add("DepthToSpace", 1, new DepthToSpace());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "input");
        long bs = blocksize(node, x);
        String mode = node.attributes().getString("mode", "DCR");
        if (ctx.opset() < 11 && node.attributes().has("mode")) throw error(node, "attribute mode is not valid before opset 11");
        if (!mode.equals("DCR") && !mode.equals("CRD")) throw error(node, "attribute mode='" + mode + "' must be DCR or CRD");
        boolean crd = mode.equals("CRD");
        if (x[1] % (bs * bs) != 0) throw error(node, "channels " + x[1] + " are not divisible by blocksize² = " + bs * bs);
        long n = x[0], c = x[1] / (bs * bs), h = x[2], w = x[3];
        long[] out = {n, c, h * bs, w * bs};
        int[] index = new int[arraySize(out, node)];
        arraySize(x, node);
        int at = 0;
        for (long b = 0; b < n; b++) {
            for (long oc = 0; oc < c; oc++) {
                for (long oy = 0; oy < h * bs; oy++) {
                    long y = oy / bs, i = oy % bs;
                    for (long ox = 0; ox < w * bs; ox++) {
                        long xx = ox / bs, j = ox % bs;
                        long ic = crd ? oc * bs * bs + i * bs + j : (i * bs + j) * c + oc;
                        index[at++] = (int) (((b * x[1] + ic) * h + y) * w + xx);
                    }
                }
            }
        }
        return indexStep(node, out, in.type(0), index, 0);
    }

    /** The required {@code blocksize} attribute (≥ 1), after checking that the input {@code x} is N×C×H×W; shared with SpaceToDepth. */
    static long blocksize(Node node, long[] x) {
        if (x.length != 4) throw error(node, "input " + format(x) + " must be 4-D (N×C×H×W)");
        if (!node.attributes().has("blocksize")) throw error(node, "attribute blocksize is required");
        return Checks.positive(node, "blocksize", node.attributes().getInt("blocksize", 0));
    }
}
