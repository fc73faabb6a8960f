package dev.jdnn.dnnl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Finds and loads oneDNN ({@code libdnnl.so.3}) once per JVM.
 *
 * <p>By default the library and its OpenMP runtime ({@code libgomp.so.1}, found through the
 * library's RUNPATH {@code $ORIGIN}) are extracted from the {@code org.bytedeco:dnnl} jar on the
 * class path into a per-version cache directory. Extraction writes a temp file and renames it
 * atomically, so two JVMs starting at once never see a half-written library.
 *
 * <p>Overrides, in order: system property {@value #LIBRARY_PROPERTY}, then environment variable
 * {@value #LIBRARY_ENV}: the path of another {@code libdnnl.so.3}. The cache directory is
 * {@value #CACHE_PROPERTY}, else {@code $XDG_CACHE_HOME/jdnn}, else {@code ~/.cache/jdnn}.
 */
public final class NativeLibrary {
    public static final String LIBRARY_PROPERTY = "jdnn.dnnl.library";
    public static final String LIBRARY_ENV = "JDNN_DNNL_LIBRARY";
    public static final String CACHE_PROPERTY = "jdnn.cache.dir";

    /** The bytedeco artifact version the runtime jar bundles; it names the cache directory. */
    static final String BUNDLED_VERSION = "3.13-1.5.14";
    /** Platforms for which a oneDNN jar is on jdnn's class path. */
    static final List<String> BUNDLED_PLATFORMS = List.of("linux-x86_64");
    /** In load order: the OpenMP runtime first, so the rename of libdnnl never precedes its dependency. */
    static final List<String> BUNDLED_FILES = List.of("libgomp.so.1", "libdnnl.so.3");

    private static Path loaded;
    private static RuntimeException failure;

    private NativeLibrary() {}

    /** Loads oneDNN if not yet loaded and returns the file that was loaded; throws the same error every time if it cannot. */
    public static synchronized Path load() {
        if (loaded != null) return loaded;
        if (failure != null) throw failure;
        try {
            Path path = locate(configuredOverride(), platform(), cacheDirectory());
            System.load(path.toString());
            loaded = path;
            ResidentMemory.releaseLibraryPages();   // the symbol tables and static initialisers loading read are not needed again
            return path;
        } catch (NativeLibraryException e) {
            failure = e;
            throw e;
        } catch (UnsatisfiedLinkError | UncheckedIOException e) {
            failure = new NativeLibraryException("could not load oneDNN: " + e.getMessage()
                    + ". The Java backend (Backend.JAVA) still works.", e);
            throw failure;
        }
    }

    /** True if oneDNN is (or can be) loaded in this JVM. Never throws. */
    public static boolean isAvailable() {
        try {
            load();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The loaded library file, or null before a successful {@link #load()}. */
    public static synchronized Path loadedPath() {
        return loaded;
    }

    /** The override path a user configured, or null. */
    static String configuredOverride() {
        String property = System.getProperty(LIBRARY_PROPERTY);
        if (property != null && !property.isBlank()) return property;
        String env = System.getenv(LIBRARY_ENV);
        return env == null || env.isBlank() ? null : env;
    }

    /** This JVM's platform in bytedeco's naming, e.g. {@code linux-x86_64}. */
    static String platform() {
        String os = System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT);
        String osName = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macosx"
                : os.startsWith("windows") ? "windows" : os.replace(' ', '_');
        String archName = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm64";
            default -> arch;
        };
        return osName + "-" + archName;
    }

    static Path cacheDirectory() {
        String configured = System.getProperty(CACHE_PROPERTY);
        Path base;
        if (configured != null && !configured.isBlank()) {
            base = Path.of(configured);
        } else if (System.getenv("XDG_CACHE_HOME") != null && !System.getenv("XDG_CACHE_HOME").isBlank()) {
            base = Path.of(System.getenv("XDG_CACHE_HOME"), "jdnn");
        } else {
            base = Path.of(System.getProperty("user.home"), ".cache", "jdnn");
        }
        return base;
    }

    /**
     * Decides which file to load, extracting the bundled library if needed. Pure apart from the
     * extraction, so that the override and failure paths can be tested without loading anything.
     */
    static Path locate(String override, String platform, Path cacheBase) {
        if (override != null) {
            Path path = Path.of(override).toAbsolutePath();
            if (!Files.isRegularFile(path)) {
                throw new NativeLibraryException("oneDNN override " + path + " (from -D" + LIBRARY_PROPERTY
                        + " or $" + LIBRARY_ENV + ") is not a file; point it at a libdnnl.so.3, or unset it to use the bundled oneDNN");
            }
            return path;
        }
        if (!BUNDLED_PLATFORMS.contains(platform)
                || NativeLibrary.class.getClassLoader().getResource(resourceName(platform, "libdnnl.so.3")) == null) {
            throw new NativeLibraryException("no oneDNN native library for detected platform " + platform
                    + " (jdnn bundles it for " + String.join(", ", BUNDLED_PLATFORMS)
                    + "); the Java backend (Backend.JAVA) still works, or set -D" + LIBRARY_PROPERTY
                    + "=/path/to/libdnnl.so.3");
        }
        Path dir = cacheBase.resolve("dnnl-" + BUNDLED_VERSION + "-" + platform);
        for (String file : BUNDLED_FILES) extract(resourceName(platform, file), dir.resolve(file));
        return dir.resolve("libdnnl.so.3");
    }

    static String resourceName(String platform, String file) {
        return "org/bytedeco/dnnl/" + platform + "/" + file;
    }

    /**
     * Copies a class-path resource to target unless a copy of the same size is already there
     * (the cache directory is per version, so the size is a sufficient check against a truncated file).
     */
    static void extract(String resource, Path target) {
        URL url = NativeLibrary.class.getClassLoader().getResource(resource);
        if (url == null) throw new NativeLibraryException("resource " + resource + " is missing from the class path");
        try {
            URLConnection connection = url.openConnection();
            long expected = connection.getContentLengthLong();
            if (expected >= 0 && Files.isRegularFile(target) && Files.size(target) == expected) return;
            Files.createDirectories(target.getParent());
            Path temp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
            try (InputStream in = connection.getInputStream()) {
                Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw new NativeLibraryException("could not extract " + resource + " to " + target + ": " + e, e);
        }
    }
}
