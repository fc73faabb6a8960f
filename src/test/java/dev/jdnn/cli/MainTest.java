package dev.jdnn.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void infoPrintsVersionsLibraryIsaAndThreads() {
        Result r = run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("oneDNN version:  3.13"), r.out());
        assertTrue(r.out().contains("libdnnl.so.3"), r.out());
        assertTrue(r.out().contains("oneDNN ISA:"), r.out());
        assertTrue(r.out().contains("threads:"), r.out());
    }

    @Test
    void unknownCommandIsOneLineAndExitCode2() {
        Result r = run("frobnicate");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("frobnicate"));
    }

    /** A fresh JVM whose override points nowhere: one clear line, exit 2, no stack trace. */
    @Test
    void badLibraryOverrideInAFreshJvm() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Djdnn.dnnl.library=/nonexistent/libdnnl.so.3", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "info"));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, p.waitFor(), out + err);
        assertTrue(err.contains("/nonexistent/libdnnl.so.3"), err);
        assertFalse(err.contains("\tat "), "no stack trace without --verbose: " + err);
    }
}
