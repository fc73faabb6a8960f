package dev.jdnn.bench;

import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import dev.jdnn.ops.winograd.NativeWinograd;
import dev.jdnn.ops.winograd.WinogradChoice;
import dev.jdnn.ops.winograd.WinogradTile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * Every 3×3 convolution shape of ResNet-50 (stride 1, pad 1; fused ReLU, as in the model), direct
 * (oneDNN's convolution, in the layouts it chose) against jdnn's Winograd F(2×2,3×3) and F(4×4,3×3)
 * (NHWC in and out), back to back in one JMH run per parameter combination (bench/interleaved.sh).
 * {@code *GemmOnly} runs only the Winograd's batched-GEMM stage, so (run − GEMM) / run is the
 * transforms' share. Direct-equivalent GFLOP/s = 2·N·K·C·9·OH·OW / time: a Winograd layer does fewer
 * multiplications than that, so it can report more than the FMA peak (bench/peak).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class WinogradBench {
    /**
     * channels_spatial: ResNet-50's 3×3 layers (conv2 of each bottleneck stage); or in_out_spatial for other
     * shapes, e.g. DenseNet-121's 128_32_56 (-p layer=128_32_56).
     */
    @Param({"64_56", "128_28", "256_14", "512_7"})
    String layer;

    @Param({"1"})
    int batch;

    @Param({"1"})
    int threads;

    Arena arena;
    NativeConv2d direct;
    NativeWinograd f2, f4;
    NativeWinograd.Bound f2Run, f4Run;
    MemorySegment directSrc, directDst, src, dst;

    @Setup(Level.Trial)
    public void setUp() {
        Dnnl.setThreads(threads);
        String[] parts = layer.split("_");
        int c = Integer.parseInt(parts[0]), k = Integer.parseInt(parts[parts.length == 3 ? 1 : 0]), hw = Integer.parseInt(parts[parts.length - 1]);
        Conv2dParams p = Conv2dParams.of(c, k, 3, 3).withPadding(1, 1);
        Random r = new Random(7);
        Conv2d conv = new Conv2d(p, ConvLayers.random(r, p.weightCount(), 0.05f, 0f), ConvLayers.random(r, k, 0.1f, 0f));
        long[] input = {batch, c, hw, hw};
        NativeConv2d.PostOps relu = NativeConv2d.PostOps.of(false, true);
        direct = new NativeConv2d(conv, input, relu);
        WinogradChoice.warmUp(); // JIT-compile the transforms before anything is timed
        f2 = new NativeWinograd(conv, input, relu, WinogradTile.F2X2, threads);
        f4 = new NativeWinograd(conv, input, relu, WinogradTile.F4X4, threads);
        arena = Arena.ofShared();
        directSrc = filled(MemoryDescs.size(direct.srcDesc()), r);
        directDst = arena.allocate(MemoryDescs.size(direct.dstDesc()), 64);
        src = filled(MemoryDescs.size(f2.srcDesc()), r);
        dst = arena.allocate(MemoryDescs.size(f2.dstDesc()), 64);
        f2Run = f2.bind(src, dst, null);
        f4Run = f4.bind(src, dst, null);
        System.out.println("# " + f2.description() + "\n# " + f4.description() + "\n# direct " + direct.implementation());
    }

    private MemorySegment filled(long bytes, Random r) {
        MemorySegment s = arena.allocate(bytes, 64);
        for (long i = 0; i < bytes / 4; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
        return s;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        f2Run.close();
        f4Run.close();
        f2.close();
        f4.close();
        direct.close();
        arena.close();
    }

    @Benchmark
    public void direct() {
        direct.runInNativeLayout(directSrc, directDst);
    }

    @Benchmark
    public void winogradF2() {
        f2Run.run();
    }

    @Benchmark
    public void winogradF4() {
        f4Run.run();
    }

    @Benchmark
    public void winogradF2GemmOnly() {
        f2Run.runGemmOnly();
    }

    @Benchmark
    public void winogradF4GemmOnly() {
        f4Run.runGemmOnly();
    }
}
