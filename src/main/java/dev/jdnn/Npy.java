package dev.jdnn;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy {@code .npy} files holding little-endian float32 in C order, the format
 * {@code numpy.save} writes for a {@code float32} array (and float16, int64, int32, int8, uint8, bool). Any other dtype, Fortran order or a
 * malformed header is an {@link NpyFormatException} that says what the file holds.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    /** Thrown for a file (or bytes) that is not a {@code .npy} of a supported type in C order. */
    public static final class NpyFormatException extends IOException {
        NpyFormatException(Path file, String problem) {
            this(String.valueOf(file), problem);
        }

        NpyFormatException(String source, String problem) {
            super(source + ": " + problem);
        }
    }

    /**
     * What a {@code .npy} header says: the element type, the shape, and where the data starts (C order,
     * little-endian, {@code elementCount(shape) × dtype.bytes()} bytes from {@code dataOffset} to the end).
     */
    public record Header(DataType dtype, long[] shape, long dataOffset) {}

    /** Reads {@code into.remaining()} bytes (or fewer at the end) starting at {@code position}. */
    private interface ByteSource {
        int read(ByteBuffer into, long position) throws IOException;
    }

    /**
     * Parses and checks the header of a {@code .npy} held in memory (a column of bytes, a network message),
     * including that the data after it has exactly the size the shape needs.
     *
     * @param source named in error messages
     * @throws NpyFormatException for anything but a C-order .npy of a type {@link #read} accepts, or truncated data
     */
    public static Header header(byte[] bytes, String source) throws NpyFormatException {
        try {
            return header(source, (into, position) -> {
                int n = (int) Math.max(0, Math.min(into.remaining(), bytes.length - position));
                into.put(bytes, (int) position, n);
                return n;
            }, bytes.length, DEFAULT_MAX_BYTES);
        } catch (NpyFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("reading an array cannot fail", e);
        }
    }

    /**
     * Reads a C-order array into a new tensor (owned by the caller): little-endian float32, float16, int64,
     * int32, int8, uint8 or bool.
     */
    public static Tensor read(Path file) throws IOException {
        return read(file, DEFAULT_MAX_BYTES);
    }

    /** The data size {@link #read(Path)} accepts: 4 GiB. */
    public static final long DEFAULT_MAX_BYTES = 4L << 30;

    /**
     * Like {@link #read(Path)}, refusing (before allocating anything) an array whose data exceeds
     * {@code maxBytes}. A truncated file, a header whose shape does not match the file's size, a shape
     * whose element count overflows or a header past the end of the file is an {@link NpyFormatException};
     * nothing is read beyond the file's end.
     */
    public static Tensor read(Path file, long maxBytes) throws IOException {
        if (maxBytes < 0) throw new IllegalArgumentException("maxBytes must be >= 0, got " + maxBytes);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Header header = header(file.toString(), channel::read, channel.size(), maxBytes);
            long bytes = channel.size() - header.dataOffset();
            Tensor tensor = Tensor.zeros(header.dtype(), header.shape());
            if (bytes > 0) {
                try (Arena mapping = Arena.ofConfined()) {
                    MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, header.dataOffset(), bytes, mapping);
                    MemorySegment.copy(mapped, 0, tensor.segment(), 0, bytes);
                }
            }
            return tensor;
        }
    }

    /** Parses and checks the header: nothing is read past {@code size}, data over {@code maxBytes} is refused. */
    private static Header header(String source, ByteSource in, long size, long maxBytes) throws IOException {
        ByteBuffer prefix = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        in.read(prefix, 0);
        prefix.flip();
        if (prefix.remaining() < 10) throw new NpyFormatException(source, "too short for a .npy file");
        for (byte b : MAGIC) {
            if (prefix.get() != b) throw new NpyFormatException(source, "not a .npy file (bad magic)");
        }
        int major = prefix.get() & 0xff;
        prefix.get(); // minor
        long headerLength;
        int headerStart;
        if (major == 1) {
            headerLength = prefix.getShort() & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (prefix.remaining() < 4) throw new NpyFormatException(source, "truncated header");
            headerLength = prefix.getInt() & 0xffffffffL;
            headerStart = 12;
        } else {
            throw new NpyFormatException(source, "unsupported .npy format version " + major);
        }
        if (headerLength > 1 << 20) throw new NpyFormatException(source, "header of " + headerLength + " bytes is implausible");
        if (headerStart + headerLength > size) {
            throw new NpyFormatException(source, "truncated header: " + headerLength + " bytes announced, the file has " + (size - headerStart));
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        in.read(headerBytes, headerStart);
        if (headerBytes.hasRemaining()) throw new NpyFormatException(source, "truncated header");
        String header = new String(headerBytes.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

        String descr = find(source, DESCR, header, "descr");
        DataType dtype = DataType.fromNpy(descr);
        if (dtype == null) {
            throw new NpyFormatException(source, "dtype " + descr + " is not supported; jdnn reads little-endian float32 ('<f4'), "
                    + "float16 ('<f2'), int64 ('<i8'), int32 ('<i4'), int8, uint8 and bool: save with array.astype(numpy.float32)");
        }
        if (find(source, FORTRAN, header, "fortran_order").equals("True")) {
            throw new NpyFormatException(source, "Fortran-order arrays are not supported; save numpy.ascontiguousarray(array)");
        }
        long[] shape = parseShape(source, find(source, SHAPE, header, "shape"));

        long dataStart = headerStart + headerLength;
        long bytes;
        try {
            bytes = Math.multiplyExact(Tensor.elementCount(shape), (long) dtype.bytes());
        } catch (ArithmeticException overflow) {
            throw new NpyFormatException(source, "shape " + Tensor.format(shape) + " has more bytes than a long can count");
        }
        if (bytes > maxBytes) {
            throw new NpyFormatException(source, "shape " + Tensor.format(shape) + " needs " + bytes + " bytes of data, more than the limit of " + maxBytes);
        }
        if (size - dataStart != bytes) {
            throw new NpyFormatException(source, "shape " + Tensor.format(shape) + " needs " + bytes
                    + " bytes of data, file has " + (size - dataStart));
        }
        return new Header(dtype, shape, dataStart);
    }

    /** Writes a tensor as a version 1.0 {@code .npy} file, little-endian in C order, of the tensor's element type. */
    public static void write(Path file, Tensor tensor) throws IOException {
        long[] shape = tensor.shape();
        StringBuilder dims = new StringBuilder();
        for (long d : shape) dims.append(d).append(", ");
        String shapeText = shape.length == 1 ? "(" + shape[0] + ",)"
                : "(" + (shape.length == 0 ? "" : dims.substring(0, dims.length() - 2)) + ")";
        String dict = "{'descr': '" + tensor.dtype().npyDescr() + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        // magic(6) + version(2) + length(2) + dict + padding + '\n' is a multiple of 64, as numpy writes it.
        int unpadded = 10 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        ByteBuffer prefix = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        prefix.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(prefix.array());
            out.write(header.getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = new byte[1 << 16];
            MemorySegment data = tensor.segment();
            for (long offset = 0; offset < data.byteSize(); offset += chunk.length) {
                int length = (int) Math.min(chunk.length, data.byteSize() - offset);
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, offset, chunk, 0, length);
                out.write(chunk, 0, length);
            }
        }
    }

    private static String find(String source, Pattern pattern, String header, String key) throws NpyFormatException {
        Matcher m = pattern.matcher(header);
        if (!m.find()) throw new NpyFormatException(source, "header has no '" + key + "': " + header.strip());
        return m.group(1);
    }

    private static long[] parseShape(String source, String text) throws NpyFormatException {
        List<Long> dims = new ArrayList<>();
        for (String part : text.split(",")) {
            String trimmed = part.strip();
            if (trimmed.isEmpty()) continue;
            try {
                long d = Long.parseLong(trimmed.endsWith("L") ? trimmed.substring(0, trimmed.length() - 1) : trimmed);
                if (d < 0) throw new NumberFormatException();
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new NpyFormatException(source, "bad shape (" + text + ")");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }
}
