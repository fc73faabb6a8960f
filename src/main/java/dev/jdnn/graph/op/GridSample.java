package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import java.util.Arrays;

/**
 * GridSample (opsets 16, 20): samples X at the points of a grid of normalised coordinates, as PyTorch's
 * {@code F.grid_sample} does.
 * <pre>
 *   X N×C×H×W,     grid N×Ho×Wo×2     (x, y) → Y N×C×Ho×Wo          (opset 16+)
 *   X N×C×D×H×W,   grid N×Do×Ho×Wo×3  (x, y, z) → Y N×C×Do×Ho×Wo    (opset 20+)
 * </pre>
 * A grid value g in [−1, 1] spans an axis of size n: with {@code align_corners=1} −1 and 1 are the centres
 * of the first and last element ({@code (g + 1)/2·(n − 1)}), with 0 (default) their outer edges
 * ({@code ((g + 1)·n − 1)/2}). {@code padding_mode} says what a point outside X reads: {@code zeros} (0),
 * {@code border} (the coordinate clamped to [0, n − 1]) or {@code reflection} (reflected at the borders
 * (align_corners=1: the edge centres; 0: the outer edges) until inside, then clamped).
 * {@code mode} (opset 16: bilinear, nearest, bicubic; opset 20: linear, nearest, cubic):
 * <ul>
 *   <li>linear: the 2 (per axis) neighbours weighted by distance; a neighbour outside X counts as 0;</li>
 *   <li>nearest: the neighbour at the coordinate rounded half to even (PyTorch's {@code nearbyint});</li>
 *   <li>cubic (4-D only; PyTorch has no 3-D bicubic): the 4×4 neighbours with the cubic convolution
 *       kernel, A = −0.75; the padding applies to each neighbour's integer coordinate, not to the point.</li>
 * </ul>
 * The arithmetic is PyTorch's CPU kernels' in float32, in their order, so nearest picks the same pixel at
 * ties: 4-D as the vectorised 2-D kernel ({@code (g + 1)·((n − 1)/2)}, {@code (g + 1)·(n/2) − 0.5}, reflection
 * by folding modulo twice the span), 5-D as the scalar 3-D kernel ({@code ((g + 1)/2)·(n − 1)},
 * {@code ((g + 1)·n − 1)/2}, fmod reflection). A NaN grid coordinate gives NaN (linear, cubic) or 0
 * (nearest), as PyTorch's 2-D kernel. Java: oneDNN has no grid sampling primitive.
 */
public final class GridSample implements Op {
    static void register(Registry.Table t) {
        t.add("GridSample", 16, new GridSample());
    }

    enum Mode { LINEAR, NEAREST, CUBIC }

    enum Padding { ZEROS, BORDER, REFLECTION }

    /** Cubic convolution coefficient, as PyTorch's grid sampler (and Resize's cubic default). */
    private static final float A = -0.75f;

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        in.requireFloat(0, node, "X");
        long[] grid = in.require(1, node, "grid");
        in.requireFloat(1, node, "grid");
        Mode mode = mode(node, ctx.opset());
        Padding padding = switch (node.attributes().getString("padding_mode", "zeros")) {
            case "zeros" -> Padding.ZEROS;
            case "border" -> Padding.BORDER;
            case "reflection" -> Padding.REFLECTION;
            default -> throw error(node, "padding_mode '" + node.attributes().getString("padding_mode", "") + "' is not one of zeros, border, reflection");
        };
        boolean alignCorners = Checks.flag(node, "align_corners", node.attributes().getInt("align_corners", 0));
        if (x.length == 5 && ctx.opset() < 20) throw error(node, "X " + format(x) + " is 5-D; GridSample takes N-D input from opset 20 on (this model has opset " + ctx.opset() + ": 4-D only)");
        if (x.length != 4 && x.length != 5) throw error(node, "X " + format(x) + " must be N×C×H×W or N×C×D×H×W (jdnn samples 2-D and 3-D grids)");
        if (x.length == 5 && mode == Mode.CUBIC) throw error(node, "cubic mode on 5-D X " + format(x) + " is not supported (PyTorch has no 3-D bicubic grid_sample; use linear or nearest)");
        int spatial = x.length - 2;
        if (grid.length != x.length || grid[spatial + 1] != spatial || grid[0] != x[0]) {
            throw error(node, "grid " + format(grid) + " must be N×" + (spatial == 2 ? "Ho×Wo×2" : "Do×Ho×Wo×3") + " with X's N for X " + format(x));
        }
        long[] out = new long[x.length];
        out[0] = x[0];
        out[1] = x[1];
        System.arraycopy(grid, 1, out, 2, spatial);
        arraySize(x, node);
        arraySize(grid, node);
        arraySize(out, node);
        Sampler sampler = new Sampler(x, out, mode, padding, alignCorners);
        return step(out, inputs -> result(sampler.sample(floats(inputs, 0, node).toArray(), floats(inputs, 1, node).toArray()), out));
    }

    private static Mode mode(Node node, int opset) {
        String name = node.attributes().getString("mode", opset >= 20 ? "linear" : "bilinear");
        String[] names = opset >= 20 ? new String[] {"linear", "nearest", "cubic"} : new String[] {"bilinear", "nearest", "bicubic"};
        for (int i = 0; i < names.length; i++) if (names[i].equals(name)) return Mode.values()[i];
        throw error(node, "mode '" + name + "' is not one of " + String.join(", ", names) + " (GridSample at opset " + opset + ")");
    }

    /**
     * One spatial axis of X: maps a grid value to a source coordinate.
     *
     * @param vectorized PyTorch's vectorised 2-D kernel's formulas (else its scalar 3-D kernel's)
     */
    record Axis(int size, boolean alignCorners, Padding padding, boolean vectorized) {
        /** Grid value in [−1, 1] → coordinate in X's elements (not yet padded). */
        float unnormalize(float g) {
            if (vectorized) return alignCorners ? (g + 1) * ((float) (size - 1) / 2) : (g + 1) * ((float) size / 2) - 0.5f;
            return alignCorners ? ((g + 1) / 2) * (size - 1) : ((g + 1) * size - 1) / 2;
        }

        /** The padding mode applied to a coordinate (PyTorch's {@code compute_coordinates}). */
        float pad(float c) {
            return switch (padding) {
                case ZEROS -> c;
                case BORDER -> clip(c);
                case REFLECTION -> clip(reflect(c));
            };
        }

        float source(float g) {
            return pad(unnormalize(g));
        }

        private float clip(float c) {
            return Math.min(size - 1f, Math.max(c, 0f));
        }

        /** Reflects c at the borders (edge centres or outer edges) until it is within them. */
        private float reflect(float c) {
            if (vectorized) {
                if (alignCorners ? size <= 1 : size <= 0) return 0;
                float low = alignCorners ? 0 : -0.5f, twiceSpan = alignCorners ? (size - 1) * 2f : size * 2f;
                float abs = Math.abs(c - low);
                float doubleFlips = (float) Math.floor(abs / twiceSpan); // PyTorch truncates; the quotient is >= 0
                float extra = abs - doubleFlips * twiceSpan;
                return Math.min(extra, twiceSpan - extra) + low;
            }
            int twiceLow = alignCorners ? 0 : -1, twiceHigh = alignCorners ? 2 * (size - 1) : 2 * size - 1;
            if (twiceLow == twiceHigh) return 0;
            float min = twiceLow / 2f, span = (twiceHigh - twiceLow) / 2f;
            float in = Math.abs(c - min);
            float extra = in % span;
            double flips = Math.floor(in / span);
            return flips % 2 == 0 ? extra + min : span - extra + min;
        }

        /** Whether the integral coordinate c is an element of the axis (false for NaN). */
        boolean contains(float c) {
            return c >= 0 && c <= size - 1;
        }
    }

    /** The prepared kernel: shapes as ints, one {@link Axis} per spatial axis (depth 1 for 4-D). */
    static final class Sampler {
        private final int batch, channels, inPlane, outPoints, spatial;
        private final Axis ax, ay, az;
        private final int inW, inHW;
        private final Mode mode;

        Sampler(long[] x, long[] out, Mode mode, Padding padding, boolean alignCorners) {
            this.spatial = x.length - 2;
            this.batch = (int) x[0];
            this.channels = (int) x[1];
            this.mode = mode;
            boolean vectorized = spatial == 2;
            int inD = spatial == 3 ? (int) x[2] : 1;
            int inH = (int) x[x.length - 2];
            this.inW = (int) x[x.length - 1];
            this.inHW = inH * inW;
            this.inPlane = inD * inHW;
            int points = 1;
            for (int i = 2; i < out.length; i++) points *= (int) out[i];
            this.outPoints = points;
            this.ax = new Axis(inW, alignCorners, padding, vectorized);
            this.ay = new Axis(inH, alignCorners, padding, vectorized);
            this.az = new Axis(inD, alignCorners, padding, vectorized);
        }

        /** X (N×C×[D×]H×W) sampled at grid (N×[Do×]Ho×Wo×spatial) → N×C×[Do×]Ho×Wo. */
        float[] sample(float[] src, float[] grid) {
            float[] dst = new float[batch * channels * outPoints];
            // Per output point: the taps' offsets within a plane (−1: outside X) and weights, reused.
            int taps = mode == Mode.NEAREST ? 1 : mode == Mode.CUBIC ? 16 : (spatial == 3 ? 8 : 4);
            int[] offset = new int[taps];
            float[] weight = new float[taps];
            float[] cx = new float[4], cy = new float[4];
            for (int n = 0; n < batch; n++) {
                for (int p = 0; p < outPoints; p++) {
                    int g = (n * outPoints + p) * spatial;
                    switch (mode) {
                        case NEAREST -> nearestTap(grid, g, offset, weight);
                        case LINEAR -> linearTaps(grid, g, offset, weight);
                        case CUBIC -> cubicTaps(grid, g, offset, cx, cy);
                    }
                    for (int c = 0; c < channels; c++) {
                        int plane = (n * channels + c) * inPlane;
                        float value;
                        if (mode == Mode.CUBIC) {
                            value = 0;
                            for (int i = 0; i < 4; i++) {
                                float row = cx[0] * at(src, plane, offset[4 * i]) + cx[1] * at(src, plane, offset[4 * i + 1])
                                        + cx[2] * at(src, plane, offset[4 * i + 2]) + cx[3] * at(src, plane, offset[4 * i + 3]);
                                value = i == 0 ? cy[0] * row : value + cy[i] * row;
                            }
                        } else if (mode == Mode.NEAREST) {
                            value = at(src, plane, offset[0]);
                        } else {
                            value = at(src, plane, offset[0]) * weight[0];
                            for (int t = 1; t < taps; t++) value += at(src, plane, offset[t]) * weight[t];
                        }
                        dst[(n * channels + c) * outPoints + p] = value;
                    }
                }
            }
            return dst;
        }

        private static float at(float[] src, int plane, int offset) {
            return offset < 0 ? 0 : src[plane + offset];
        }

        /** Offset of integral coordinates (z, y, x) within a plane, or −1 if outside X. */
        private int offset(float z, float y, float x) {
            if (!az.contains(z) || !ay.contains(y) || !ax.contains(x)) return -1;
            return (int) z * inHW + (int) y * inW + (int) x;
        }

        private void nearestTap(float[] grid, int g, int[] offset, float[] weight) {
            float x = (float) Math.rint(ax.source(grid[g])), y = (float) Math.rint(ay.source(grid[g + 1]));
            float z = spatial == 3 ? (float) Math.rint(az.source(grid[g + 2])) : 0;
            offset[0] = offset(z, y, x);
            weight[0] = 1;
        }

        /** The 4 (2-D: nw, ne, sw, se) or 8 (3-D: z outermost) neighbours and their weights. */
        private void linearTaps(float[] grid, int g, int[] offset, float[] weight) {
            float x = ax.source(grid[g]), y = ay.source(grid[g + 1]);
            float z = spatial == 3 ? az.source(grid[g + 2]) : 0;
            float x0 = (float) Math.floor(x), y0 = (float) Math.floor(y), z0 = (float) Math.floor(z);
            float tx = x - x0, ty = y - y0, tz = z - z0;
            int t = 0;
            for (int dz = 0; dz < (spatial == 3 ? 2 : 1); dz++) {
                float wz = dz == 0 ? 1 - tz : tz;
                for (int dy = 0; dy < 2; dy++) {
                    float wzy = spatial == 3 ? wz * (dy == 0 ? 1 - ty : ty) : (dy == 0 ? 1 - ty : ty);
                    for (int dx = 0; dx < 2; dx++) {
                        weight[t] = wzy * (dx == 0 ? 1 - tx : tx);
                        offset[t++] = offset(z0 + dz, y0 + dy, x0 + dx);
                    }
                }
            }
        }

        /** The 4×4 neighbours (row-major, y outer) and the x and y cubic coefficients (2-D only). */
        private void cubicTaps(float[] grid, int g, int[] offset, float[] cx, float[] cy) {
            float x = ax.unnormalize(grid[g]), y = ay.unnormalize(grid[g + 1]);
            float x0 = (float) Math.floor(x), y0 = (float) Math.floor(y);
            coefficients(x - x0, cx);
            coefficients(y - y0, cy);
            for (int i = 0; i < 4; i++) {
                float yi = ay.pad(y0 - 1 + i);
                for (int j = 0; j < 4; j++) offset[4 * i + j] = offset(0, yi, ax.pad(x0 - 1 + j));
            }
        }

        /** Cubic convolution weights of the taps at distances 1 + t, t, 1 − t, 2 − t (PyTorch's formulas). */
        private static void coefficients(float t, float[] c) {
            float x = t + 1;
            c[0] = ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
            x = t;
            c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
            x = 1 - t;
            c[2] = ((A + 2) * x - (A + 3)) * x * x + 1;
            x = 2 - t;
            c[3] = ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
        }

        @Override
        public String toString() {
            return "GridSample " + mode + " " + Arrays.asList(ax, ay, az);
        }
    }
}
