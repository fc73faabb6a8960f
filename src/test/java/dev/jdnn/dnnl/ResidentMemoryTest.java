package dev.jdnn.dnnl;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Tensor;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import dev.jdnn.ops.conv.ReferenceConv2d;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResidentMemoryTest {
    private static final long[] INPUT = {1, 8, 12, 12};

    @Test
    void onlyReadOnlyPrivateMappingsOutsideWritableSegmentsMayBeDropped(@TempDir Path dir) throws IOException {
        // Read-only LOAD at file offsets [0, 0x3000), writable LOAD at [0x3000, 0x3400) whose first page the
        // dynamic linker write-protects after relocating it (RELRO).
        Path lib = dir.resolve("libx.so");
        Files.write(lib, elf(List.of(new long[] {1, 4, 0, 0x3000}, new long[] {1, 6, 0x3000, 0x400}), List.of()));
        String path = lib.toString();
        Path maps = dir.resolve("maps");
        Files.writeString(maps, String.join("\n",
                "7f0000000000-7f0000001000 r--p 00000000 fe:00 16 " + path,
                "7f0000001000-7f0000003000 r-xp 00001000 fe:00 16 " + path,
                "7f0000003000-7f0000004000 r--p 00003000 fe:00 16 " + path,    // RELRO
                "7f0000004000-7f0000005000 rw-p 00004000 fe:00 16 " + path,
                "7f0000006000-7f0000007000 r--s 00000000 fe:00 16 " + path,    // shared: not ours to drop
                "7f0000008000-7f0000009000 r-xp 00000000 fe:00 17 " + path + ".old",
                "7f000000a000-7f000000b000 r-xp 00000000 fe:00 18 /other" + path,
                "7f000000c000-7f000000d000 rw-p 00000000 00:00 0 ", ""));
        assertEquals(List.of(new ResidentMemory.Range(0x7f0000000000L, 0x7f0000001000L), new ResidentMemory.Range(0x7f0000001000L, 0x7f0000003000L)),
                ResidentMemory.droppableRanges(lib, maps));
    }

    @Test
    void aLibraryWithTextRelocationsOrThatIsNotElfIsLeftAlone(@TempDir Path dir) throws IOException {
        Path textrel = dir.resolve("textrel.so"), flags = dir.resolve("flags.so"), clean = dir.resolve("clean.so"), notElf = dir.resolve("not.so");
        List<long[]> segments = List.of(new long[] {1, 5, 0, 0x1000}, new long[] {1, 6, 0x1000, 0x40}, new long[] {2, 6, 0x1000, 0x40});
        Files.write(textrel, elf(segments, List.of(new long[] {22, 0})));         // DT_TEXTREL
        Files.write(flags, elf(segments, List.of(new long[] {30, 4 | 8})));       // DT_FLAGS with DF_TEXTREL
        Files.write(clean, elf(segments, List.of(new long[] {30, 8})));           // DT_FLAGS: BIND_NOW only
        Files.write(notElf, new byte[256]);
        assertNull(ResidentMemory.writableFileRanges(textrel));
        assertNull(ResidentMemory.writableFileRanges(flags));
        assertNull(ResidentMemory.writableFileRanges(notElf));
        List<long[]> writable = ResidentMemory.writableFileRanges(clean);
        assertEquals(1, writable.size());
        assertArrayEquals(new long[] {0x1000, 0x2000}, writable.get(0));
    }

    @Test
    void releasedPagesLeaveTheResidentSetAndOneDnnStillComputesTheSame() throws Exception {
        Path smaps = Path.of("/proc/self/smaps");
        Assumptions.assumeTrue(Files.isReadable(smaps), "needs /proc/self/smaps (Linux)");
        Path library = NativeLibrary.load().toRealPath();
        Random random = new Random(17);
        float[] x = new float[8 * 12 * 12], w = new float[16 * 8 * 9], b = new float[16];
        for (float[] a : new float[][] {x, w, b}) for (int i = 0; i < a.length; i++) a[i] = random.nextFloat() - 0.5f;
        Conv2d conv = new Conv2d(Conv2dParams.of(8, 16, 3, 3).withPadding(1, 1), w, b);
        float[] expected;
        try (Tensor in = Tensor.of(x, INPUT); Tensor out = Tensor.zeros(1, 16, 12, 12)) {
            ReferenceConv2d.run(conv, in, out);
            expected = out.toArray();
        }

        float[] before = convolve(conv, x);   // oneDNN's code pages in use
        List<ResidentMemory.Range> droppable = ResidentMemory.droppableRanges(library, Path.of("/proc/self/maps"));
        assertFalse(droppable.isEmpty(), "libdnnl's symbol tables and code are read-only views of the file");
        Map<Long, long[]> residentBefore = residentKb(library, smaps);
        long droppableBefore = droppable.stream().mapToLong(r -> residentBefore.get(r.start())[0]).sum();
        assertTrue(droppableBefore > 1024, "oneDNN's read-only mappings hold pages after a primitive ran: " + droppableBefore + " kB");

        ResidentMemory.releaseLibraryPages();
        Map<Long, long[]> residentAfter = residentKb(library, smaps);
        long droppableAfter = droppable.stream().mapToLong(r -> residentAfter.get(r.start())[0]).sum();
        assertTrue(droppableAfter < droppableBefore / 4, "still resident: " + droppableAfter + " of " + droppableBefore + " kB");
        residentBefore.forEach((start, kb) -> {
            if (kb[1] > 0) assertArrayEquals(kb, residentAfter.get(start), "a mapping with private (relocated) pages is never dropped");
        });

        // Pages are read back from the page cache when needed: the same kernels, the same results.
        assertArrayEquals(before, convolve(conv, x));
        assertArrayEquals(expected, before, 1e-4f);
    }

    @Test
    void trimmingReturnsFreedNativeHeapThatGlibcWouldKeep() throws Exception {
        Path status = Path.of("/proc/self/status");
        Assumptions.assumeTrue(Files.isReadable(status) && java.lang.foreign.Linker.nativeLinker().defaultLookup().find("malloc_trim").isPresent(),
                "needs Linux and glibc");
        // 64 MB in 64 KB blocks (below glibc's mmap threshold: served from an arena), every other one freed: each
        // freed block is a hole between two live ones, which free() alone keeps resident.
        long base = anonKb(status);
        java.lang.foreign.Arena freed = java.lang.foreign.Arena.ofConfined(), kept = java.lang.foreign.Arena.ofConfined();
        for (int i = 0; i < 512; i++) {
            freed.allocate(64 << 10).fill((byte) 1);
            kept.allocate(64 << 10).fill((byte) 1);
        }
        long allocated = anonKb(status);
        freed.close();
        long before = anonKb(status);
        ResidentMemory.trimNativeHeap();
        long after = anonKb(status);
        kept.close();
        assertTrue(before - after > 16 << 10, "anonymous memory " + base + " kB, " + allocated + " kB with the blocks, " + before + " kB freed, before trimming, " + after + " kB after");
    }

    private static long anonKb(Path status) throws IOException {
        return Files.readAllLines(status).stream().filter(l -> l.startsWith("RssAnon:")).mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElseThrow();
    }

    /** Per mapping of {@code library} (by start address): {Rss, Anonymous} in kB, from smaps. */
    private static Map<Long, long[]> residentKb(Path library, Path smaps) throws IOException {
        Map<Long, long[]> found = new HashMap<>();
        long[] current = null;
        for (String line : Files.readAllLines(smaps)) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                current = line.endsWith(" " + library) ? new long[2] : null;
                if (current != null) found.put(Long.parseUnsignedLong(line.substring(0, line.indexOf('-')), 16), current);
            } else if (current != null && line.startsWith("Rss:")) {
                current[0] = Long.parseLong(line.replaceAll("\\D", ""));
            } else if (current != null && line.startsWith("Anonymous:")) {
                current[1] = Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return found;
    }

    private static float[] convolve(Conv2d conv, float[] x) {
        try (NativeConv2d compiled = new NativeConv2d(conv, INPUT, NativeConv2d.PostOps.NONE);
             Tensor in = Tensor.of(x, INPUT); Tensor out = Tensor.zeros(1, 16, 12, 12)) {
            compiled.run(in, null, out);
            return out.toArray();
        }
    }

    /**
     * A minimal 64-bit little-endian ELF file: the header, program headers {type, flags, offset, file size} and, if
     * a {@code PT_DYNAMIC} header is given, the dynamic entries {tag, value} at its offset (then DT_NULL).
     */
    private static byte[] elf(List<long[]> segments, List<long[]> dynamic) {
        ByteBuffer b = ByteBuffer.allocate(0x3400).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        b.putShort(16, (short) 3).putShort(18, (short) 62).putLong(32, 64).putShort(52, (short) 64);
        b.putShort(54, (short) 56).putShort(56, (short) segments.size());
        for (int i = 0; i < segments.size(); i++) {
            long[] s = segments.get(i);
            int at = 64 + i * 56;
            b.putInt(at, (int) s[0]).putInt(at + 4, (int) s[1]).putLong(at + 8, s[2]).putLong(at + 16, s[2])
                    .putLong(at + 24, s[2]).putLong(at + 32, s[3]).putLong(at + 40, s[3]).putLong(at + 48, 0x1000);
            if (s[0] == 2) {
                for (int d = 0; d < dynamic.size(); d++) b.putLong((int) s[2] + 16 * d, dynamic.get(d)[0]).putLong((int) s[2] + 16 * d + 8, dynamic.get(d)[1]);
            }
        }
        return b.array();
    }
}
