package dev.jdnn.bench;

import dev.jdnn.ops.batchnorm.BatchNorm;
import dev.jdnn.ops.batchnorm.BatchNormMode;
import dev.jdnn.ops.conv.ConvBn;
import dev.jdnn.ops.conv.NativeConv2d;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * Preparing the fused convolution (BN folding, primitive descriptor, primitive, weight reorder, buffers):
 * the one-off cost paid at model load, kept apart from execution. oneDNN's own primitive cache is on,
 * so this measures a warm creation, as when a model is prepared for a second batch size.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ConvCreateBench {
    @Param({"stem7x7s2_3to64_224", "3x3_64to64_56", "1x1_256to64_56", "3x3_256to256_14"})
    String layer;

    @Param({"1", "8"})
    int batch;

    @Benchmark
    public long createFusedConvBn() {
        try (BatchNorm bn = ConvLayers.bn(layer);
             ConvBn fused = new ConvBn(ConvLayers.conv(layer), bn, BatchNormMode.EVAL, false, true)) {
            NativeConv2d compiled = fused.compiled(ConvLayers.input(layer, batch));
            return compiled.outputShape()[1];
        }
    }
}
