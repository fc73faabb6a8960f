package dev.jdnn.bench;

import dev.jdnn.Tensor;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.ops.eltwise.NativeEltwise;
import dev.jdnn.ops.eltwise.ReferenceEltwise;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * One element-wise function over an N×C×H×W activation, in place: oneDNN eltwise vs the Java reference loop.
 * {@code 96x112x112} is EfficientNet-B0's largest SiLU tensor (after features.2.0's expand conv): comparing
 * {@code SWISH} with {@code RELU} there shows what the SiLU costs beyond a pass over memory (issue 12's
 * EfficientNet row; ONNX Runtime's own SiLU pass on that tensor is in {@code bench/layer-compare.sh}'s output).
 *
 * <pre>bench/run.sh EltwiseBench -p algorithm=RELU,SWISH -p shape=96x112x112 -p batch=1</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class EltwiseBench {
    @Param({"1", "8"})
    int batch;

    /** C×H×W. */
    @Param({"64x56x56", "96x112x112"})
    String shape;

    @Param({"RELU", "SWISH", "LOGISTIC"})
    EltwiseAlgorithm algorithm;

    Tensor x;
    NativeEltwise eltwise;
    float alpha;

    @Setup
    public void setUp() {
        String[] chw = shape.split("x");
        long[] dims = {batch, Long.parseLong(chw[0]), Long.parseLong(chw[1]), Long.parseLong(chw[2])};
        x = Tensor.zeros(dims);
        Random random = new Random(1);
        // Activations of a conv: roughly N(0, 3²), so exp() sees both signs and the whole useful range.
        for (long i = 0; i < x.elementCount(); i++) x.setFlat(i, (float) (3 * random.nextGaussian()));
        alpha = algorithm == EltwiseAlgorithm.SWISH ? 1f : 0f;
        eltwise = new NativeEltwise(algorithm, alpha, 0f, dims);
    }

    @TearDown
    public void tearDown() {
        eltwise.close();
        x.close();
    }

    // In place, as a plan runs an unfused activation: repeated SWISH/LOGISTIC runs move the values towards a
    // fixed point, but the kernels take the same time for every finite input (no data-dependent branches).
    @Benchmark
    public Tensor nativeEltwise() {
        eltwise.run(x, x);
        return x;
    }

    @Benchmark
    public Tensor javaEltwise() {
        ReferenceEltwise.run(algorithm, alpha, 0f, x, x);
        return x;
    }
}
