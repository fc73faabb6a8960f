package dev.jdnn;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** .npy reading and writing against files NumPy wrote (src/test/python/gen_npy_fixtures.py). */
class NpyTest {
    static final Path FIXTURES = Path.of("src/test/resources/fixtures/npy");

    /** The generator's values: element i is i * 0.5 - 3. */
    static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = i * 0.5f - 3f;
        return v;
    }

    @ParameterizedTest
    @CsvSource({"f32_2x3x4.npy, 2 3 4", "f32_vector5.npy, 5", "f32_scalar.npy, ''", "f32_empty_0x3.npy, 0 3"})
    void readsWhatNumpyWrote(String file, String dims) throws IOException {
        long[] shape = dims.isBlank() ? new long[0]
                : java.util.Arrays.stream(dims.trim().split(" ")).mapToLong(Long::parseLong).toArray();
        try (Tensor t = Npy.read(FIXTURES.resolve(file))) {
            assertArrayEquals(shape, t.shape());
            assertArrayEquals(ramp((int) t.elementCount()), t.toArray(), 0f);
        }
    }

    @ParameterizedTest
    @CsvSource({"f32_2x3x4.npy", "f32_vector5.npy", "f32_scalar.npy", "f32_empty_0x3.npy"})
    void writesTheSameBytesAsNumpy(String file, @TempDir Path dir) throws IOException {
        Path numpyFile = FIXTURES.resolve(file);
        Path ours = dir.resolve(file);
        try (Tensor t = Npy.read(numpyFile)) {
            Npy.write(ours, t);
        }
        assertArrayEquals(Files.readAllBytes(numpyFile), Files.readAllBytes(ours));
    }

    @Test
    void roundTripsLargerTensors(@TempDir Path dir) throws IOException {
        float[] values = ramp(3 * 17 * 5 * 7);
        try (Tensor t = Tensor.of(values, 3, 17, 5, 7)) {
            Npy.write(dir.resolve("t.npy"), t);
        }
        try (Tensor back = Npy.read(dir.resolve("t.npy"))) {
            assertArrayEquals(new long[] {3, 17, 5, 7}, back.shape());
            assertArrayEquals(values, back.toArray(), 0f);
        }
    }

    @Test
    void readsNumpyInt64AndWritesItBack(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // i64_3.npy was written by numpy.save(np.arange(3, dtype=np.int64)).
        try (Tensor t = Npy.read(FIXTURES.resolve("i64_3.npy"))) {
            assertEquals(DataType.INT64, t.dtype());
            assertArrayEquals(new long[] {0, 1, 2}, t.toLongArray());
            assertThrows(IllegalStateException.class, t::toArray, "float accessors refuse int64");
            Path copy = dir.resolve("copy.npy");
            Npy.write(copy, t);
            try (Tensor back = Npy.read(copy)) {
                assertEquals(DataType.INT64, back.dtype());
                assertArrayEquals(t.toLongArray(), back.toLongArray());
            }
        }
        try (Tensor mask = Tensor.ofLongs(new long[] {1, 0, 5}, DataType.BOOL, 3)) {
            Path file = dir.resolve("mask.npy");
            Npy.write(file, mask);
            try (Tensor back = Npy.read(file)) {
                assertEquals(DataType.BOOL, back.dtype());
                assertArrayEquals(new long[] {1, 0, 1}, back.toLongArray());
            }
        }
    }

    @ParameterizedTest
    @CsvSource({
        "f64_2x2.npy, dtype <f8 is not supported",
        "f32_bigendian_2.npy, dtype >f4 is not supported",
        "f32_fortran_2x3.npy, Fortran-order arrays are not supported"})
    void rejectsOtherDtypesAndFortranOrder(String file, String message) {
        Npy.NpyFormatException e = assertThrows(Npy.NpyFormatException.class, () -> Npy.read(FIXTURES.resolve(file)));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertTrue(e.getMessage().contains(file), "names the file: " + e.getMessage());
    }

    @Test
    void rejectsTruncatedAndNonNpyFiles(@TempDir Path dir) throws IOException {
        Path notNpy = Files.writeString(dir.resolve("x.npy"), "hello, this is not numpy");
        assertTrue(assertThrows(Npy.NpyFormatException.class, () -> Npy.read(notNpy)).getMessage().contains("bad magic"));

        byte[] full = Files.readAllBytes(FIXTURES.resolve("f32_2x3x4.npy"));
        Path truncated = Files.write(dir.resolve("t.npy"), java.util.Arrays.copyOf(full, full.length - 4));
        String message = assertThrows(Npy.NpyFormatException.class, () -> Npy.read(truncated)).getMessage();
        assertTrue(message.contains("needs 96 bytes of data, file has 92"), message);
    }

    /** A .npy version 1.0 file with this header dictionary and {@code dataBytes} zero bytes of data. */
    static byte[] npy(String dict, int dataBytes) {
        byte[] header = (dict + "\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(10 + header.length + dataBytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length).put(header);
        return b.array();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), } | 16 | more bytes than a long can count",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), } | 16 | more than the limit of 4294967296",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), } | 12 | needs 16 bytes of data, file has 12",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), } | 20 | needs 16 bytes of data, file has 20",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 2), } | 16 | bad shape",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), } | 16 | bad shape",
        "{'descr': '<f4', 'fortran_order': False, } | 16 | no 'shape'"})
    void rejectsLyingHeaders(String dict, int dataBytes, String message, @TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("lying.npy"), npy(dict, dataBytes));
        String m = assertThrows(Npy.NpyFormatException.class, () -> Npy.read(file)).getMessage();
        assertTrue(m.contains(message), m);
    }

    @Test
    void rejectsAHeaderLongerThanTheFileWithoutReadingPastIt(@TempDir Path dir) throws IOException {
        byte[] bytes = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8);
        bytes[8] = (byte) 0xff; // header length 65535 + low byte: far past the end
        bytes[9] = (byte) 0x7f;
        Path file = Files.write(dir.resolve("long_header.npy"), bytes);
        String m = assertThrows(Npy.NpyFormatException.class, () -> Npy.read(file)).getMessage();
        assertTrue(m.contains("truncated header"), m);
    }

    @Test
    void refusesArraysOverTheCallersLimitBeforeAllocating(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("big.npy"), npy("{'descr': '<f4', 'fortran_order': False, 'shape': (256,), }", 1024));
        String m = assertThrows(Npy.NpyFormatException.class, () -> Npy.read(file, 1023)).getMessage();
        assertTrue(m.contains("more than the limit of 1023"), m);
        try (Tensor t = Npy.read(file, 1024)) {
            assertEquals(256, t.elementCount());
        }
    }
}
