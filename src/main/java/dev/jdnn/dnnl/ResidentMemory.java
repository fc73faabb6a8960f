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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Gives back to the operating system memory this process has resident but will not read again soon: the pages of
 * oneDNN's shared library that loading it and preparing plans touched, and native heap that preparing freed.
 *
 * <p><b>Library pages.</b> {@code libdnnl.so.3} is 93 MB, 15 MB of which are symbol tables (C++ names) that the
 * dynamic linker reads in full when it loads the library (it is linked {@code BIND_NOW}: every symbol is resolved
 * then). Its static initialisers and the code that picks and generates a kernel while a primitive is created touch
 * another 12–25 MB of code. Linux maps a file's pages up to 64 KB at a time around each access, and all of them
 * count in the process's resident set until it ends, though a running plan reads few of them (its kernels are
 * generated code, not in the file). {@link #releaseLibraryPages()} calls {@code madvise(MADV_DONTNEED)} on the
 * library's mappings that are views of the file: not writable, and outside every writable {@code PT_LOAD}
 * segment of the ELF file (so never the relocated, write-protected {@code RELRO} data the dynamic linker wrote:
 * its pages are private copies). Dropping such a mapping loses nothing: a page read again is mapped back from
 * the page cache by a minor fault (no disk read, microseconds). A library with text relocations (none on x86-64
 * in practice) is left alone. The mappings are found once per JVM (the library is never unloaded); each later
 * call is a few {@code madvise} calls.
 *
 * <p><b>Native heap.</b> Preparing a plan frees much of what it allocates natively (oneDNN's temporary
 * structures while it creates primitives, staging buffers, the JIT compilers' arenas as the JVM compiles the
 * preparing code), but glibc's allocator keeps freed memory inside its arenas, resident, unless it lies at the
 * top of one. {@link #trimNativeHeap()} calls glibc's {@code malloc_trim(0)}, which returns the free pages of
 * every arena (what the JVM's {@code -XX:TrimNativeHeapInterval} and {@code jcmd System.trim_native_heap} do).
 * Live allocations are untouched; without glibc (musl, macOS) nothing happens.
 *
 * <p>Both run when oneDNN is loaded (library pages), when a compiled plan is ready and every
 * {@value #PRIMITIVES_PER_RELEASE} primitives while plans are prepared, so that what preparing touches once does
 * not pile up into the process's peak. Off with {@code -Djdnn.releaseLibraryPages=false} and
 * {@code -Djdnn.trimNativeHeap=false}. On systems without {@code /proc/self/maps} (not Linux) nothing happens.
 */
public final class ResidentMemory {
    static final String LIBRARY_PROPERTY = "jdnn.releaseLibraryPages";
    static final String TRIM_PROPERTY = "jdnn.trimNativeHeap";
    /**
     * Primitives created between two releases while preparing: a plan of a small CNN creates 100–300; releasing
     * after every one would make each creation fault the same code back in, after every 32 costs ~5 ms per plan
     * in minor faults and keeps DenseNet-121's peak ~10 MB lower than releasing only when the plan is ready.
     */
    static final int PRIMITIVES_PER_RELEASE = 32;
    private static final int MADV_DONTNEED = 4;

    private static final AtomicInteger PRIMITIVES_CREATED = new AtomicInteger();
    private static List<Range> droppable;   // of the loaded library, found on the first release

    private ResidentMemory() {}

    /** Releases library pages and trims the native heap (both as switched on). */
    public static void release() {
        releaseLibraryPages();
        trimNativeHeap();
    }

    /** Counts a primitive created; every {@value #PRIMITIVES_PER_RELEASE}-th {@link #release()}s. */
    static void primitiveCreated() {
        if (PRIMITIVES_CREATED.incrementAndGet() % PRIMITIVES_PER_RELEASE == 0) release();
    }

    /** Returns glibc's free native heap pages to the operating system, unless switched off or not glibc. */
    public static void trimNativeHeap() {
        if (!Boolean.parseBoolean(System.getProperty(TRIM_PROPERTY, "true")) || MallocTrim.HANDLE == null) return;
        try {
            int released = (int) MallocTrim.HANDLE.invokeExact(0L);
        } catch (Throwable e) {
            // nothing was released; nothing else is affected
        }
    }

    /** Virtual addresses {@code [start, end)} of one mapping. */
    record Range(long start, long end) {}

    /**
     * Drops the clean read-only pages of the loaded oneDNN library from this process's resident set; does
     * nothing before the library is loaded, when switched off, or where it cannot tell which pages are clean.
     */
    public static void releaseLibraryPages() {
        Path library = NativeLibrary.loadedPath();
        if (library == null || !Boolean.parseBoolean(System.getProperty(LIBRARY_PROPERTY, "true"))) return;
        List<Range> ranges;
        synchronized (ResidentMemory.class) {
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

    /** {@code int malloc_trim(size_t pad)} from glibc, or null (another C library). */
    private static final class MallocTrim {
        static final MethodHandle HANDLE = Linker.nativeLinker().defaultLookup().find("malloc_trim")
                .map(f -> Linker.nativeLinker().downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)))
                .orElse(null);
    }

    /** {@code int madvise(void *addr, size_t length, int advice)} from the C library. */
    private static final class Madvise {
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("madvise").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    }
}
