package dev.jdnn.bench;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.Primitive;
import dev.jdnn.ops.batchnorm.BatchNorm;
import dev.jdnn.ops.batchnorm.BatchNormMode;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.ConvBn;
import dev.jdnn.ops.conv.NativeConv2d;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * Conv → BN → ReLU in inference, native: {@code nativeConvBnReluUnfused} runs three oneDNN primitives
 * (convolution, batch norm with global stats, ReLU in place), {@code nativeConvBnFused} runs one
 * convolution with the BN folded into its weights and ReLU as a post-op. Both work on activations in
 * the layouts oneDNN chose for the convolution (what the graph runtime keeps between native ops), so
 * neither pays plain-NCHW reorders. Everything is compiled in the trial setup; the measured methods
 * only execute. GFLOP/s = 2·N·K·C/g·R·S·OH·OW / time (bench/python/conv_report.py).
 */
@BenchmarkMode(Mode.SampleTime) // every call timed: the report uses the median, which a noisy neighbour's burst moves least
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 10, time = 1)
public class ConvBench {
    @Param({"stem7x7s2_3to64_224", "3x3_64to64_56", "1x1_256to64_56", "3x3_256to256_14"})
    String layer;

    @Param({"1", "8"})
    int batch;

    @Param({"1", "2"})
    int threads;

    Arena arena;
    ConvBn fused;
    NativeConv2d fusedConv;
    NativeConv2d plainConv;
    BatchNorm bn;
    Primitive bnPrimitive;
    Primitive reluPrimitive;
    Execution bnRun;
    Execution reluRun;
    MemorySegment src;
    MemorySegment dst;

    @Setup(Level.Trial)
    public void setUp() {
        Dnnl.setThreads(threads); // OpenMP threads of this (the benchmark) thread
        arena = Arena.ofShared();
        long[] input = ConvLayers.input(layer, batch);
        Conv2d conv = ConvLayers.conv(layer);
        bn = ConvLayers.bn(layer);
        fused = new ConvBn(conv, bn, BatchNormMode.EVAL, false, true);
        fusedConv = fused.compiled(input);
        plainConv = new NativeConv2d(conv, input, NativeConv2d.PostOps.NONE);

        MemorySegment srcDesc = plainConv.srcDesc();
        MemorySegment dstDesc = plainConv.dstDesc();
        src = arena.allocate(dnnl_memory_desc_get_size(srcDesc), 64);
        dst = arena.allocate(dnnl_memory_desc_get_size(dstDesc), 64);
        Random r = new Random(3);
        for (long i = 0; i < src.byteSize() / 4; i++) src.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());

        // The unfused baseline: BN and ReLU as their own primitives on the conv's output layout.
        MemorySegment engine = Engine.cpu();
        int k = bn.numFeatures();
        MemorySegment channel = dev.jdnn.dnnl.MemoryDescs.plain(arena, new long[] {k});
        bnPrimitive = Primitive.create("dnnl_batch_normalization_forward_primitive_desc_create", "bench bn",
                out -> dnnl_batch_normalization_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                        dstDesc, dstDesc, (float) bn.eps(), dnnl_use_global_stats() | dnnl_use_scale() | dnnl_use_shift(), MemorySegment.NULL));
        bnRun = new Execution(bnPrimitive, 6).arg(DNNL_ARG_SRC(), dstDesc).arg(DNNL_ARG_DST(), dstDesc)
                .arg(DNNL_ARG_MEAN(), channel).arg(DNNL_ARG_VARIANCE(), channel)
                .arg(DNNL_ARG_SCALE(), channel).arg(DNNL_ARG_SHIFT(), channel)
                .set(DNNL_ARG_MEAN(), arena.allocateFrom(ValueLayout.JAVA_FLOAT, bn.runningMean()))
                .set(DNNL_ARG_VARIANCE(), arena.allocateFrom(ValueLayout.JAVA_FLOAT, bn.runningVar()))
                .set(DNNL_ARG_SCALE(), arena.allocateFrom(ValueLayout.JAVA_FLOAT, bn.weight()))
                .set(DNNL_ARG_SHIFT(), arena.allocateFrom(ValueLayout.JAVA_FLOAT, bn.bias()))
                .set(DNNL_ARG_SRC(), dst).set(DNNL_ARG_DST(), dst);
        reluPrimitive = Primitive.create("dnnl_eltwise_forward_primitive_desc_create", "bench relu",
                out -> dnnl_eltwise_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                        dnnl_eltwise_relu(), dstDesc, dstDesc, 0f, 0f, MemorySegment.NULL));
        reluRun = new Execution(reluPrimitive, 2).arg(DNNL_ARG_SRC(), dstDesc).arg(DNNL_ARG_DST(), dstDesc)
                .set(DNNL_ARG_SRC(), dst).set(DNNL_ARG_DST(), dst);
        if (!dev.jdnn.dnnl.MemoryDescs.equal(fusedConv.srcDesc(), srcDesc) || !dev.jdnn.dnnl.MemoryDescs.equal(fusedConv.dstDesc(), dstDesc)) {
            throw new IllegalStateException("fused and unfused convolutions chose different layouts; the comparison would not be like for like");
        }
        System.out.println("\n# " + layer + " batch " + batch + " threads " + threads + ": fused " + fusedConv.implementation()
                + ", unfused conv " + plainConv.implementation() + ", bn " + bnPrimitive.implementation() + ", relu " + reluPrimitive.implementation());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        bnRun.close();
        reluRun.close();
        bnPrimitive.close();
        reluPrimitive.close();
        plainConv.close();
        fused.close();
        bn.close();
        arena.close();
    }

    @Benchmark
    public MemorySegment nativeConvBnFused() {
        fusedConv.runInNativeLayout(src, dst);
        return dst;
    }

    @Benchmark
    public MemorySegment nativeConvBnReluUnfused() {
        plainConv.runInNativeLayout(src, dst);
        bnRun.run();
        reluRun.run();
        return dst;
    }
}
