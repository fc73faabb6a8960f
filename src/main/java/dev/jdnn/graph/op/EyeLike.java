package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * EyeLike (9+): a 2-D tensor of the input's shape (R×C) with ones on the k-th diagonal ({@code j − i = k}:
 * k > 0 above the main diagonal, k < 0 below) and zeros elsewhere; of type {@code dtype} (default: the
 * input's type). Only the input's shape is read, so the result is fixed when the plan is prepared.
 */
public final class EyeLike implements Op {
    static void register(Registry.Table t) {
        t.add("EyeLike", 9, new EyeLike());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] shape = in.require(0, node, "input");
        if (shape.length != 2) throw error(node, "input must be 2-D, got shape " + format(shape));
        DataType type = in.type(0);
        if (node.attributes().has("dtype")) {
            long code = node.attributes().getInt("dtype", 0);
            type = code == (int) code ? DataType.fromOnnx((int) code) : null;
            if (type == null) throw error(node, "dtype " + code + " (" + Cast.onnxTypeName(code) + ") is not supported: jdnn holds float, int64, int32, int8, uint8 and bool");
        }
        long k = node.attributes().getInt("k", 0);
        int size = arraySize(shape, node);
        long rows = shape[0], cols = shape[1];
        DataType t = type;
        return step(shape, t, inputs -> {
            long[] eye = new long[size];
            // Row i holds its one at column i + k, when that column exists (k beyond the matrix: all zeros).
            if (k < cols && k > -rows) for (long i = Math.max(0, -k); i < rows && i + k < cols; i++) eye[(int) (i * cols + i + k)] = 1;
            if (t != DataType.FLOAT) return new Value.Longs(t, shape, eye);
            float[] f = new float[size];
            for (int p = 0; p < size; p++) f[p] = eye[p];
            return result(f, shape);
        });
    }
}
