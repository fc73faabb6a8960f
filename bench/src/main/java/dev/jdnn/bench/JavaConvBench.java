package dev.jdnn.bench;

import dev.jdnn.Tensor;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.ReferenceConv2d;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/** The Java reference convolution on the same layers (single-threaded plain loops; no thread parameter). */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
public class JavaConvBench {
    @Param({"stem7x7s2_3to64_224", "3x3_64to64_56", "1x1_256to64_56", "3x3_256to256_14"})
    String layer;

    @Param({"1", "8"})
    int batch;

    Conv2d conv;
    Tensor x;
    Tensor y;

    @Setup(Level.Trial)
    public void setUp() {
        long[] input = ConvLayers.input(layer, batch);
        conv = ConvLayers.conv(layer);
        x = Tensor.of(ConvLayers.random(new Random(3), input[0] * input[1] * input[2] * input[3], 1f, 0f), input);
        y = Tensor.zeros(conv.params().outputShape(input));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        y.close();
    }

    @Benchmark
    public Tensor javaConv() {
        ReferenceConv2d.run(conv, x, y);
        return y;
    }
}
