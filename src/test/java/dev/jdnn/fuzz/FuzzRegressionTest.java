package dev.jdnn.fuzz;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fuzz regression corpus ({@code src/test/resources/fuzz/<target>/}: every input a campaign found
 * ending in something other than a jdnn exception, each fixed since) replayed, plus a short seeded run of
 * each target. The long campaign is {@code bench/fuzz.sh}.
 */
class FuzzRegressionTest {
    static final Path CORPUS = Path.of("src/test/resources/fuzz");
    private static FuzzTargets targets;

    @BeforeAll
    static void open() {
        targets = new FuzzTargets();
    }

    @AfterAll
    static void close() throws IOException {
        targets.close();
    }

    static Stream<Path> corpus() throws IOException {
        try (Stream<Path> s = Files.walk(CORPUS)) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".bin")).sorted().toList();
            return files.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void corpusInputEndsInAJdnnExceptionOrRuns(Path file) throws IOException {
        FuzzTargets.Target target = FuzzTargets.Target.valueOf(file.getParent().getFileName().toString().toUpperCase(Locale.ROOT));
        byte[] input = Files.readAllBytes(file);
        assertDoesNotThrow(() -> targets.run(target, input), file.toString());
    }

    @ParameterizedTest
    @EnumSource(FuzzTargets.Target.class)
    void shortSeededRunFindsNothing(FuzzTargets.Target target) {
        Mutator m = new Mutator(20261205L + target.ordinal());
        int n = target == FuzzTargets.Target.NPY ? 1500 : 150, ran = 0;
        for (int i = 0; i < n; i++) {
            byte[] input = targets.next(target, m);
            int index = i;
            if (assertDoesNotThrow(() -> targets.run(target, input), () -> target + " input " + index)) ran++;
        }
        // The mutator must reach the kernels, not only the parsers.
        assertTrue(ran > n / 20, target + ": only " + ran + " of " + n + " inputs ran");
    }
}
