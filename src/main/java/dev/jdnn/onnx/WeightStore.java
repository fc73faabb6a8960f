package dev.jdnn.onnx;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a model's weights live: the model file and its external data files mapped read-only
 * ({@link FileChannel#map} into one shared {@link Arena}), so each weight is held once, by the OS page
 * cache, never on the Java heap. A float32 tensor whose bytes are 4-byte aligned in its file is a
 * read-only view of the mapping; an unaligned one (protobuf puts raw_data wherever the preceding
 * fields end) is copied once into 64-byte aligned native memory owned by this store, when first read
 * (compiled convolutions read their weights in place and never ask: {@link Tensor#lazy}).
 *
 * <p>Mapped pages count in the process's resident set once touched; {@link #unloadMapped()} gives them
 * back to the page cache (after a compiled plan has reordered the weights into its own buffers), and
 * a later read (the Java backend, node-by-node execution) faults them in again. {@link #close()} unmaps
 * and frees everything; tensors made here must not be used afterwards (their owner closes them first).
 */
public final class WeightStore implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final Map<Path, MemorySegment> mappings = new LinkedHashMap<>();
    private long viewedBytes;   // float32 weights read in place from a mapping
    private long unalignedBytes; // float32 weights unaligned in their file: read in place until something needs a copy
    private long copiedBytes;   // float32 weights copied into aligned native memory
    private boolean closed;

    /** Maps {@code file} read-only (once per file). */
    synchronized MemorySegment map(Path file) {
        ensureOpen();
        MemorySegment m = mappings.get(file);
        if (m != null) return m;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            m = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        } catch (NoSuchFileException e) {
            throw new OnnxFormatException("file " + file + " does not exist");
        } catch (IOException e) {
            throw new OnnxFormatException("cannot map " + file + ": " + e.getMessage(), e);
        }
        mappings.put(file, m);
        return m;
    }

    /**
     * A float32 tensor of {@code shape} over little-endian {@code bytes} (a slice of a mapping): a read-only
     * view when aligned, else a {@link Tensor#lazy} one whose aligned copy is made here on its first read (a
     * compiled plan reads conv weights in place and never asks); on a big-endian machine, a copy now.
     */
    synchronized Tensor floats(MemorySegment bytes, long[] shape) {
        ensureOpen();
        boolean littleEndian = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
        if (bytes.isNative() && littleEndian) {
            if (bytes.address() % Float.BYTES == 0) {
                viewedBytes += bytes.byteSize();
                return Tensor.wrap(bytes.asReadOnly(), shape);
            }
            unalignedBytes += bytes.byteSize();
            return Tensor.lazy(bytes, () -> copy(bytes), shape);
        }
        return Tensor.wrap(copy(bytes), DataType.FLOAT, shape);
    }

    /**
     * {@code count} float32 values made from a float16 weight ({@code widen} fills them), in aligned native memory
     * owned by this store and counted as copied: float16 models are computed in float32.
     */
    synchronized Tensor widened(long[] shape, long count, java.util.function.Consumer<MemorySegment> widen) {
        ensureOpen();
        long bytes = count * Float.BYTES;
        MemorySegment floats = arena.allocate(Math.max(Float.BYTES, bytes), Tensor.ALIGNMENT).asSlice(0, bytes);
        widen.accept(floats);
        copiedBytes += bytes;
        return Tensor.wrap(floats, DataType.FLOAT, shape);
    }

    /** An aligned native copy of little-endian float {@code bytes}, owned by this store. */
    private synchronized MemorySegment copy(MemorySegment bytes) {
        ensureOpen();
        MemorySegment copy = arena.allocate(Math.max(Float.BYTES, bytes.byteSize()), Tensor.ALIGNMENT).asSlice(0, bytes.byteSize());
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            MemorySegment.copy(bytes, 0, copy, 0, bytes.byteSize());
        } else {
            ValueLayout.OfFloat little = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < bytes.byteSize() / Float.BYTES; i++) copy.setAtIndex(ValueLayout.JAVA_FLOAT, i, bytes.getAtIndex(little, i));
        }
        copiedBytes += bytes.byteSize();
        return copy;
    }

    /** Float32 weight bytes that live in mapped files (resident only while touched; see {@link #unloadMapped}), aligned or not. */
    public synchronized long mappedWeightBytes() {
        return viewedBytes + unalignedBytes;
    }

    /** Float32 weight bytes unaligned in their file (read in place by compiled convolutions, copied when something else reads them). */
    public synchronized long unalignedWeightBytes() {
        return unalignedBytes;
    }

    /** Float32 weight bytes copied into native memory so far (unaligned in their file, and read by something; float16 weights widened). */
    public synchronized long copiedWeightBytes() {
        return copiedBytes;
    }

    /** Total size of the mapped files (model and external data). */
    public synchronized long mappedFileBytes() {
        return mappings.values().stream().mapToLong(MemorySegment::byteSize).sum();
    }

    /**
     * Drops the mapped pages from this process's resident set (madvise DONTNEED on a read-only file
     * mapping: the pages stay in the page cache and come back on the next read). Called once a compiled
     * plan holds its own reordered copies of the weights.
     */
    public synchronized void unloadMapped() {
        if (closed) return;
        mappings.values().forEach(MemorySegment::unload);
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("weights are closed");
    }

    /** Unmaps the files and frees the copies; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        mappings.clear();
        arena.close();
    }
}
