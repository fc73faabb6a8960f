package dev.jdnn.cli;

import picocli.CommandLine.Option;

/**
 * {@code --threads}: how many threads a command computes with, the same for every command (bench, classify,
 * demo, explain, run, segment): oneDNN's threads, and also ONNX Runtime's (bench) and the image decoders'
 * (classify, segment). 0, the default, means every available processor.
 */
final class ThreadsOption {
    @Option(names = "--threads", paramLabel = "T", defaultValue = "0",
            description = "threads to compute with (oneDNN; also ONNX Runtime in bench, image decoding in classify and segment); 0 = all processors (default)")
    int threads;

    /** The thread count to use: {@code --threads}, or every available processor for 0; a usage error from {@code command} when negative. */
    int resolve(Subcommand command) {
        command.atLeast(threads, 0, "--threads");
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }
}
