package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * NonMaxSuppression (10+): greedy per-class box selection, as detectors' post-processing does it.
 * {@code boxes B×N×4, scores B×K×N [, max_output_boxes_per_class, iou_threshold, score_threshold] →
 * selected_indices S×3} (int64 rows {@code [batch, class, box]}). Per batch, per class, the boxes whose
 * score exceeds score_threshold (all of them when it is absent) are visited by descending score, equal
 * scores in ascending box index (ONNX Runtime's and ONNX's reference order, which torchvision's nms gives
 * too); a box is kept unless its IoU with a box already kept for that class is greater than iou_threshold,
 * until max_output_boxes_per_class are kept (absent or 0: none). Boxes are {@code [y1, x1, y2, x2]}, any
 * two opposite corners (center_point_box=0), or {@code [x_center, y_center, width, height]} (=1); a box
 * of zero area, or one that does not overlap, never suppresses. A box with a NaN score is never selected.
 *
 * <p>S depends on the data, and jdnn fixes shapes when a plan is prepared, so boxes and scores must be
 * known when this node is prepared ({@link DataDependentException} otherwise): initializers, folded, small
 * graph inputs the session specialises the plan on, or, for boxes computed by the model's own layers (a
 * detector's head), the values of the run, in the plan's data-dependent tail ({@code Plan}). The three
 * scalars are constants or small inputs. Float32 boxes and scores; Java.
 */
public final class NonMaxSuppression implements Op {
    static void register(Registry.Table t) {
        t.add("NonMaxSuppression", 10, new NonMaxSuppression());
    }

    /** The checked attribute and scalar inputs. */
    private record Settings(boolean centerPointBox, long maxPerClass, float iouThreshold, Float scoreThreshold) {}

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] boxes = in.require(0, node, "boxes");
        long[] scores = in.require(1, node, "scores");
        in.requireFloat(0, node, "boxes");
        in.requireFloat(1, node, "scores");
        if (boxes.length != 3 || boxes[2] != 4) throw error(node, "boxes must be [num_batches, num_boxes, 4], got " + format(boxes));
        if (scores.length != 3) throw error(node, "scores must be [num_batches, num_classes, num_boxes], got " + format(scores));
        if (scores[0] != boxes[0] || scores[2] != boxes[1]) {
            throw error(node, "scores " + format(scores) + " do not match boxes " + format(boxes) + ": want [" + boxes[0] + ", num_classes, " + boxes[1] + "]");
        }
        arraySize(boxes, node);
        arraySize(scores, node);
        long center = node.attributes().getInt("center_point_box", 0);
        if (center != 0 && center != 1) throw error(node, "center_point_box must be 0 or 1, got " + center);
        if (in.has(2) && in.type(2) != DataType.INT64) throw error(node, "max_output_boxes_per_class must be int64, got " + in.type(2).onnxName());
        for (int i = 3; i <= 4; i++) in.requireFloat(i, node, i == 3 ? "iou_threshold" : "score_threshold");
        for (int i = 2; i <= 4; i++) {
            if (in.has(i) && count(in.shape(i)) != 1) throw error(node, "input " + i + " must hold one value, got shape " + format(in.shape(i)));
        }
        long[] maxGiven = in.constantLongs(2, node, "max_output_boxes_per_class");
        long max = maxGiven == null ? 0 : maxGiven[0];
        float iou = in.constantScalar(3, node, "iou_threshold", 0f);
        if (!(iou >= 0 && iou <= 1)) throw error(node, "iou_threshold must be in [0, 1], got " + iou);
        Float scoreThreshold = in.has(4) ? in.constantScalar(4, node, "score_threshold", 0f) : null;
        Settings settings = new Settings(center == 1, Math.max(0, max), iou, scoreThreshold);
        if (!in.isConstant(0) || !in.isConstant(1)) {
            throw new DataDependentException(node.opType() + " node " + node.label()
                    + ": its output shape (the number of selected boxes) depends on the values of boxes and scores, which must be known when the plan is prepared"
                    + " (an initializer, computable from shapes, or small graph inputs)");
        }
        long[] selected = select(((Value.Floats) in.constant(0)).tensor().toArray(), boxes,
                ((Value.Floats) in.constant(1)).tensor().toArray(), scores, settings);
        long[] shape = {selected.length / 3, 3};
        return step(shape, DataType.INT64, v -> {
            long[] again = select(floats(v, 0, node).toArray(), boxes, floats(v, 1, node).toArray(), scores, settings);
            return result(DataType.INT64, again, new long[] {again.length / 3, 3});
        });
    }

    /** The selected {@code [batch, class, box]} triples, flattened, in output order. */
    private static long[] select(float[] boxes, long[] boxShape, float[] scores, long[] scoreShape, Settings s) {
        int batches = (int) boxShape[0], n = (int) boxShape[1], classes = (int) scoreShape[1];
        List<long[]> out = new ArrayList<>();
        Integer[] order = new Integer[n];
        int[] kept = new int[n];
        float[] edges = new float[4 * n], areas = new float[n];   // one batch's boxes as {xMin, yMin, xMax, yMax} and their areas
        for (int b = 0; b < batches; b++) {
            int boxBase = b * n * 4;
            for (int i = 0; i < n; i++) {
                float[] e = edges(boxes, boxBase + 4 * i, s.centerPointBox());
                System.arraycopy(e, 0, edges, 4 * i, 4);
                areas[i] = (e[2] - e[0]) * (e[3] - e[1]);
            }
            for (int c = 0; c < classes; c++) {
                int scoreBase = (b * classes + c) * n;
                int candidates = 0;
                for (int i = 0; i < n; i++) {
                    float score = scores[scoreBase + i];
                    if (Float.isNaN(score) || s.scoreThreshold() != null && !(score > s.scoreThreshold())) continue;
                    order[candidates++] = i;
                }
                // Descending score; the sort is stable, so equal scores (−0 equals +0) keep ascending box index.
                Arrays.sort(order, 0, candidates, (p, q) -> {
                    float sp = scores[scoreBase + p], sq = scores[scoreBase + q];
                    return sp > sq ? -1 : sp < sq ? 1 : 0;
                });
                int keptCount = 0;
                for (int k = 0; k < candidates && keptCount < s.maxPerClass(); k++) {
                    int box = order[k];
                    boolean suppressed = false;
                    for (int j = 0; j < keptCount && !suppressed; j++) {
                        suppressed = iou(edges, areas, kept[j], box) > s.iouThreshold();
                    }
                    if (suppressed) continue;
                    kept[keptCount++] = box;
                    out.add(new long[] {b, c, box});
                }
            }
        }
        long[] flat = new long[out.size() * 3];
        for (int i = 0; i < out.size(); i++) System.arraycopy(out.get(i), 0, flat, 3 * i, 3);
        return flat;
    }

    /**
     * Intersection over union of the boxes at {@code a} and {@code b}; 0 when they do not overlap or
     * either has no area (such a box never suppresses another).
     */
    private static float iou(float[] edges, float[] areas, int a, int b) {
        int ea = 4 * a, eb = 4 * b;   // {xMin, yMin, xMax, yMax}, computed once per box (select)
        float ix0 = Math.max(edges[ea], edges[eb]), iy0 = Math.max(edges[ea + 1], edges[eb + 1]);
        float ix1 = Math.min(edges[ea + 2], edges[eb + 2]), iy1 = Math.min(edges[ea + 3], edges[eb + 3]);
        if (!(ix1 > ix0) || !(iy1 > iy0)) return 0;
        float intersection = (ix1 - ix0) * (iy1 - iy0);
        float areaA = areas[a], areaB = areas[b];
        float union = areaA + areaB - intersection;
        if (!(intersection > 0) || !(areaA > 0) || !(areaB > 0) || !(union > 0)) return 0;
        return intersection / union;
    }

    /** {xMin, yMin, xMax, yMax} of the box at {@code i}. */
    private static float[] edges(float[] boxes, int i, boolean centerPointBox) {
        if (centerPointBox) {
            float halfW = boxes[i + 2] / 2, halfH = boxes[i + 3] / 2;
            return new float[] {boxes[i] - halfW, boxes[i + 1] - halfH, boxes[i] + halfW, boxes[i + 1] + halfH};
        }
        // [y1, x1, y2, x2], either diagonal.
        return new float[] {Math.min(boxes[i + 1], boxes[i + 3]), Math.min(boxes[i], boxes[i + 2]),
                Math.max(boxes[i + 1], boxes[i + 3]), Math.max(boxes[i], boxes[i + 2])};
    }
}
