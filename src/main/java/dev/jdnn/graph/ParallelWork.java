package dev.jdnn.graph;

import dev.jdnn.Tensor;
import java.util.Map;

/**
 * Which primitives of a compiled plan are worth running on more than one thread.
 *
 * <p>oneDNN (OpenMP) forks every primitive onto all the plan's threads. For the small primitives that
 * make up networks like ShuffleNet or EfficientNet (a 1×1 conv over 7×7, a channel shuffle, a concat of
 * 100 KB) the fork, the join and moving the data between the cores' caches cost as much as the work, so
 * with two threads such a network ran slower than with one. A primitive whose estimated single-thread time
 * is below {@link #MIN_MICROS} is therefore created and run on the calling thread alone; larger ones keep
 * every thread. The estimate is deliberately simple — flops at a sustained single-core rate plus bytes
 * touched at a cache bandwidth — because it only has to separate "a few microseconds" from "worth
 * splitting"; the threshold is a system property so it can be measured per machine
 * ({@code -Djdnn.parallel.minMicros=0} forks everything, as before).
 */
final class ParallelWork {
    /** Primitives estimated to take less than this many microseconds on one thread run on one thread. */
    static final double MIN_MICROS = Double.parseDouble(System.getProperty("jdnn.parallel.minMicros", "20"));

    /**
     * A compiled plan that forks some primitives and whose estimated single-thread time is below this many
     * microseconds is also prepared on one thread, both are timed at prepare, and the faster is kept
     * ({@code Plan}): for networks made of small primitives the forks and joins, and the data crossing between
     * the cores' caches, can cost more than the second thread gains, and only a measurement tells on a given
     * machine. Larger plans always fork (their primitives split well), and timing them would cost more than it
     * could win. 0 disables the timing.
     */
    static final double TIMED_PLAN_MAX_MICROS = Double.parseDouble(System.getProperty("jdnn.parallel.timePlansBelowMicros", "20000"));

    /** How {@code Plan} picks between forking and one thread for such a plan: timed (default), or forced by {@code -Djdnn.parallel.planThreads}. */
    enum PlanThreads { TIMED, FORKED, ONE }

    /** {@code -Djdnn.parallel.planThreads=timed|forked|one}, read at each prepare. */
    static PlanThreads planThreads() {
        String v = System.getProperty("jdnn.parallel.planThreads", "timed");
        return switch (v) {
            case "timed" -> PlanThreads.TIMED;
            case "forked" -> PlanThreads.FORKED;
            case "one" -> PlanThreads.ONE;
            default -> throw new IllegalArgumentException("-Djdnn.parallel.planThreads must be timed, forked or one, got '" + v + "'");
        };
    }

    // One core of the AVX2/AVX-512 machines jdnn is measured on sustains ~60 GFLOP/s in small convs and
    // copies ~20 GB/s between L2-resident buffers: flops/ns and bytes/ns.
    private static final double FLOPS_PER_NANO = 60;
    static final double BYTES_PER_NANO = 20;

    private ParallelWork() {}

    /** Single-thread time of one node, from its flops (conv, ConvTranspose, Gemm, MatMul) and the bytes it reads and writes. */
    static double estimatedNanos(Node n, Map<String, long[]> shapes) {
        double bytes = 0;
        for (String in : n.inputs()) bytes += elements(shapes, in) * Float.BYTES;
        for (String out : n.outputs()) bytes += elements(shapes, out) * Float.BYTES;
        return flops(n, shapes) / FLOPS_PER_NANO + bytes / BYTES_PER_NANO;
    }

    /** Multiply-adds × 2 of the compute-bound ops; 0 for the rest (their cost is the bytes). */
    static double flops(Node n, Map<String, long[]> shapes) {
        if (n.outputs().isEmpty() || n.inputs().size() < 2) return 0;
        long[] out = shapes.get(n.outputs().get(0));
        long[] w = shapes.get(n.input(1));
        long[] x = shapes.get(n.input(0));
        if (out == null || w == null || x == null || w.length == 0) return 0;
        return switch (n.opType()) {
            // Conv: N×C×H×W · K×C/g×R×S → N×K×OH×OW, C/g·R·S multiply-adds per output.
            case "Conv" -> 2.0 * Tensor.elementCount(out) * (Tensor.elementCount(w) / (double) w[0]);
            // ConvTranspose: every input element scatters K/g·R·S products (weights C×K/g×R×S).
            case "ConvTranspose" -> 2.0 * Tensor.elementCount(x) * (Tensor.elementCount(w) / (double) w[0]);
            // Gemm/MatMul: one K-long dot product per output; K is A's last dim (or first when transposed).
            case "Gemm" -> 2.0 * Tensor.elementCount(out) * (n.attributes().getInt("transA", 0) == 1 ? x[0] : x[x.length - 1]);
            case "MatMul", "jdnn.MatMulAdd" -> 2.0 * Tensor.elementCount(out) * x[x.length - 1];
            default -> 0;
        };
    }

    private static double elements(Map<String, long[]> shapes, String name) {
        long[] s = name.isEmpty() ? null : shapes.get(name);
        return s == null ? 0 : Tensor.elementCount(s);
    }
}
