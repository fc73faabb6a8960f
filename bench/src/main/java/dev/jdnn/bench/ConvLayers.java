package dev.jdnn.bench;

import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.batchnorm.BatchNorm;
import java.util.Random;

/** The ResNet-50 / GoogLeNet layer shapes the conv benchmarks run, with random weights and realistic BN stats. */
final class ConvLayers {
    private ConvLayers() {}

    /** Layer names used as JMH parameters. */
    static Conv2dParams params(String layer) {
        return switch (layer) {
            case "stem7x7s2_3to64_224" -> Conv2dParams.of(3, 64, 7, 7).withStride(2, 2).withPadding(3, 3);
            case "3x3_64to64_56" -> Conv2dParams.of(64, 64, 3, 3).withPadding(1, 1);
            case "1x1_256to64_56" -> Conv2dParams.of(256, 64, 1, 1);
            case "3x3_256to256_14" -> Conv2dParams.of(256, 256, 3, 3).withPadding(1, 1);
            default -> throw new IllegalArgumentException("unknown layer " + layer);
        };
    }

    static long[] input(String layer, int batch) {
        int hw = switch (layer) {
            case "stem7x7s2_3to64_224" -> 224;
            case "3x3_64to64_56", "1x1_256to64_56" -> 56;
            default -> 14;
        };
        return new long[] {batch, params(layer).inChannels(), hw, hw};
    }

    static float[] random(Random r, long n, float scale, float offset) {
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian() * scale + offset;
        return v;
    }

    static Conv2d conv(String layer) {
        Conv2dParams p = params(layer);
        Random r = new Random(7);
        return new Conv2d(p, random(r, p.weightCount(), 0.05f, 0f), random(r, p.outChannels(), 0.1f, 0f));
    }

    static BatchNorm bn(String layer) {
        int k = params(layer).outChannels();
        Random r = new Random(8);
        float[] var = new float[k];
        for (int i = 0; i < k; i++) var[i] = 0.5f + r.nextFloat();
        return new BatchNorm(k).setWeight(random(r, k, 0.2f, 1f)).setBias(random(r, k, 0.1f, 0f))
                .setRunningMean(random(r, k, 0.1f, 0f)).setRunningVar(var);
    }
}
