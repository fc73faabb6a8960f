package dev.jdnn.bench;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.ops.batchnorm.BatchNorm;
import dev.jdnn.ops.batchnorm.BatchNormMode;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * Batch norm, oneDNN vs the Java reference, eval (running stats) and train (batch stats + running
 * update), on CNN activation shapes C×H×W at batch 1 and 8. The native primitive is compiled in the
 * setup (first call), so the measured method is execution only.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BatchNormBench {
    @Param({"64x56x56", "256x14x14", "512x7x7"})
    String shape;

    @Param({"1", "8"})
    int batch;

    BatchNorm bn;
    Tensor x;
    Tensor y;

    @Setup
    public void setUp() {
        String[] chw = shape.split("x");
        int c = Integer.parseInt(chw[0]);
        long[] dims = {batch, c, Long.parseLong(chw[1]), Long.parseLong(chw[2])};
        Random random = new Random(1);
        float[] values = new float[(int) (dims[0] * dims[1] * dims[2] * dims[3])];
        for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian();
        x = Tensor.of(values, dims);
        y = Tensor.zeros(dims);
        bn = new BatchNorm(c);
        float[] gamma = new float[c];
        float[] var = new float[c];
        for (int i = 0; i < c; i++) {
            gamma[i] = 0.5f + random.nextFloat();
            var[i] = 0.5f + random.nextFloat();
        }
        bn.setWeight(gamma).setRunningVar(var);
        // compile both native primitives outside the measurement
        bn.forward(BatchNormMode.EVAL, x, y, Backend.NATIVE);
        bn.forward(BatchNormMode.TRAIN, x, y, Backend.NATIVE);
    }

    @TearDown
    public void tearDown() {
        bn.close();
        x.close();
        y.close();
    }

    @Benchmark
    public Tensor nativeBnEval() {
        bn.forward(BatchNormMode.EVAL, x, y, Backend.NATIVE);
        return y;
    }

    @Benchmark
    public Tensor javaBnEval() {
        bn.forward(BatchNormMode.EVAL, x, y, Backend.JAVA);
        return y;
    }

    @Benchmark
    public Tensor nativeBnTrain() {
        bn.forward(BatchNormMode.TRAIN, x, y, Backend.NATIVE);
        return y;
    }

    @Benchmark
    public Tensor javaBnTrain() {
        bn.forward(BatchNormMode.TRAIN, x, y, Backend.JAVA);
        return y;
    }
}
