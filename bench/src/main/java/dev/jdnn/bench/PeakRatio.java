package dev.jdnn.bench;

import dev.jdnn.dnnl.Dnnl;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The fused Conv+BN+ReLU's GFLOP/s as a fraction of the FMA peak, and its time against the three
 * primitives (ConvBench's two variants), all measured in the same process on the same thread,
 * alternately, round by round: ~0.1 s of the peak kernel ({@code bench/peak/fma_peak.c}, called
 * through FFM), ~0.3 s of the fused conv, ~0.3 s of conv → BN → ReLU, repeated. On a shared machine whose speed drifts by
 * ±20 % over minutes, the ratio of two measurements taken a fraction of a second apart is what says how
 * close the kernel is to the hardware; a peak measured once and a conv measured minutes later are not.
 *
 * <pre>bench/peak/ratio.sh [rounds]</pre> (builds the peak library and this jar; runs this pinned to one core
 * with 1 thread, then unpinned with 2 threads, where the peak is one core's times two)
 */
public final class PeakRatio {
    private PeakRatio() {}

    private record Case(String layer, int batch) {}

    private static final Case[] CASES = {
            new Case("stem7x7s2_3to64_224", 1), new Case("stem7x7s2_3to64_224", 8),
            new Case("3x3_64to64_56", 1), new Case("3x3_64to64_56", 8),
            new Case("1x1_256to64_56", 1), new Case("1x1_256to64_56", 8),
            new Case("3x3_256to256_14", 1), new Case("3x3_256to256_14", 8)};

    public static void main(String[] args) throws Throwable {
        if (args.length < 1) throw new IllegalArgumentException("usage: PeakRatio LIBFMAPEAK.so [rounds [threads]]");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        MethodHandle peak = Linker.nativeLinker().downcallHandle(
                SymbolLookup.libraryLookup(Path.of(args[0]), Arena.global()).findOrThrow("fma_peak_gflops"),
                FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_LONG));
        Dnnl.setThreads(threads);
        System.out.printf(Locale.ROOT, "%d thread(s) (peak: one core's, times %d), %d rounds of (FMA peak ~0.1 s, fused ~0.3 s, unfused ~0.3 s); medians over rounds, then range%n", threads, threads, rounds);
        System.out.println("| layer | batch | peak GFLOP/s | fused GFLOP/s | fused / peak | range | unfused / fused | range |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- |");
        for (Case c : CASES) run(c, rounds, threads, peak);
    }

    private static void run(Case c, int rounds, int threads, MethodHandle peak) throws Throwable {
        // ConvBench's trial state: the fused conv and the three-primitive baseline on the same buffers.
        ConvBench bench = new ConvBench();
        bench.layer = c.layer();
        bench.batch = c.batch();
        bench.threads = threads;
        bench.setUp();
        try {
            double gflop = ConvLayers.params(c.layer()).flops(ConvLayers.input(c.layer(), c.batch())) / 1e9;
            for (int i = 0; i < 20; i++) {
                bench.nativeConvBnFused();
                bench.nativeConvBnReluUnfused();
            }
            for (int i = 0; i < 5; i++) { double ignored = (double) peak.invokeExact(10_000_000L); }
            double[] peaks = new double[rounds], fused = new double[rounds], ratios = new double[rounds], gains = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                double[] p5 = new double[5];
                for (int i = 0; i < 5; i++) p5[i] = (double) peak.invokeExact(3_000_000L);
                peaks[round] = threads * median(p5);
                double fusedSeconds = medianSeconds(bench::nativeConvBnFused);
                double unfusedSeconds = medianSeconds(bench::nativeConvBnReluUnfused);
                fused[round] = gflop / fusedSeconds;
                ratios[round] = fused[round] / peaks[round];
                gains[round] = unfusedSeconds / fusedSeconds;
            }
            double[] sorted = ratios.clone();
            Arrays.sort(sorted);
            double[] g = gains.clone();
            Arrays.sort(g);
            System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.0f %% | %.0f–%.0f %% | %.2f | %.2f–%.2f |%n", c.layer(), c.batch(), median(peaks), median(fused),
                    100 * median(ratios), 100 * sorted[0], 100 * sorted[sorted.length - 1], median(gains), g[0], g[g.length - 1]);
        } finally {
            bench.tearDown();
        }
    }

    /** Median time of one call over a ~0.3 s window. */
    private static double medianSeconds(Runnable call) {
        double[] times = new double[4096];
        int runs = 0;
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < 300_000_000L && runs < times.length) {
            long s = System.nanoTime();
            call.run();
            times[runs++] = (System.nanoTime() - s) / 1e9;
        }
        return median(Arrays.copyOf(times, runs));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
