/*
 * FP32 FMA peak of one core, measured: 10 independent chains of 256-bit FMAs (vfmadd231ps ymm) cover
 * the FMA latency on both FMA pipes; no memory traffic. Prints the best of 20 runs in GFLOP/s.
 *
 *   gcc -O2 -mavx2 -mfma -o /tmp/fma_peak bench/peak/fma_peak.c && taskset -c 0 /tmp/fma_peak
 *   (bench/peak/run.sh does exactly this)
 *
 * Built with -shared -fPIC -DNO_MAIN it is the library bench/peak/ratio.sh calls through FFM
 * (fma_peak_gflops) to measure the peak between convolution runs in the same process.
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define CHAINS 10

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float sink;

/* GFLOP/s of one timed run of `iterations` rounds of CHAINS FMAs on 8 floats. */
double fma_peak_gflops(long iterations) {
    __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    __m256 x[CHAINS];
    for (int i = 0; i < CHAINS; i++) x[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
    double start = now();
    for (long it = 0; it < iterations; it++) {
#pragma GCC unroll 10
        for (int i = 0; i < CHAINS; i++) x[i] = _mm256_fmadd_ps(x[i], m, c);
    }
    double seconds = now() - start;
    for (int i = 0; i < CHAINS; i++) sink += x[i][0];
    return iterations * CHAINS * 8.0 * 2.0 / seconds / 1e9;
}

#ifndef NO_MAIN
int main(void) {
    double best = 0;
    for (int run = 0; run < 20; run++) {
        double gflops = fma_peak_gflops(20000000L);
        if (gflops > best) best = gflops;
    }
    printf("fp32 fma peak, 1 core: %.1f GFLOP/s (best of 20; sink %g)\n", best, sink);
    return 0;
}
#endif
