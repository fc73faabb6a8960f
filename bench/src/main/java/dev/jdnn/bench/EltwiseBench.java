package dev.jdnn.bench;

import dev.jdnn.Tensor;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.ops.eltwise.NativeEltwise;
import dev.jdnn.ops.eltwise.ReferenceEltwise;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/** ReLU over an N×64×56×56 activation: oneDNN eltwise vs the Java reference loop. */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class EltwiseBench {
    @Param({"1", "8"})
    int batch;

    Tensor src;
    Tensor dst;
    NativeEltwise relu;

    @Setup
    public void setUp() {
        long[] shape = {batch, 64, 56, 56};
        src = Tensor.zeros(shape);
        dst = Tensor.zeros(shape);
        for (long i = 0; i < src.elementCount(); i++) src.setFlat(i, (i % 7) - 3f);
        relu = new NativeEltwise(EltwiseAlgorithm.RELU, 0f, 0f, shape);
    }

    @TearDown
    public void tearDown() {
        relu.close();
        src.close();
        dst.close();
    }

    @Benchmark
    public Tensor nativeRelu() {
        relu.run(src, dst);
        return dst;
    }

    @Benchmark
    public Tensor javaRelu() {
        ReferenceEltwise.run(EltwiseAlgorithm.RELU, 0f, 0f, src, dst);
        return dst;
    }
}
