package dev.jdnn.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.DataType;
import dev.jdnn.Npy;
import dev.jdnn.Tensor;
import dev.jdnn.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./jdnn run} on a float16 model: a numpy float16 .npy in, a float16 .npy out, matching PyTorch (see Float16ModelTest). */
class Float16CliTest {
    static final Path FIX = Fixtures.ROOT.resolve("float16");

    @Test
    void runTakesAndWritesFloat16Npy(@TempDir Path out) throws Exception {
        MainTest.Result r = MainTest.run("run", "--model", FIX.resolve("cnn_fp16.onnx").toString(), "--input", "x=" + FIX.resolve("x.npy"),
                "--output-dir", out.toString(), "--threads", "1");
        assertEquals(0, r.code(), r.err());
        try (Tensor y = Npy.read(out.resolve("y.npy"))) {
            assertEquals(DataType.FLOAT16, y.dtype(), "the model declares y float16");
            Fixtures.assertClose(Fixtures.array(FIX.resolve("y16w.npy")), y.toArray(), 5e-4, "CLI output vs torch with float16 weights");
        }
    }
}
