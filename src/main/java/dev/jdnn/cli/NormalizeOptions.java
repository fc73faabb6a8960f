package dev.jdnn.cli;

import dev.jdnn.image.Normalize;
import picocli.CommandLine.Option;

/** {@code --mean} and {@code --std}: the Normalize step of the image commands' preprocessing (classify, segment). */
final class NormalizeOptions {
    @Option(names = "--mean", paramLabel = "R,G,B", split = ",", description = "per-channel mean subtracted after scaling to [0, 1]; default ImageNet's 0.485,0.456,0.406")
    float[] mean = Normalize.IMAGENET_MEAN.clone();

    @Option(names = "--std", paramLabel = "R,G,B", split = ",", description = "per-channel standard deviation; default ImageNet's 0.229,0.224,0.225")
    float[] std = Normalize.IMAGENET_STD.clone();

    /** Three values each, every std positive; else a usage error from {@code command}. */
    void check(Subcommand command) {
        if (mean.length != 3 || std.length != 3) throw command.usage("--mean and --std take three comma-separated values (R,G,B), got " + mean.length + " and " + std.length);
        for (float s : std) if (!(s > 0)) throw command.usage("--std values must be > 0");
    }

    Normalize normalize() {
        return new Normalize(mean, std);
    }
}
