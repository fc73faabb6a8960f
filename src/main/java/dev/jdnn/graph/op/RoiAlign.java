package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import java.util.List;

/**
 * RoiAlign (10, 16): bilinear pooling of each region of interest into a fixed grid, as Mask R-CNN and
 * torchvision's MultiScaleRoIAlign do it. {@code X N×C×H×W, rois R×4 ([x1, y1, x2, y2] in image
 * coordinates), batch_indices R (int64) → Y R×C×output_height×output_width}. Each roi is scaled by
 * spatial_scale and, with coordinate_transformation_mode=half_pixel (opset 16's default; torchvision's
 * aligned=True) shifted by −0.5 pixel; with output_half_pixel (the only behaviour of opset 10; aligned=False)
 * it is not shifted and is at least 1×1. Each output bin averages (mode=avg) sampling_ratio² bilinear
 * samples, or ⌈roi_h/output_height⌉×⌈roi_w/output_width⌉ of them when sampling_ratio is 0; samples
 * more than one pixel outside X count as 0. mode=max takes, as ONNX's reference and ONNX Runtime do, the
 * largest of the weighted corner terms {@code w·x} over the samples (not the largest interpolated value).
 * Float32 X and rois, int64 batch indices (checked against N when the plan runs); Java only: a compiled
 * plan runs the convolutions around it natively and hands it plain tensors.
 */
public final class RoiAlign implements Op {
    static void register(Registry.Table t) {
        t.add("RoiAlign", 10, new RoiAlign());
    }

    /** At most this many bilinear samples along each side of an output bin (an adaptive grid on an absurd roi would loop for ever). */
    static final int MAX_SAMPLES_PER_AXIS = 256;

    /** The checked attributes. */
    private record Settings(boolean max, int outHeight, int outWidth, int samplingRatio, float spatialScale, boolean halfPixel) {}

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        long[] rois = in.require(1, node, "rois");
        long[] batchIndices = in.require(2, node, "batch_indices");
        in.requireFloat(0, node, "X");
        in.requireFloat(1, node, "rois");
        if (in.type(2) != DataType.INT64) throw error(node, "batch_indices must be int64, got " + in.type(2).onnxName());
        if (x.length != 4) throw error(node, "X must be [N, C, H, W], got " + format(x));
        if (rois.length != 2 || rois[1] != 4) throw error(node, "rois must be [num_rois, 4], got " + format(rois));
        if (batchIndices.length != 1 || batchIndices[0] != rois[0]) {
            throw error(node, "batch_indices must be [num_rois] = [" + rois[0] + "] to match rois " + format(rois) + ", got " + format(batchIndices));
        }
        String mode = node.attributes().getString("mode", "avg");
        if (!mode.equals("avg") && !mode.equals("max")) throw error(node, "mode must be avg or max, got '" + mode + "'");
        long outHeight = node.attributes().getInt("output_height", 1), outWidth = node.attributes().getInt("output_width", 1);
        if (outHeight < 1 || outWidth < 1) throw error(node, "output_height and output_width must be at least 1, got " + outHeight + " and " + outWidth);
        long samplingRatio = node.attributes().getInt("sampling_ratio", 0);
        if (samplingRatio < 0) throw error(node, "sampling_ratio must be 0 (adaptive) or positive, got " + samplingRatio);
        if (samplingRatio > MAX_SAMPLES_PER_AXIS) throw error(node, "sampling_ratio " + samplingRatio + " is more than jdnn's " + MAX_SAMPLES_PER_AXIS + " samples per bin side");
        float spatialScale = node.attributes().getFloat("spatial_scale", 1f);
        if (!(spatialScale > 0) || Float.isInfinite(spatialScale)) throw error(node, "spatial_scale must be a positive finite number, got " + spatialScale);
        // Opset 16 added the attribute and made half_pixel the default; opset 10 behaves as output_half_pixel.
        if (ctx.opset() < 16 && node.attributes().has("coordinate_transformation_mode")) {
            throw error(node, "coordinate_transformation_mode exists from opset 16 on (model opset " + ctx.opset() + ")");
        }
        String transform = node.attributes().getString("coordinate_transformation_mode", ctx.opset() >= 16 ? "half_pixel" : "output_half_pixel");
        if (!transform.equals("half_pixel") && !transform.equals("output_half_pixel")) {
            throw error(node, "coordinate_transformation_mode must be half_pixel or output_half_pixel, got '" + transform + "'");
        }
        if (x[2] < 1 || x[3] < 1) throw error(node, "X must have at least one row and column, got " + format(x));
        long[] out = {rois[0], x[1], outHeight, outWidth};
        arraySize(x, node);
        arraySize(out, node);
        Settings s = new Settings(mode.equals("max"), (int) outHeight, (int) outWidth, (int) samplingRatio, spatialScale, transform.equals("half_pixel"));
        return step(out, v -> result(roiAlign(floats(v, 0, node).toArray(), x, floats(v, 1, node).toArray(), longs(v, 2, node), s, node), out));
    }

    /**
     * The plain loops: for each roi, channel and output bin, the average (or max) of its bilinear samples.
     * A sample's bilinear weights are products of a row term and a column term, so each roi's sample rows
     * and columns are located once ({@link Axis}) and shared by every channel and bin.
     */
    private static float[] roiAlign(float[] x, long[] xShape, float[] rois, long[] batchIndices, Settings s, Node node) {
        int n = (int) xShape[0], channels = (int) xShape[1], height = (int) xShape[2], width = (int) xShape[3];
        int numRois = batchIndices.length, oh = s.outHeight(), ow = s.outWidth();
        float[] y = new float[numRois * channels * oh * ow];
        float offset = s.halfPixel() ? 0.5f : 0f;
        for (int r = 0; r < numRois; r++) {
            long batch = batchIndices[r];
            if (batch < 0 || batch >= n) throw error(node, "batch_indices[" + r + "] = " + batch + " is out of range: X has " + n + " images");
            for (int k = 0; k < 4; k++) {
                if (!Float.isFinite(rois[4 * r + k])) throw error(node, "roi " + r + " has a non-finite coordinate: " + describe(rois, r));
            }
            float startW = rois[4 * r] * s.spatialScale() - offset, startH = rois[4 * r + 1] * s.spatialScale() - offset;
            float endW = rois[4 * r + 2] * s.spatialScale() - offset, endH = rois[4 * r + 3] * s.spatialScale() - offset;
            float roiW = endW - startW, roiH = endH - startH;
            if (!s.halfPixel()) {   // malformed rois become 1×1
                roiW = Math.max(roiW, 1f);
                roiH = Math.max(roiH, 1f);
            }
            double gridH = s.samplingRatio() > 0 ? s.samplingRatio() : Math.ceil(roiH / oh);
            double gridW = s.samplingRatio() > 0 ? s.samplingRatio() : Math.ceil(roiW / ow);
            if (gridH > MAX_SAMPLES_PER_AXIS || gridW > MAX_SAMPLES_PER_AXIS) {
                throw error(node, "roi " + r + " " + describe(rois, r) + " needs " + (long) gridH + "×" + (long) gridW
                        + " samples per bin with sampling_ratio 0, more than jdnn's " + MAX_SAMPLES_PER_AXIS + " per side");
            }
            Axis rows = new Axis(startH, roiH / oh, oh, (int) gridH, height);
            Axis cols = new Axis(startW, roiW / ow, ow, (int) gridW, width);
            float count = Math.max((int) gridH * (int) gridW, 1);
            for (int c = 0; c < channels; c++) {
                int plane = (int) ((batch * channels + c) * height * width);
                for (int ph = 0; ph < oh; ph++) {
                    for (int pw = 0; pw < ow; pw++) {
                        float sum = 0, best = 0;
                        boolean first = true;
                        for (int iy = ph * rows.grid; iy < (ph + 1) * rows.grid; iy++) {
                            for (int ix = pw * cols.grid; ix < (pw + 1) * cols.grid; ix++) {
                                // Outside by more than a pixel: weights and positions 0, as ONNX's reference has it.
                                boolean inside = rows.inside[iy] && cols.inside[ix];
                                float w1 = inside ? rows.high[iy] * cols.high[ix] : 0, w2 = inside ? rows.high[iy] * cols.frac[ix] : 0;
                                float w3 = inside ? rows.frac[iy] * cols.high[ix] : 0, w4 = inside ? rows.frac[iy] * cols.frac[ix] : 0;
                                int lo = inside ? rows.low[iy] * width : 0, hi = inside ? rows.up[iy] * width : 0;
                                int left = inside ? cols.low[ix] : 0, right = inside ? cols.up[ix] : 0;
                                float t1 = w1 * x[plane + lo + left], t2 = w2 * x[plane + lo + right];
                                float t3 = w3 * x[plane + hi + left], t4 = w4 * x[plane + hi + right];
                                if (s.max()) {
                                    float v = Math.max(Math.max(Math.max(t1, t2), t3), t4);
                                    best = first ? v : Math.max(best, v);
                                    first = false;
                                } else {
                                    sum += t1 + t2 + t3 + t4;
                                }
                            }
                        }
                        y[((r * channels + c) * oh + ph) * ow + pw] = s.max() ? best : sum / count;
                    }
                }
            }
        }
        return y;
    }

    private static String describe(float[] rois, int r) {
        return java.util.Arrays.toString(java.util.Arrays.copyOfRange(rois, 4 * r, 4 * r + 4));
    }

    /**
     * One roi's sample positions along one axis ({@code bins × grid} of them, bin-major): the lower and
     * upper neighbouring pixel, the fractional distance from the lower one and its complement, and whether
     * the sample lies within a pixel of the plane.
     */
    private static final class Axis {
        final int grid;
        final int[] low, up;
        final float[] frac, high;
        final boolean[] inside;

        Axis(float start, float bin, int bins, int grid, int size) {
            this.grid = grid;
            int samples = Math.multiplyExact(bins, grid);
            low = new int[samples];
            up = new int[samples];
            frac = new float[samples];
            high = new float[samples];
            inside = new boolean[samples];
            for (int p = 0; p < bins; p++) {
                for (int i = 0; i < grid; i++) {
                    int k = p * grid + i;
                    float v = start + p * bin + (i + 0.5f) * bin / grid;
                    if (v < -1f || v > size) continue;
                    inside[k] = true;
                    v = Math.max(v, 0f);
                    int lo = (int) v;
                    if (lo >= size - 1) {
                        lo = size - 1;
                        up[k] = lo;
                        v = lo;
                    } else {
                        up[k] = lo + 1;
                    }
                    low[k] = lo;
                    frac[k] = v - lo;
                    high[k] = 1f - frac[k];
                }
            }
        }
    }
}
