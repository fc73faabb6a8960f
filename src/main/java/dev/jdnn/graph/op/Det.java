package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;
import java.util.Arrays;

/**
 * Det (11+): the determinant of each square matrix of X {@code [*, M, M]} (float32) → {@code [*]} (a scalar
 * for one matrix). LU factorisation with partial pivoting, in double, rounded once to float32; an exactly
 * singular matrix gives 0, a 0×0 matrix 1, NaN or ∞ in a matrix
 * propagates. Java only.
 */
public final class Det implements Op {
    static void register(Registry.Table t) {
        t.add("Det", 11, new Det());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        in.requireFloat(0, node, "input X");
        if (x.length < 2 || x[x.length - 1] != x[x.length - 2]) {
            throw error(node, "X must be [*, M, M] (square matrices in the last two axes), got shape " + format(x));
        }
        long[] out = Arrays.copyOf(x, x.length - 2);
        int matrices = arraySize(out, node), m = (int) x[x.length - 1];
        arraySize(x, node, Double.BYTES);
        return step(out, v -> {
            float[] data = floats(v, 0, node).toArray(), y = new float[matrices];
            double[] a = new double[m * m];
            for (int b = 0; b < matrices; b++) {
                for (int i = 0; i < a.length; i++) a[i] = data[b * a.length + i];
                y[b] = (float) determinant(a, m);
            }
            return result(y, out);
        });
    }

    /** det of the row-major m×m matrix {@code a} (overwritten with its LU factors). */
    static double determinant(double[] a, int m) {
        double det = 1;
        for (int k = 0; k < m; k++) {
            int pivot = k;
            for (int i = k + 1; i < m; i++) {
                double c = Math.abs(a[i * m + k]);
                if (c > Math.abs(a[pivot * m + k]) || Double.isNaN(c)) pivot = i; // a NaN pivot propagates
            }
            double p = a[pivot * m + k];
            if (p == 0) return Double.isNaN(det) ? det : 0; // singular: the column is zero from the diagonal down
            if (pivot != k) {
                for (int j = 0; j < m; j++) {
                    double t = a[k * m + j];
                    a[k * m + j] = a[pivot * m + j];
                    a[pivot * m + j] = t;
                }
                det = -det;
            }
            det *= p;
            for (int i = k + 1; i < m; i++) {
                double f = a[i * m + k] / p;
                if (f == 0) continue;
                for (int j = k + 1; j < m; j++) a[i * m + j] -= f * a[k * m + j];
            }
        }
        return det;
    }
}
