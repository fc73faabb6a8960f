package dev.jdnn.dnnl;

import java.io.BufferedReader;
import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Gives back to the page cache the pages of oneDNN's shared library that this process has mapped but no longer reads.
 *
 * <p>{@code libdnnl.so.3} is 93 MB, 15 MB of which are symbol tables (C++ names) that the dynamic linker reads
 * in full when it loads the library (it is linked {@code BIND_NOW}: every symbol is resolved then). Its
 * static initialisers and the code that picks and generates a kernel while a primitive is created touch
 * another 12–25 MB of code. Linux maps a file's pages up to 64 KB at a time around each access, and all of them
 * count in the process's resident set until it ends, though a running plan reads few of them again (its
 * kernels are generated code, not in the file): about 30 MB of a small model's peak RSS.
 *
 * <p>{@link #release()} calls {@code madvise(MADV_DONTNEED)} on the library's mappings that are views of the
 * file: not writable, and outside every writable {@code PT_LOAD} segment of the ELF file (so never the
 * relocated, write-protected {@code RELRO} data the dynamic linker wrote: its pages are private copies). For
 * such a mapping dropping its pages loses nothing: a page read again is mapped back from the page cache by a
 * minor fault (no disk read, microseconds). A library with text relocations (none on x86-64 in practice) is
 * left alone, and so is every system without {@code /proc/self/maps} (not Linux). The mappings are found once
 * per JVM (the library is never unloaded); each later call is a few {@code madvise} calls.
 *
 * <p>Off with {@code -Djdnn.releaseLibraryPages=false}.
 */
public final class LibraryPages {
    static final String PROPERTY = "jdnn.releaseLibraryPages";
    private static final int MADV_DONTNEED = 4;

    private static List<Range> droppable;   // of the loaded library, found on the first release

    private LibraryPages() {}

    /** Virtual addresses {@code [start, end)} of one mapping. */
    record Range(long start, long end) {}

    /**
     * Drops the clean read-only pages of the loaded oneDNN library from this process's resident set; does
     * nothing before the library is loaded, when switched off, or where it cannot tell which pages are clean.
     */
    public static void release() {
        Path library = NativeLibrary.loadedPath();
        if (library == null || !Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) return;
        List<Range> ranges;
        synchronized (LibraryPages.class) {
            if (droppable == null) {
                try {
                    Path real = library.toRealPath();
                    droppable = droppableRanges(real, Path.of("/proc/self/maps"));
                } catch (IOException | RuntimeException e) {
                    droppable = List.of();   // not Linux, or an unexpected format: keep the pages
                }
            }
            ranges = droppable;
        }
        for (Range r : ranges) {
            try {
                int status = (int) Madvise.HANDLE.invokeExact(MemorySegment.ofAddress(r.start()), r.end() - r.start(), MADV_DONTNEED);
                if (status != 0) return;
            } catch (Throwable e) {
                return;
            }
        }
    }

    /**
     * The mappings of {@code library} listed in {@code maps} (lines {@code start-end perms offset dev inode path})
     * whose pages are all views of the file: read-only, and mapping no part of a writable segment.
     */
    static List<Range> droppableRanges(Path library, Path maps) throws IOException {
        List<long[]> writable = writableFileRanges(library);
        if (writable == null) return List.of();
        String file = library.toString();
        List<Range> found = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(maps)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.endsWith(file) || line.charAt(line.length() - file.length() - 1) != ' ') continue;
                String[] f = line.split("\\s+", 6);
                if (f[1].charAt(1) == 'w' || f[1].charAt(3) != 'p') continue;
                String[] range = f[0].split("-");
                long start = Long.parseUnsignedLong(range[0], 16), end = Long.parseUnsignedLong(range[1], 16);
                long offset = Long.parseUnsignedLong(f[2], 16);
                boolean overlaps = false;
                for (long[] w : writable) overlaps |= offset < w[1] && w[0] < offset + (end - start);
                if (!overlaps) found.add(new Range(start, end));
            }
        }
        return found;
    }

    /**
     * File offsets {@code [from, to)} (page-aligned) of the ELF file's writable {@code PT_LOAD} segments, or null
     * when its mappings cannot be trusted to be clean: not a 64-bit little-endian ELF file, or text relocations.
     */
    static List<long[]> writableFileRanges(Path elf) throws IOException {
        final int ptLoad = 1, ptDynamic = 2, pfW = 2, dtNull = 0, dtTextrel = 22, dtFlags = 30, dfTextrel = 4;
        try (FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ)) {
            ByteBuffer header = read(ch, 0, 64);
            if (header.getInt(0) != 0x464c457f || header.get(4) != 2 || header.get(5) != 1) return null;   // \x7fELF, 64-bit, little-endian
            long phoff = header.getLong(32);
            int phentsize = Short.toUnsignedInt(header.getShort(54)), phnum = Short.toUnsignedInt(header.getShort(56));
            if (phentsize < 56 || phnum == 0 || phnum > 256) return null;
            ByteBuffer ph = read(ch, phoff, phentsize * phnum);
            List<long[]> writable = new ArrayList<>();
            for (int i = 0; i < phnum; i++) {
                int at = i * phentsize;
                int type = ph.getInt(at), flags = ph.getInt(at + 4);
                long offset = ph.getLong(at + 8), fileSize = ph.getLong(at + 32);
                if (type == ptLoad && (flags & pfW) != 0) writable.add(new long[] {offset & ~4095L, (offset + fileSize + 4095) & ~4095L});
                if (type == ptDynamic) {
                    if (fileSize > 1 << 20) return null;
                    ByteBuffer dyn = read(ch, offset, (int) fileSize);
                    for (int d = 0; d + 16 <= fileSize; d += 16) {
                        long tag = dyn.getLong(d), value = dyn.getLong(d + 8);
                        if (tag == dtNull) break;
                        if (tag == dtTextrel || (tag == dtFlags && (value & dfTextrel) != 0)) return null;
                    }
                }
            }
            return writable;
        }
    }

    private static ByteBuffer read(FileChannel ch, long position, int bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            if (ch.read(buffer, position + buffer.position()) < 0) throw new IOException("ELF file ends inside its headers");
        }
        return buffer;
    }

    /** {@code int madvise(void *addr, size_t length, int advice)} from the C library. */
    private static final class Madvise {
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("madvise").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    }
}
