package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.List;

/**
 * DynamicQuantizeLinear (opset 11+): float32 x → (y uint8, y_scale float32 scalar, y_zero_point uint8 scalar),
 * the scale and zero point computed from x's range widened to include 0, all in float32 as the ONNX reference:
 * <pre>
 *   lo = min(0, min(x))   hi = max(0, max(x))
 *   y_scale = (hi - lo) / 255           (1 / 255 when hi == lo, i.e. x is all zeros)
 *   y_zero_point = rint(clip(0 - lo / y_scale, 0, 255))
 *   y = saturate(rint(x / y_scale) + y_zero_point)      (as QuantizeLinear)
 * </pre>
 * NaNs in x are skipped by the range (numpy's would propagate them; ONNX Runtime skips them too). Java only:
 * a whole-tensor reduction before the element-wise pass.
 */
public final class DynamicQuantizeLinear implements Op {
    static void register(Registry.Table t) {
        t.add("DynamicQuantizeLinear", 11, new DynamicQuantizeLinear());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "x");
        in.requireFloat(0, node, "x");
        int size = arraySize(x, node);
        return step(List.of(x, new long[0], new long[0]), List.of(DataType.UINT8, DataType.FLOAT, DataType.UINT8), v -> {
            float[] data = floats(v, 0, node).toArray();
            float lo = 0, hi = 0;
            for (float f : data) {
                if (f < lo) lo = f;
                if (f > hi) hi = f;
            }
            float scale = (hi == lo ? 1f : hi - lo) / 255f;
            float zpf = 0f - lo / scale;
            long zp = (long) Math.rint(Math.max(0f, Math.min(255f, zpf)));
            long[] y = new long[size];
            for (int i = 0; i < size; i++) y[i] = Quantize.quantize(data[i], scale, zp, DataType.UINT8);
            return List.of(new Value.Longs(DataType.UINT8, x, y), new Value.Floats(Tensor.of(new float[] {scale}, new long[0])),
                    new Value.Longs(DataType.UINT8, new long[0], new long[] {zp}));
        });
    }
}
