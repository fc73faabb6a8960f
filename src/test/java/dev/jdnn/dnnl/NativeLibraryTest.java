package dev.jdnn.dnnl;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryTest {

    @Test
    void loadsBundledOneDnnAndReportsAvx2OnThisMachine() {
        Path path = NativeLibrary.load();
        assertTrue(Files.isRegularFile(path), path.toString());
        assertTrue(Files.isRegularFile(path.resolveSibling("libgomp.so.1")), "libgomp sits beside libdnnl for RUNPATH $ORIGIN");
        assertTrue(Dnnl.version().startsWith("3.13."), Dnnl.version());
        boolean hostHasAvx2;
        try {
            hostHasAvx2 = Files.readString(Path.of("/proc/cpuinfo")).contains(" avx2");
        } catch (java.io.IOException e) {
            hostHasAvx2 = false;
        }
        // The machines differ between sessions (Zen 2: AVX2; Zen 4: AVX-512): AVX2 or better.
        if (hostHasAvx2) assertTrue(Dnnl.effectiveIsa().contains("avx2") || Dnnl.effectiveIsa().contains("avx512"), Dnnl.effectiveIsa());
    }

    @Test
    void overrideThatIsNotAFileNamesThePathAndTheSetting() {
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> NativeLibrary.locate("/nonexistent/libdnnl.so.3", "linux-x86_64", Path.of("/tmp")));
        assertTrue(e.getMessage().contains("/nonexistent/libdnnl.so.3"), e.getMessage());
        assertTrue(e.getMessage().contains(NativeLibrary.LIBRARY_PROPERTY), e.getMessage());
    }

    @Test
    void overrideThatIsAFileIsChosenWithoutExtracting(@TempDir Path cache) {
        Path bundled = NativeLibrary.load();
        assertEquals(bundled, NativeLibrary.locate(bundled.toString(), "linux-x86_64", cache));
        assertFalse(Files.exists(cache.resolve("dnnl-" + NativeLibrary.BUNDLED_VERSION + "-linux-x86_64")));
    }

    @Test
    void unsupportedPlatformSaysWhichAndThatJavaBackendWorks() {
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> NativeLibrary.locate(null, "macosx-arm64", Path.of("/tmp")));
        assertTrue(e.getMessage().contains("macosx-arm64"), e.getMessage());
        assertTrue(e.getMessage().contains("Java backend"), e.getMessage());
    }

    @Test
    void concurrentExtractionIntoOneCacheIsSafe(@TempDir Path cache) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Path>> results = new ArrayList<>();
            Callable<Path> extract = () -> NativeLibrary.locate(null, "linux-x86_64", cache);
            for (int i = 0; i < 4; i++) results.add(pool.submit(extract));
            Path expected = NativeLibrary.load();
            for (Future<Path> f : results) {
                Path p = f.get();
                assertEquals(Files.size(expected), Files.size(p));
                assertEquals(-1L, Files.mismatch(expected, p), "extracted library is complete and identical");
            }
            try (var files = Files.list(results.get(0).get().getParent())) {
                assertTrue(files.noneMatch(f -> f.toString().endsWith(".part")), "no temp files left behind");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** native/dnnl.version, the pom, the loader and the bindings' stamp must all name the same oneDNN. */
    @Test
    void oneDnnVersionIsPinnedConsistently() throws java.io.IOException {
        String pinned = Files.readAllLines(Path.of("native/dnnl.version")).stream()
                .filter(l -> l.startsWith("DNNL_ARTIFACT_VERSION=")).findFirst().orElseThrow().split("=", 2)[1];
        assertEquals(pinned, NativeLibrary.BUNDLED_VERSION);
        assertTrue(Files.readString(Path.of("pom.xml")).contains("<dnnl.version>" + pinned + "</dnnl.version>"));
        String stamp = Files.readAllLines(Path.of("bindings/dev/jdnn/bindings/dnnl_h.java")).get(0);
        assertTrue(stamp.contains("org.bytedeco:dnnl:" + pinned + ":"), stamp);
    }

    @Test
    void platformNaming() {
        assertEquals("linux-x86_64", NativeLibrary.platform()); // this project's machines
    }

    @Test
    void threadsCanBeSetPerCallingThread() {
        int before = Dnnl.threads();
        try {
            Dnnl.setThreads(1);
            assertEquals(1, Dnnl.threads());
            assertThrows(IllegalArgumentException.class, () -> Dnnl.setThreads(0));
        } finally {
            Dnnl.setThreads(before);
        }
    }
}
